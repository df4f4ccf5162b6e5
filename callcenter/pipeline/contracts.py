"""Check that a step's result has the CONTRACTS.md shape before it is stored."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from callcenter.ids import Outcome
from callcenter.pipeline.steps import PermanentStepError
from callcenter.transcript import SPEAKERS

SEGMENT_FIELDS = ("speaker", "start", "end", "text")
OUTCOMES = frozenset(Outcome)


def _as_dict(result: Any, what: str) -> dict[str, Any]:
    if dataclasses.is_dataclass(result) and not isinstance(result, type):
        return dataclasses.asdict(result)
    if isinstance(result, Mapping):
        return dict(result)
    raise PermanentStepError(f"{what}应为字典或数据类,实际为 {type(result).__name__}")


def _number(data: Mapping[str, Any], key: str, what: str) -> float:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PermanentStepError(f"{what}的字段 {key} 应为数字,实际为 {value!r}")
    return float(value)


def _typed(data: Mapping[str, Any], key: str, kind: type, what: str) -> Any:
    value = data.get(key)
    if not isinstance(value, kind):
        raise PermanentStepError(f"{what}的字段 {key} 应为 {kind.__name__},实际为 {value!r}")
    return value


def check_transcript(result: Any) -> dict[str, Any]:
    """The transcript as a plain dict, or PermanentStepError naming the bad field."""
    what = "转写结果"
    data = _as_dict(result, what)
    data["duration"] = _number(data, "duration", what)
    segments = []
    for index, raw in enumerate(_typed(data, "segments", list, what)):
        seg_what = f"{what} segments[{index}] "
        segment = _as_dict(raw, seg_what)
        missing = [key for key in SEGMENT_FIELDS if key not in segment]
        if missing:
            raise PermanentStepError(f"{seg_what}缺少字段 {', '.join(missing)}")
        if segment["speaker"] not in SPEAKERS:
            speaker = segment["speaker"]
            raise PermanentStepError(
                f"{seg_what}的 speaker 应为 agent、customer 或 unknown,实际为 {speaker!r}"
            )
        segment["start"] = _number(segment, "start", seg_what)
        segment["end"] = _number(segment, "end", seg_what)
        segment["text"] = str(segment["text"])
        segments.append(segment)
    data["segments"] = sorted(segments, key=lambda seg: seg["start"])
    data["language"] = str(data.get("language") or "zh")
    return data


def check_score(result: Any) -> dict[str, Any]:
    """The score as a plain dict, or PermanentStepError naming the bad field."""
    what = "评分结果"
    data = _as_dict(result, what)
    _typed(data, "template", str, what)
    if data.get("outcome") not in OUTCOMES:
        raise PermanentStepError(
            f"{what}的字段 outcome 应为 {'、'.join(sorted(OUTCOMES))} 之一,"
            f"实际为 {data.get('outcome')!r}"
        )
    for key in ("compliance", "ratings"):
        _typed(data, key, dict, what)
    _typed(data, "complaints", list, what)
    data["qa_score"] = _number(data, "qa_score", what)
    data["csi"] = None if data.get("csi") is None else _number(data, "csi", what)
    data["metrics"] = dict(data.get("metrics") or {})
    return data
