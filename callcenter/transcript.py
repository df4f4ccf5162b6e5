"""The CONTRACTS.md transcript: plain data shared by the recogniser and the scorer."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

SPEAKERS = ("agent", "customer", "unknown")


class TranscriptFormatError(ValueError):
    """The transcript is not in the CONTRACTS.md format; the message names the field."""


@dataclass(frozen=True, slots=True)
class Segment:
    speaker: str
    start: float
    end: float
    text: str


@dataclass(frozen=True, slots=True)
class Transcript:
    segments: tuple[Segment, ...]
    duration: float
    audio: str = ""
    language: str = "zh"

    @classmethod
    def from_dict(cls, data: Any) -> Transcript:
        """Validate a CONTRACTS.md transcript; TranscriptFormatError names the bad field."""
        if not isinstance(data, Mapping):
            raise TranscriptFormatError("转写结果应为 JSON 对象")
        raw_segments = data.get("segments")
        if not isinstance(raw_segments, list):
            raise TranscriptFormatError("缺少 segments 列表")
        segments = [_segment(i, raw) for i, raw in enumerate(raw_segments)]
        segments.sort(key=lambda s: (s.start, s.end))
        raw_duration = data.get("duration")
        duration = (
            max((s.end for s in segments), default=0.0)
            if raw_duration is None
            else _number(raw_duration)
        )
        if duration is None or duration < 0:
            raise TranscriptFormatError(f"duration 应为非负数,实际为 {raw_duration!r}")
        audio = data.get("audio", "")
        return cls(
            segments=tuple(segments),
            duration=float(duration),
            audio=audio if isinstance(audio, str) else "",
            language=str(data.get("language", "zh")),
        )

    def to_dict(self) -> dict[str, Any]:
        """The CONTRACTS.md JSON object."""
        return {
            "audio": self.audio,
            "duration": round(self.duration, 2),
            "language": self.language,
            "segments": [
                {**asdict(s), "start": round(s.start, 2), "end": round(s.end, 2)}
                for s in self.segments
            ],
        }


def _number(value: Any) -> float | None:
    """``value`` as a float when it is a finite JSON number, else None."""
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def _segment(index: int, raw: Any) -> Segment:
    where = f"segments[{index}]"
    if not isinstance(raw, Mapping):
        raise TranscriptFormatError(f"{where} 应为对象")
    speaker = raw.get("speaker")
    if speaker not in SPEAKERS:
        raise TranscriptFormatError(
            f"{where}.speaker 应为 agent/customer/unknown,实际为 {speaker!r}"
        )
    start, end, text = _number(raw.get("start")), _number(raw.get("end")), raw.get("text")
    if start is None or start < 0:
        raise TranscriptFormatError(f"{where}.start 应为非负数,实际为 {raw.get('start')!r}")
    if end is None or end < start:
        raise TranscriptFormatError(f"{where}.end 应为不小于 start 的数,实际为 {raw.get('end')!r}")
    if not isinstance(text, str):
        raise TranscriptFormatError(f"{where}.text 应为字符串")
    return Segment(speaker=speaker, start=start, end=end, text=text)
