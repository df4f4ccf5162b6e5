"""Small real step functions for the pipeline tests (also imported by worker subprocesses).

``transcribe_bursts`` reads a WAV with the standard ``wave`` module and returns one segment per
burst of sound on each channel; ``score_by_segments`` scores by counting segments. When
``PIPELINE_TEST_DIR`` is set, each finished step appends a line to ``completed.log`` there, and
``slow_transcribe`` first appends to ``started.log`` and sleeps ``PIPELINE_TEST_SLEEP_S`` seconds.
"""

from __future__ import annotations

import math
import os
import time
import wave
from array import array
from pathlib import Path
from typing import Any

FRAME_S = 0.02  # loudness is measured over 20 ms frames
THRESHOLD = 1000  # mean absolute sample value that counts as sound
SPEAKERS_BY_CHANNELS = {1: ["unknown"], 2: ["agent", "customer"]}


def write_bursts_wav(
    path: Path, bursts: list[tuple[int, float, float]], duration_s: float, rate: int = 8000
) -> Path:
    """A two-channel 16-bit WAV with a 440 Hz tone on ``channel`` from ``start`` to ``end``."""
    frames = int(duration_s * rate)
    samples = array("h", bytes(4 * frames))
    for channel, start, end in bursts:
        for i in range(int(start * rate), min(int(end * rate), frames)):
            samples[2 * i + channel] = int(8000 * math.sin(2 * math.pi * 440 * i / rate))
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(2)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples.tobytes())
    return path


def _record(line: str, name: str = "completed.log") -> None:
    folder = os.environ.get("PIPELINE_TEST_DIR")
    if folder:
        with open(Path(folder) / name, "a", encoding="utf-8") as log:
            log.write(f"{line}\n")


def transcribe_bursts(recording_path: str, *_context: Any) -> dict[str, Any]:
    """One CONTRACTS.md segment per burst of sound per channel."""
    with wave.open(recording_path, "rb") as wav:
        channels, rate = wav.getnchannels(), wav.getframerate()
        if wav.getsampwidth() != 2:
            raise ValueError(f"{recording_path}: 只支持 16 位 PCM")
        samples = array("h", wav.readframes(wav.getnframes()))
    speakers = SPEAKERS_BY_CHANNELS[channels]
    step = int(FRAME_S * rate)
    total = len(samples) // channels
    segments = []
    for channel, speaker in enumerate(speakers):
        start = None
        for first in range(0, total, step):
            chunk = samples[channel + first * channels : (first + step) * channels : channels]
            loud = sum(abs(s) for s in chunk) / max(len(chunk), 1) > THRESHOLD
            if loud and start is None:
                start = first
            elif not loud and start is not None:
                segments.append((speaker, start / rate, first / rate))
                start = None
        if start is not None:
            segments.append((speaker, start / rate, total / rate))
    segments.sort(key=lambda seg: seg[1])
    _record(f"transcribe {Path(recording_path).name}")
    return {
        "audio": Path(recording_path).name,
        "duration": round(total / rate, 2),
        "language": "zh",
        "segments": [
            {"speaker": spk, "start": round(s, 2), "end": round(e, 2), "text": f"(第{n}段语音)"}
            for n, (spk, s, e) in enumerate(segments, start=1)
        ],
    }


def slow_transcribe(recording_path: str, *_context: Any) -> dict[str, Any]:
    """transcribe_bursts after a marker line and a sleep, so a test can kill it mid-step."""
    _record(f"{Path(recording_path).name} {os.getpid()}", "started.log")
    time.sleep(float(os.environ.get("PIPELINE_TEST_SLEEP_S", "1")))
    return transcribe_bursts(recording_path)


def score_by_segments(transcript: dict[str, Any], template_id: str) -> dict[str, Any]:
    """A score that counts who spoke how often; 10 points per agent segment, at most 100."""
    speakers = [segment["speaker"] for segment in transcript["segments"]]
    _record(f"score {transcript['audio']}")
    return {
        "template": template_id,
        "outcome": "completed" if "customer" in speakers else "incomplete",
        "compliance": {},
        "ratings": {},
        "complaints": [],
        "qa_score": float(min(100, 10 * speakers.count("agent"))),
        "csi": None,
        "metrics": {"segments": len(speakers), "customer_segments": speakers.count("customer")},
    }


def transcript_beside_recording(recording_path: str, *_context: Any) -> dict[str, Any]:
    """The typed CONTRACTS.md transcript stored next to the recording (``call.wav.json``)."""
    import json

    return dict(json.loads(Path(f"{recording_path}.json").read_text(encoding="utf-8")))
