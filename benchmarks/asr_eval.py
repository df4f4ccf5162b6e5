"""Measure the recogniser on a speech set (benchmarks/data/speech/<set>/), beside a naive baseline.

Reports, for ``callcenter.asr`` and, in the same run, for faster-whisper used naively (the mono
mix, no VAD, no prompt, default options):
- CER on the two-channel calls, per channel and overall, after removing punctuation and spaces
  and converting to simplified characters (edits / reference characters, summed over calls);
- utterances: how many reference utterances got exactly one segment of the right speaker that
  starts and ends within 0.3 s of it;
- short answers: right answers by free transcription (read by the scorer's answer words) and by
  closed-set recognition (``callcenter.asr.recognise_answer``);
- speed: real-time factor per call (call duration / wall time, both channels, median of runs),
  the closed-set latency per short answer (wall time of ``recognise_answer_file``, median and
  slowest) and peak RSS of the process.
Each system runs in its own child process so their peak memory is measured apart.

Usage: python benchmarks/asr_eval.py [SET_DIR ...] [--runs N] [--baseline-runs N] [--no-baseline]
       [--answers-only] [--save DIR]
``--answers-only``: only the closed-set answers (no calls, no free transcription, no baseline).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from rapidfuzz.distance import Levenshtein

DATA = Path(__file__).with_name("data") / "speech"
TIMING_TOLERANCE_S = 0.3


def normalise(text: str) -> str:
    from callcenter.asr.text import bare, to_simplified

    return to_simplified(bare(text)).lower()


def channel_texts(segments: list[dict[str, Any]]) -> dict[str, str]:
    texts: dict[str, str] = {"all": ""}
    for s in sorted(segments, key=lambda s: s["start"]):
        texts[s["speaker"]] = texts.get(s["speaker"], "") + normalise(s["text"])
        texts["all"] += normalise(s["text"])
    return texts


def utterances_matched(reference: list[dict[str, Any]], got: list[dict[str, Any]]) -> int:
    """Reference utterances with exactly one segment of their speaker over them, at the right
    times (a merged or split turn does not count)."""
    matched = 0
    for ref in reference:
        over = [
            s
            for s in got
            if s["speaker"] == ref["speaker"]
            and s["start"] < ref["end"]
            and s["end"] > ref["start"]
        ]
        if (
            len(over) == 1
            and abs(over[0]["start"] - ref["start"]) <= TIMING_TOLERANCE_S
            and abs(over[0]["end"] - ref["end"]) <= TIMING_TOLERANCE_S
        ):
            matched += 1
    return matched


def answer_label_from_text(text: str, answer_type: str) -> str:
    """What the scorer reads in a free transcription of a short answer."""
    from callcenter.scoring.template import language

    lang = language()
    found = (lang.scale if answer_type == "scale" else lang.yes_no).find(text)
    return str(found[0].label) if found else "none"


# --- the two systems, each run in a child process -------------------------------------------


def run_ours(set_dir: Path, runs: int, answers_only: bool = False) -> dict[str, Any]:
    from callcenter.asr import load_model, recognise_answer_file, transcribe
    from callcenter.config import load_settings

    settings = load_settings().asr
    options = settings.options("service_3dc")
    load_model(options.model)
    calls = []
    for wav in [] if answers_only else sorted((set_dir / "calls").glob("*.wav")):
        template = _template_of(wav)
        times = []
        for _ in range(runs):
            begin = time.perf_counter()
            transcript = transcribe(wav, settings.options(template))
            times.append(time.perf_counter() - begin)
        calls.append(
            {
                "id": wav.stem,
                "duration": transcript.duration,
                "wall_s": statistics.median(times),
                "segments": transcript.to_dict()["segments"],
            }
        )
    answers = []
    for item in _answers(set_dir):
        path = set_dir / "answers" / item["file"]
        begin = time.perf_counter()
        guess = recognise_answer_file(path, item["answer_type"], model=options.model)
        latency = time.perf_counter() - begin
        free = "" if answers_only else " ".join(s.text for s in transcribe(path, options).segments)
        answers.append(
            {
                **item,
                "closed": guess.label or "none",
                "confidence": guess.confidence,
                "fit": guess.fit,
                "heard": guess.heard,
                "latency_s": latency,
                "free_text": free,
                "free": None if answers_only else answer_label_from_text(free, item["answer_type"]),
            }
        )
    return {"calls": calls, "answers": answers, "peak_rss_mb": _peak_rss_mb()}


def run_baseline(set_dir: Path, runs: int, threads: int) -> dict[str, Any]:
    """faster-whisper as it comes: the mono mix, no VAD, no prompt, default options."""
    from faster_whisper import WhisperModel

    from callcenter.asr import load_recording
    from callcenter.asr.model import base_model_dir

    model = WhisperModel(
        str(base_model_dir()), device="cpu", compute_type="int8", cpu_threads=threads
    )
    calls = []
    for wav in sorted((set_dir / "calls").glob("*.wav")):
        recording = load_recording(wav)
        mono = sum(recording.channels) / len(recording.channels)
        times = []
        for _ in range(runs):
            begin = time.perf_counter()
            segments, _info = model.transcribe(mono, language="zh")
            text = [
                {"speaker": "unknown", "start": s.start, "end": s.end, "text": s.text}
                for s in segments
            ]
            times.append(time.perf_counter() - begin)
        calls.append(
            {
                "id": wav.stem,
                "duration": recording.duration,
                "wall_s": statistics.median(times),
                "segments": text,
            }
        )
    answers = []
    for item in _answers(set_dir):
        recording = load_recording(set_dir / "answers" / item["file"])
        segments, _info = model.transcribe(recording.channels[0], language="zh")
        free = " ".join(s.text for s in segments)
        answers.append(
            {**item, "free_text": free, "free": answer_label_from_text(free, item["answer_type"])}
        )
    return {"calls": calls, "answers": answers, "peak_rss_mb": _peak_rss_mb()}


def _template_of(wav: Path) -> str:
    """The call's template: in its reference, or in the label of the scoring call it was read
    from (the set's manifest names it); the service template otherwise."""
    reference = json.loads(wav.with_suffix(".json").read_text(encoding="utf-8"))
    if "template" in reference:
        return str(reference["template"])
    manifest = wav.parent.parent / "manifest.json"
    if manifest.is_file():
        for call in json.loads(manifest.read_text(encoding="utf-8")).get("calls", []):
            label = Path(str(call.get("source", ""))).parent.parent / "labels" / f"{wav.stem}.json"
            if call.get("id") == wav.stem and label.is_file():
                return str(json.loads(label.read_text(encoding="utf-8"))["template"])
    return "service_3dc"


def _answers(set_dir: Path) -> list[dict[str, Any]]:
    index = set_dir / "answers" / "index.json"
    return json.loads(index.read_text(encoding="utf-8")) if index.is_file() else []


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- report ---------------------------------------------------------------------------------


def report(set_dir: Path, name: str, result: dict[str, Any]) -> None:
    edits: dict[str, int] = {}
    chars: dict[str, int] = {}
    matched = total_utterances = 0
    factors = []
    for call in result["calls"]:
        reference = json.loads(
            (set_dir / "calls" / f"{call['id']}.json").read_text(encoding="utf-8")
        )
        want, got = channel_texts(reference["segments"]), channel_texts(call["segments"])
        for channel in ("agent", "customer", "all"):
            if channel == "all" or name != "baseline":
                edits[channel] = edits.get(channel, 0) + Levenshtein.distance(
                    want.get(channel, ""), got.get(channel, "")
                )
                chars[channel] = chars.get(channel, 0) + len(want.get(channel, ""))
        if name != "baseline":
            matched += utterances_matched(reference["segments"], call["segments"])
            total_utterances += len(reference["segments"])
        factors.append(call["duration"] / call["wall_s"])
    print(f"\n## {name}: {set_dir.name}, {len(result['calls'])} calls")
    for channel in edits:
        cer = 100 * edits[channel] / max(chars[channel], 1)
        print(f"CER {channel:9} {cer:5.1f} %  ({edits[channel]}/{chars[channel]})")
    if total_utterances:
        share = 100 * matched / total_utterances
        print(
            f"utterances with one segment within {TIMING_TOLERANCE_S} s: "
            f"{share:.1f} % ({matched}/{total_utterances})"
        )
    if factors:
        print(
            f"real-time factor per call: median {statistics.median(factors):.1f}× "
            f"(min {min(factors):.1f}×, max {max(factors):.1f}×)"
        )
    answers = result["answers"]
    if answers:
        if answers[0]["free"] is not None:
            _share("short answers, free transcription", [a["free"] == a["label"] for a in answers])
        if "closed" in answers[0]:
            _share("short answers, closed set", [a["closed"] == a["label"] for a in answers])
            for a in answers:
                if a["closed"] != a["label"]:
                    print(
                        f"    {a['file']}: {a['text']} → {a['closed']} (confidence "
                        f"{a['confidence']}, fit {a['fit']}, heard {a.get('heard', '')!r})"
                    )
            latencies = [a["latency_s"] for a in answers]
            print(
                f"closed-set latency per answer: median {statistics.median(latencies):.2f} s "
                f"(slowest {max(latencies):.2f} s)"
            )
    print(f"peak RSS: {result['peak_rss_mb']:.0f} MB")


def _share(title: str, right: list[bool]) -> None:
    print(f"{title}: {100 * sum(right) / len(right):.1f} % ({sum(right)}/{len(right)})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("sets", nargs="*", type=Path)
    parser.add_argument("--runs", type=int, default=3, help="timed runs per call (median)")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--baseline-runs", type=int, default=1, help="timed runs of the baseline")
    parser.add_argument("--no-baseline", action="store_true", help="measure callcenter.asr only")
    parser.add_argument(
        "--answers-only", action="store_true", help="closed-set answers only (implies no baseline)"
    )
    parser.add_argument("--save", type=Path, help="also write each system's raw output here")
    parser.add_argument("--worker", choices=["ours", "baseline"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    sets = args.sets or [DATA / "dev"]
    if args.worker:
        os.environ.setdefault("CALLCENTER_ASR__CPU_THREADS", str(args.threads))
        if args.worker == "ours":
            result = run_ours(sets[0], args.runs, args.answers_only)
        else:
            result = run_baseline(sets[0], args.runs, args.threads)
        json.dump(result, sys.stdout, ensure_ascii=False)
        return
    for set_dir in sets:
        if not (set_dir / ("answers" if args.answers_only else "calls")).is_dir():
            sys.exit(f"{set_dir} 不是语音评测集(缺少 calls/ 或 answers/ 目录)")
        only_ours = args.no_baseline or args.answers_only
        for name in ("callcenter.asr",) if only_ours else ("callcenter.asr", "baseline"):
            runs = args.runs if name != "baseline" else args.baseline_runs
            child = subprocess.run(  # noqa: S603 (this script, with its own arguments)
                [
                    sys.executable,
                    __file__,
                    str(set_dir),
                    "--runs",
                    str(runs),
                    "--threads",
                    str(args.threads),
                    "--worker",
                    "ours" if name != "baseline" else "baseline",
                    *(["--answers-only"] if args.answers_only else []),
                ],
                capture_output=True,
                text=True,
                check=True,
            )
            result = json.loads(child.stdout)
            if args.save:
                args.save.mkdir(parents=True, exist_ok=True)
                out = args.save / f"{set_dir.name}-{name}.json"
                out.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
            report(set_dir, name, result)


if __name__ == "__main__":
    main()
