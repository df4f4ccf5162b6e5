#!/usr/bin/env python3
"""Make a synthetic telephone-quality Mandarin speech set from hand-written call transcripts.

Run it with the TTS virtualenv (it needs numpy and soundfile, and imports say.py's text
normaliser); synthesis itself is done by benchmarks/tts/say.py in a subprocess
(--batch --telephone):

    benchmarks/tts/venv/bin/python benchmarks/data/speech/make_set.py \
        --out benchmarks/data/speech/dev --seed 20261123 --answers \
        --calls benchmarks/data/scoring/dev/calls/d001.json ...

Writes
  OUT/calls/<id>.wav    16-bit PCM stereo 8 kHz; channel 0 = agent, channel 1 = customer
  OUT/calls/<id>.json   reference transcript (CONTRACTS format) with the real speech times
  OUT/answers/*.wav     (--answers) short survey answers, mono 8 kHz 16-bit
  OUT/answers/index.json
  OUT/manifest.json     parameters, voices, per-call facts, TTS warnings

Answer clips only, with another text list and more voices (the calls and the rest of an existing
OUT/manifest.json are left alone; the answers' own seed and command go into its "answers" key):

    .venv/bin/python benchmarks/data/speech/make_set.py --answers-only \
        --out benchmarks/data/speech/holdout --seed 20261125 \
        --answer-list benchmarks/data/speech/holdout/answers/texts.json --answer-voices a,b,c

Layout rules (per call, random numbers from Random(f"{seed}:{call_id}") so a call's layout does
not depend on which other calls are in the list):
  * voices: the calls are taken in the order given; even positions agent=a/customer=b, odd
    positions agent=b/customer=a;
  * lead-in before the first utterance 0.5-1.0 s, tail after the last 0.5-1.0 s;
  * each utterance starts after the previous one's speech ends: gap 0.4-1.2 s on a change of
    speaker, 0.4-0.7 s when the same speaker goes on with the next segment;
  * overlap: a customer turn that follows an agent utterance of >= 2.5 s starts 0.2-0.4 s
    before the agent finishes, with probability 1/8;
  * white noise at --noise-dbfs (RMS, default -60 dBFS) on both channels, so silence is not
    digital zero.
Times in the JSON are where speech actually is in the file: the first/last 5 ms frame above
-45 dB re the clip's peak (the rule say.py trims with), rounded to 0.01 s.  "text" is the
source text exactly as written and given to the TTS; when say.py's normaliser rewrites it
(4S店 -> 4艾斯店, 10:30 -> 10点30分, …) the rewritten form is in the extra key "tts_text"
(rewrites of punctuation only, "," -> "，", are not recorded).

Synthesised clips are cached in --cache (keyed by text, voice and say.py's content), so a rerun
only mixes; the TTS acoustic model is deterministic (dropout disabled), so a rerun with a cold
cache gives the same audio.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

TTS_DIR = Path(__file__).resolve().parents[2] / "tts"  # benchmarks/tts: the TTS tool
SR = 8000
ANSWERS = [  # (text, answer_type, label)
    ("非常满意", "scale", "very_satisfied"),
    ("很满意", "scale", "very_satisfied"),
    ("满意", "scale", "satisfied"),
    ("挺满意的", "scale", "satisfied"),
    ("还不错", "scale", "satisfied"),
    ("一般", "scale", "neutral"),
    ("一般般", "scale", "neutral"),
    ("还行吧", "scale", "neutral"),
    ("马马虎虎", "scale", "neutral"),
    ("不满意", "scale", "dissatisfied"),
    ("不太满意", "scale", "dissatisfied"),
    ("很不满意", "scale", "dissatisfied"),
    ("是的", "yes_no", "yes"),
    ("对", "yes_no", "yes"),
    ("有的", "yes_no", "yes"),
    ("有", "yes_no", "yes"),
    ("没有", "yes_no", "no"),
    ("不是", "yes_no", "no"),
    ("没有啊", "yes_no", "no"),
    ("好像没有", "yes_no", "no"),
]
# out-of-set replies, label "none"; answer_type per voice (each text and each voice gets both)
NONE_ANSWERS = [
    ("你说什么", {"a": "scale", "b": "yes_no"}),
    ("我不知道", {"a": "yes_no", "b": "scale"}),
    ("喂你好", {"a": "scale", "b": "yes_no"}),
    ("等一下", {"a": "yes_no", "b": "scale"}),
]
# voices say.py does not have, added to its VOICES for the run that needs them:
# name -> (FastSpeech2 duration scale (<1 = faster), sox effects at 24 kHz), as in say.py.
# c: the model's own voice (a) with durations x 0.9 (about 10 % faster), pitch up 200 cents.
EXTRA_VOICES = {"c": (0.9, ["pitch", "200"])}
# say.py's main() run with EXTRA_VOICES added: argv[1] = say.py, argv[2] = the voices (JSON)
SAY_WITH_EXTRA_VOICES = (
    "import json, runpy, sys; g = runpy.run_path(sys.argv[1]); "
    "g['VOICES'].update({k: tuple(v) for k, v in json.loads(sys.argv[2]).items()}); "
    "sys.exit(g['main'](sys.argv[3:]))"
)


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- TTS (say.py) with a cache
class TTS:
    def __init__(self, python: str, say: str, cache: Path):
        self.python, self.say = python, Path(say)
        self.cache = cache
        self.cache.mkdir(parents=True, exist_ok=True)
        self.say_hash = hashlib.sha1(self.say.read_bytes(), usedforsecurity=False).hexdigest()[:12]
        self.warn_file = self.cache / "warnings.json"
        self.warnings = json.loads(self.warn_file.read_text()) if self.warn_file.exists() else {}
        sys.path.insert(0, str(self.say.parent))
        from say import normalise  # the text rewriting say.py applies before synthesis

        self.normalise = normalise

    def key(self, text: str, voice: str) -> str:
        if voice in EXTRA_VOICES:  # the voice's definition is part of the key
            voice = f"{voice}={json.dumps(EXTRA_VOICES[voice])}"
        return hashlib.sha1(
            f"{self.say_hash}|tel|{voice}|{text}".encode(), usedforsecurity=False
        ).hexdigest()[:16]

    def path(self, text: str, voice: str) -> Path:
        return self.cache / f"{self.key(text, voice)}.wav"

    def synth_all(self, jobs: list[tuple[str, str]]) -> None:
        """Make every (text, voice) not in the cache, with one say.py --batch run."""
        todo = sorted({(t, v) for t, v in jobs if not self.path(t, v).exists()})
        if not todo:
            return
        log(f"synthesising {len(todo)} utterances with {self.say} ...")
        tsv = self.cache / f"batch-{os.getpid()}.tsv"
        tsv.write_text(
            "".join(f"{self.path(t, v)}\t{t}\t{v}\ttel\n" for t, v in todo), encoding="utf-8"
        )
        cmd = [self.python, str(self.say), "--batch", str(tsv), "--telephone"]
        extra = {v: EXTRA_VOICES[v] for _, v in todo if v in EXTRA_VOICES}
        if extra:
            cmd[1:2] = ["-c", SAY_WITH_EXTRA_VOICES, str(self.say), json.dumps(extra)]
        p = subprocess.run(  # noqa: S603 (the TTS tool, with its own arguments)
            cmd, capture_output=True, text=True
        )
        tsv.unlink()
        # stderr: "model loaded", then per job its warnings ("say.py: ...") followed by either
        # "OUT<TAB>dur ..." or "say.py: FAILED OUT: ..."
        by_out = {str(self.path(t, v)): (t, v) for t, v in todo}
        pending: list[str] = []
        for line in p.stderr.splitlines():
            m = re.match(r"say\.py: FAILED (\S+): (.*)", line)
            if m and m.group(1) in by_out:
                self.warnings[self.key(*by_out[m.group(1)])] = pending + [f"FAILED: {m.group(2)}"]
                pending = []
            elif line.split("\t")[0] in by_out:
                if pending:
                    self.warnings[self.key(*by_out[line.split("\t")[0]])] = pending
                pending = []
            elif line.startswith("say.py:"):
                pending.append(line[len("say.py: ") :])
            elif line.strip() and not line.startswith("model loaded"):
                pending.append(line)
        if pending:
            log("say.py: unattributed messages:\n  " + "\n  ".join(pending))
        self.warn_file.write_text(json.dumps(self.warnings, ensure_ascii=False, indent=1))
        missing = [(t, v) for t, v in todo if not self.path(t, v).exists()]
        if missing:
            log(f"say.py exit {p.returncode}; {len(missing)} utterances not made: {missing}")

    def clip(self, text: str, voice: str) -> tuple[np.ndarray | None, float, float]:
        """(audio float32 8 kHz, speech onset s, speech offset s) or (None, 0, 0)."""
        p = self.path(text, voice)
        if not p.exists():
            return None, 0.0, 0.0
        x, sr = sf.read(p, dtype="float32")
        assert sr == SR and x.ndim == 1, (p, sr, x.shape)
        on, off = speech_edges(x)
        return x, on, off

    def problems(self, text: str, voice: str) -> list[str]:
        return self.warnings.get(self.key(text, voice), [])


def speech_edges(x: np.ndarray, db: float = -45.0) -> tuple[float, float]:
    hop = int(0.005 * SR)
    n = len(x) // hop
    if n == 0 or not np.any(x):
        return 0.0, len(x) / SR
    rms = np.sqrt(np.mean(x[: n * hop].astype(np.float64).reshape(n, hop) ** 2, axis=1)) + 1e-12
    loud = np.nonzero(20 * np.log10(rms / np.max(np.abs(x))) > db)[0]
    return loud[0] * hop / SR, min(len(x), (loud[-1] + 1) * hop) / SR


def to_pcm16(x: np.ndarray) -> np.ndarray:
    return np.clip(np.round(x * 32768.0), -32768, 32767).astype(np.int16)


def noise(rng: np.random.Generator, shape, dbfs: float) -> np.ndarray:
    return rng.normal(0.0, 10 ** (dbfs / 20), shape).astype(np.float32)


def rng_for(seed: int, name: str) -> tuple[random.Random, np.random.Generator]:
    h = int.from_bytes(hashlib.sha256(f"{seed}:{name}".encode()).digest()[:8], "big")
    return random.Random(h), np.random.default_rng(h)


# ---------------------------------------------------------------- calls
def words(t: str) -> str:
    return re.sub(r"[^\w]", "", t)


def clean_text(t: str) -> str:
    return re.sub(r"[\t\r\n]+", " ", t).strip()


def make_call(tts: TTS, src: Path, voices: dict[str, str], seed: int, noise_db: float):
    call_id = src.stem
    r, nrng = rng_for(seed, call_id)
    segs = json.loads(src.read_text(encoding="utf-8"))["segments"]
    placed = []  # (speaker, start, end, text, clip, clip_pos)
    problems = []
    cursor = r.uniform(0.5, 1.0)  # where the next speech may start (lead-in for the first)
    prev = None  # (speaker, speech duration)
    overlaps = 0
    for i, s in enumerate(segs):
        spk, text = s["speaker"], clean_text(s["text"])
        if spk not in voices:
            problems.append(f"segment {i}: speaker {spk!r} skipped")
            continue
        x, on, off = tts.clip(text, voices[spk])
        for w in tts.problems(text, voices[spk]):
            problems.append(f"segment {i} {text!r}: {w}")
        if x is None:
            problems.append(f"segment {i} {text!r}: no audio, segment left out")
            continue
        if prev is None:
            start = cursor
        elif prev[0] == "agent" and spk == "customer" and prev[1] >= 2.5 and r.random() < 1 / 8:
            start = cursor - r.uniform(0.2, 0.4)
            overlaps += 1
        elif prev[0] == spk:
            start = cursor + r.uniform(0.4, 0.7)
        else:
            start = cursor + r.uniform(0.4, 1.2)
        # whole samples: the clip goes in at `pos`, its speech starts `on` s into it
        pos = int(round((start - on) * SR))
        start, end = (pos / SR) + on, (pos / SR) + off
        placed.append((spk, start, end, text, x, pos))
        cursor = max(cursor, end)
        prev = (spk, off - on)
    if not placed:
        return None, None, problems, 0
    total = int(round((cursor + r.uniform(0.5, 1.0)) * SR))
    total = max(total, max(pos + len(x) for *_, x, pos in placed))
    audio = noise(nrng, (total, 2), noise_db)
    for spk, _, _, _, x, pos in placed:
        audio[pos : pos + len(x), 0 if spk == "agent" else 1] += x
    pcm = to_pcm16(audio)
    dur = total / SR
    segments = []
    for spk, start, end, text, _, _ in sorted(placed, key=lambda p: p[1]):
        seg = {
            "speaker": spk,
            "start": round(start, 2),
            "end": min(round(end, 2), round(dur, 2)),
            "text": text,
        }
        spoken = tts.normalise(text)
        if words(spoken) != words(text):  # ignore punctuation-only rewrites (, -> ，)
            seg["tts_text"] = spoken
        segments.append(seg)
    ref = {
        "audio": f"{call_id}.wav",
        "duration": round(dur, 2),
        "language": "zh",
        "segments": segments,
    }
    return pcm, ref, problems, overlaps


# ---------------------------------------------------------------- answers
def load_answer_list(path: Path, voices: list[str]) -> tuple[list, list]:
    """(answers, none_answers) from a JSON file {"answers": [[text, answer_type, label], ...],
    "none": [[text, {voice: answer_type, ...}], ...]}; extra keys (a note) are ignored."""
    d = json.loads(path.read_text(encoding="utf-8"))
    answers = [tuple(a) for a in d["answers"]]
    none = [(t, types) for t, types in d.get("none", [])]
    for text, atype, label in answers:
        assert atype in ("scale", "yes_no") and label != "none", (path, text, atype, label)
    for text, types in none:
        assert all(types.get(v) in ("scale", "yes_no") for v in voices), (path, text, types)
    return answers, none


def answer_items(answers=ANSWERS, none_answers=NONE_ANSWERS, voices=("a", "b")) -> list[dict]:
    items = []
    for voice in voices:
        for n, (text, atype, label) in enumerate(answers, 1):
            items.append(
                {
                    "file": f"{atype}_{n:02d}_{voice}.wav",
                    "text": text,
                    "answer_type": atype,
                    "label": label,
                    "voice": voice,
                }
            )
        for n, (text, types) in enumerate(none_answers, 1):
            items.append(
                {
                    "file": f"none_{n:02d}_{voice}.wav",
                    "text": text,
                    "answer_type": types[voice],
                    "label": "none",
                    "voice": voice,
                }
            )
    return items


def make_answer(tts: TTS, item: dict, seed: int, noise_db: float, lead: float = 0.3):
    x, on, off = tts.clip(item["text"], item["voice"])
    if x is None:
        return None, None
    _, nrng = rng_for(seed, "answer:" + item["file"])
    speech = x[int(on * SR) : int(round(off * SR))]
    pad = int(lead * SR)
    # keep the clip's own (near-silent) edges; the lead-in/tail before speech is `lead` s
    head, tail = x[: int(on * SR)], x[int(round(off * SR)) :]
    y = np.concatenate(
        [
            np.zeros(max(0, pad - len(head)), np.float32),
            head,
            speech,
            tail,
            np.zeros(max(0, pad - len(tail)), np.float32),
        ]
    )
    lead = max(lead, len(head) / SR)
    y = y + noise(nrng, y.shape, noise_db)
    return to_pcm16(y), (round(lead, 2), round(lead + len(speech) / SR, 2))


# ---------------------------------------------------------------- main
def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--out", required=True, type=Path, help="output folder (calls/, answers/)")
    ap.add_argument("--calls", nargs="*", default=[], type=Path, help="source transcript JSONs")
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--answers", action="store_true", help="also make the short answer clips")
    ap.add_argument(
        "--answers-only",
        action="store_true",
        help="make only the answer clips (no --calls); OUT/manifest.json is kept except for its "
        '"answers" key, which gets this run\'s seed, command, voices and text list',
    )
    ap.add_argument(
        "--answer-list",
        type=Path,
        help="JSON answer texts instead of the built-in ANSWERS/NONE_ANSWERS "
        "(see load_answer_list)",
    )
    ap.add_argument(
        "--answer-voices",
        default="a,b",
        help="comma-separated voices for the answer clips (default a,b: say.py's; "
        f"extra: {','.join(EXTRA_VOICES)})",
    )
    ap.add_argument("--noise-dbfs", type=float, default=-60.0)
    ap.add_argument("--min-duration", type=float, default=40.0, help="skip shorter calls (s)")
    ap.add_argument("--max-duration", type=float, default=180.0, help="skip longer calls (s)")
    ap.add_argument(
        "--clean",
        action="store_true",
        help="delete OUT/calls/*.wav|json and OUT/answers/*.wav first",
    )
    ap.add_argument("--tts-python", default=str(TTS_DIR / "venv" / "bin" / "python"))
    ap.add_argument("--say", default=str(TTS_DIR / "say.py"))
    ap.add_argument(
        "--cache", type=Path, default=Path(tempfile.gettempdir()) / "speechset-tts-cache"
    )
    args = ap.parse_args()
    if args.answers_only and args.calls:
        ap.error("--answers-only makes no calls: leave out --calls")
    args.answers = args.answers or args.answers_only or args.answer_list is not None
    answer_voices = [v.strip() for v in args.answer_voices.split(",") if v.strip()]
    answer_list = (ANSWERS, NONE_ANSWERS)
    if args.answer_list:
        answer_list = load_answer_list(args.answer_list, answer_voices)

    tts = TTS(args.tts_python, args.say, args.cache)
    calls_dir, ans_dir = args.out / "calls", args.out / "answers"
    if args.clean:
        cleanup = [(ans_dir, ("*.wav", "index.json"))]
        if not args.answers_only:
            cleanup.insert(0, (calls_dir, ("*.wav", "*.json")))
        for d, pats in cleanup:
            for pat in pats:
                for f in d.glob(pat):
                    f.unlink()

    plan = []  # (src, voices)
    for i, src in enumerate(args.calls):
        voices = {"agent": "a", "customer": "b"} if i % 2 == 0 else {"agent": "b", "customer": "a"}
        plan.append((src, voices))
    jobs = []
    for src, voices in plan:
        for s in json.loads(src.read_text(encoding="utf-8"))["segments"]:
            if s["speaker"] in voices:
                jobs.append((clean_text(s["text"]), voices[s["speaker"]]))
    items = answer_items(*answer_list, voices=answer_voices) if args.answers else []
    jobs += [(it["text"], it["voice"]) for it in items]
    tts.synth_all(jobs)

    manifest = {
        "seed": args.seed,
        "noise_dbfs": args.noise_dbfs,
        "sample_rate": SR,
        "tts": {
            "say": str(args.say),
            "say_sha1_12": tts.say_hash,
            "path": "--telephone (G.711 mu-law, 8 kHz, 300-3400 Hz)",
        },
        "command": " ".join([Path(sys.executable).as_posix(), *sys.argv]),
        "calls": [],
        "skipped_calls": [],
        "answers": None,
    }
    if not args.answers_only:
        calls_dir.mkdir(parents=True, exist_ok=True)
    for src, voices in plan:
        pcm, ref, problems, overlaps = make_call(tts, src, voices, args.seed, args.noise_dbfs)
        dur = ref["duration"] if ref else 0.0
        if ref is None or not (args.min_duration <= dur <= args.max_duration):
            log(
                f"{src.stem}: {dur:.1f} s, "
                f"outside {args.min_duration}-{args.max_duration} s: skipped"
            )
            manifest["skipped_calls"].append({"id": src.stem, "source": str(src), "duration": dur})
            continue
        sf.write(calls_dir / f"{src.stem}.wav", pcm, SR, subtype="PCM_16")
        (calls_dir / f"{src.stem}.json").write_text(
            json.dumps(ref, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
        )
        manifest["calls"].append(
            {
                "id": src.stem,
                "source": str(src),
                "voices": voices,
                "duration": dur,
                "segments": len(ref["segments"]),
                "overlaps": overlaps,
                "tts_problems": problems,
            }
        )
        log(
            f"{src.stem}: {dur:6.1f} s  {len(ref['segments'])} segments  {overlaps} overlaps"
            f"  agent={voices['agent']}{f'  problems: {len(problems)}' if problems else ''}"
        )

    if items:
        ans_dir.mkdir(parents=True, exist_ok=True)
        index, problems = [], []
        for it in items:
            pcm, span = make_answer(tts, it, args.seed, args.noise_dbfs)
            problems += [
                f"{it['file']} {it['text']!r}: {w}" for w in tts.problems(it["text"], it["voice"])
            ]
            if pcm is None:
                problems.append(f"{it['file']} {it['text']!r}: no audio, left out")
                continue
            sf.write(ans_dir / it["file"], pcm, SR, subtype="PCM_16")
            index.append({**it, "start": span[0], "end": span[1]})
        (ans_dir / "index.json").write_text(
            json.dumps(index, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
        )
        manifest["answers"] = {"clips": len(index), "tts_problems": problems}
        log(f"answers: {len(index)} clips" + (f", problems: {problems}" if problems else ""))

    if args.answers_only:  # keep the existing manifest (the calls' record); replace "answers"
        answers = manifest["answers"]
        old = args.out / "manifest.json"
        manifest = json.loads(old.read_text(encoding="utf-8")) if old.exists() else {}
        manifest["answers"] = {
            "seed": args.seed,
            "noise_dbfs": args.noise_dbfs,
            "say_sha1_12": tts.say_hash,
            "command": " ".join([Path(sys.executable).as_posix(), *sys.argv]),
            "answer_list": str(args.answer_list) if args.answer_list else "make_set.py ANSWERS",
            "voices": {
                v: (
                    dict(zip(("duration_scale", "sox_effects_24k"), EXTRA_VOICES[v], strict=True))
                    if v in EXTRA_VOICES
                    else f"say.py voice {v}"
                )
                for v in answer_voices
            },
            **answers,
        }
    (args.out / "manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
