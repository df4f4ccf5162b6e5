"""Timing figures of one call: talk time per side, talk share, silences, overlaps and turns.

Segments are CONTRACTS.md transcript segments (`speaker`, `start`, `end`, `text`). A speaker's
segments may overlap each other (split or merged recogniser turns), so talk time is measured on
the union of that speaker's intervals, never by summing segment lengths. Everything is one sort
and linear sweeps over sorted intervals.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import pairwise
from typing import Any

__all__ = ["call_metrics"]

_SPEAKERS = ("agent", "customer", "unknown")

_Interval = tuple[float, float]


def _union(intervals: list[_Interval]) -> list[_Interval]:
    """Sorted, disjoint intervals covering the same time; touching intervals are joined."""
    merged: list[_Interval] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def _intersection(a: list[_Interval], b: list[_Interval]) -> list[_Interval]:
    """Where two unions overlap, by walking both at once."""
    both: list[_Interval] = []
    i = j = 0
    while i < len(a) and j < len(b):
        start, end = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if start < end:
            both.append((start, end))
        if a[i][1] < b[j][1]:  # the one that ends first cannot overlap anything further
            i += 1
        else:
            j += 1
    return both


def _length(intervals: list[_Interval]) -> float:
    return sum((end - start for start, end in intervals), 0.0)


def _checked(index: int, segment: Mapping[str, Any]) -> tuple[str, float, float]:
    speaker = segment.get("speaker")
    if speaker not in _SPEAKERS:
        raise ValueError(
            f"segments[{index}].speaker 应为 agent/customer/unknown,实际为 {speaker!r}"
        )
    start, end = float(segment["start"]), float(segment["end"])
    if end < start:
        raise ValueError(f"segments[{index}].end 应不小于 start({start}),实际为 {end}")
    return speaker, start, end


def call_metrics(
    segments: Sequence[Mapping[str, Any]], duration_s: float
) -> dict[str, float | int]:
    """Duration, talk time per side, agent talk share, longest silence, overlaps and turns."""
    checked = [_checked(index, segment) for index, segment in enumerate(segments)]
    checked.sort(key=lambda s: (s[1], s[2]))  # stable: same-start segments keep their order
    by_speaker: dict[str, list[_Interval]] = {speaker: [] for speaker in _SPEAKERS}
    for speaker, start, end in checked:
        by_speaker[speaker].append((start, end))
    agent, customer = _union(by_speaker["agent"]), _union(by_speaker["customer"])
    # unknown speech (mono recordings) is talk for the silence figure but belongs to no side
    anyone = _union([(start, end) for _, start, end in checked])
    overlaps = _intersection(agent, customer)

    agent_s, customer_s = _length(agent), _length(customer)
    talk_s = agent_s + customer_s
    # silences: before the first word, between words, and after the last word until hang-up
    edges = [0.0, *(edge for interval in anyone for edge in interval), float(duration_s)]
    longest_silence_s = max(
        (max(0.0, edges[k + 1] - edges[k]) for k in range(0, len(edges), 2)), default=0.0
    )
    changes = sum(1 for a, b in pairwise(checked) if a[0] != b[0])

    return {
        "duration_s": round(float(duration_s), 3),
        "agent_talk_s": round(agent_s, 3),
        "customer_talk_s": round(customer_s, 3),
        "agent_talk_share": round(agent_s / talk_s, 3) if talk_s > 0 else 0.0,
        "longest_silence_s": round(longest_silence_s, 3),
        "overlap_s": round(_length(overlaps), 3),
        "overlap_count": len(overlaps),
        "turns": changes + 1 if checked else 0,
    }
