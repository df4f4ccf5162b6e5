"""Two legs' mono recordings merged into the CONTRACTS.md two-channel WAV (agent left,
customer right), written whole or not at all."""

from __future__ import annotations

import hashlib
import os
import sys
import time
import wave
from array import array
from dataclasses import dataclass
from pathlib import Path


class RecordingError(Exception):
    """A leg's recording is missing or unreadable; the message names the file."""


@dataclass(frozen=True, slots=True)
class StoredRecording:
    path: Path
    sha256: str
    duration_s: float
    sample_rate: int


def wait_until_closed(path: Path, timeout_s: float = 5.0) -> None:
    """Wait for a recorder to finish its file: the conference bridge closes recorders on its
    next clock tick, and only then is the WAV header written."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with wave.open(str(path), "rb") as source:
                expected = source.getnframes() * source.getsampwidth() * source.getnchannels()
            if path.stat().st_size >= expected + 44:
                return
        except (OSError, EOFError, wave.Error):
            pass
        if time.monotonic() > deadline:
            return  # _read_mono says what is wrong with it
        time.sleep(0.05)


def _read_mono(path: Path) -> tuple[array[int], int]:
    wait_until_closed(path)
    try:
        with wave.open(str(path), "rb") as source:
            if source.getsampwidth() != 2 or source.getnchannels() != 1:
                raise RecordingError(f"{path.name}: 应为单声道 16 位录音")
            rate = source.getframerate()
            frames = source.readframes(source.getnframes())
    except (OSError, EOFError, wave.Error) as exc:
        raise RecordingError(f"{path.name}: 无法读取录音 ({exc})") from exc
    samples = array("h", frames)  # no numpy: the line processes stay small
    if sys.byteorder == "big":
        samples.byteswap()  # WAV is little-endian
    return samples, rate


def merge_legs(agent: Path, customer: Path, target: Path) -> StoredRecording:
    """Write ``target`` (stereo, 16-bit) from the two legs and return its checksum and length.

    The shorter leg is padded with silence at the end (a leg loses frames under load). The file
    is written beside ``target`` and renamed into place, so a reader never sees half of it.
    """
    left, rate = _read_mono(agent)
    right, right_rate = _read_mono(customer)
    if rate != right_rate:
        raise RecordingError(f"两路录音采样率不同: {rate} 与 {right_rate}")
    frames = max(len(left), len(right))
    for leg in (left, right):
        leg.extend(array("h", bytes(2 * (frames - len(leg)))))  # silence after a short leg
    stereo = array("h", bytes(4 * frames))
    stereo[0::2], stereo[1::2] = left, right
    if sys.byteorder == "big":
        stereo.byteswap()
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")
    with wave.open(str(partial), "wb") as out:
        out.setnchannels(2)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(stereo.tobytes())
    with partial.open("rb+") as written:
        digest = hashlib.file_digest(written, "sha256").hexdigest()
        os.fsync(written.fileno())
    os.replace(partial, target)
    return StoredRecording(target, digest, round(frames / rate, 3), rate)
