"""Call timing figures from transcript segments (callcenter.scoring.metrics)."""

from __future__ import annotations

import pytest

from callcenter.scoring.metrics import call_metrics


def seg(speaker: str, start: float, end: float, text: str = "……") -> dict[str, object]:
    return {"speaker": speaker, "start": start, "end": end, "text": text}


def test_empty_call_is_all_silence() -> None:
    assert call_metrics([], 30.0) == {
        "duration_s": 30.0,
        "agent_talk_s": 0.0,
        "customer_talk_s": 0.0,
        "agent_talk_share": 0.0,
        "longest_silence_s": 30.0,
        "overlap_s": 0.0,
        "overlap_count": 0,
        "turns": 0,
    }


def test_plain_conversation() -> None:
    segments = [
        seg("agent", 0.5, 3.1, "您好,请问是张先生吗?"),
        seg("customer", 3.4, 4.0, "是我。"),
        seg("agent", 4.5, 10.0),
        seg("customer", 10.0, 12.0),  # starts the moment the agent stops: no overlap
    ]
    metrics = call_metrics(segments, 15.0)
    # agent 2.6 + 5.5, customer 0.6 + 2.0; silences 0.5, 0.3, 0.5, 0.0 and 3.0 at the end
    assert metrics == {
        "duration_s": 15.0,
        "agent_talk_s": 8.1,
        "customer_talk_s": 2.6,
        "agent_talk_share": 0.757,  # 8.1 / 10.7
        "longest_silence_s": 3.0,
        "overlap_s": 0.0,
        "overlap_count": 0,
        "turns": 4,
    }


def test_overlaps_are_measured_and_counted() -> None:
    segments = [
        seg("agent", 0.0, 5.0),
        seg("customer", 4.0, 6.0),  # overlaps 4–5
        seg("agent", 5.5, 8.0),  # overlaps 5.5–6
        seg("customer", 7.0, 7.5),  # inside the agent's turn: 7–7.5
    ]
    metrics = call_metrics(segments, 10.0)
    assert metrics["overlap_s"] == 2.0
    assert metrics["overlap_count"] == 3
    assert metrics["agent_talk_s"] == 7.5
    assert metrics["customer_talk_s"] == 2.5
    assert metrics["agent_talk_share"] == 0.75
    assert metrics["longest_silence_s"] == 2.0  # 8.0 to the hang-up at 10.0
    assert metrics["turns"] == 4


def test_one_speakers_overlapping_segments_are_not_counted_twice() -> None:
    segments = [seg("agent", 0.0, 4.0), seg("agent", 2.0, 5.0), seg("customer", 6.0, 7.0)]
    metrics = call_metrics(segments, 7.0)
    assert metrics["agent_talk_s"] == 5.0
    assert metrics["overlap_s"] == 0.0
    assert metrics["turns"] == 2  # two agent segments in a row are one turn


def test_silence_at_the_start_counts() -> None:
    metrics = call_metrics([seg("customer", 12.0, 14.0), seg("agent", 15.0, 16.0)], 20.0)
    assert metrics["longest_silence_s"] == 12.0


def test_silence_at_the_end_counts() -> None:
    metrics = call_metrics([seg("agent", 1.0, 2.0), seg("customer", 3.0, 4.0)], 30.5)
    assert metrics["longest_silence_s"] == 26.5


def test_speech_past_the_recorded_duration_is_no_negative_silence() -> None:
    metrics = call_metrics([seg("agent", 0.0, 4.0), seg("customer", 8.0, 10.4)], 10.0)
    assert metrics["longest_silence_s"] == 4.0
    assert metrics["customer_talk_s"] == 2.4


def test_unknown_speaker_is_talk_but_neither_side() -> None:
    # a mono recording: one unknown speaker throughout
    mono = call_metrics([seg("unknown", 0.0, 3.0), seg("unknown", 5.0, 9.0)], 10.0)
    assert mono["agent_talk_s"] == 0.0
    assert mono["customer_talk_s"] == 0.0
    assert mono["agent_talk_share"] == 0.0
    assert mono["longest_silence_s"] == 2.0
    assert mono["turns"] == 1

    mixed = [seg("agent", 0.0, 2.0), seg("unknown", 1.0, 6.0), seg("customer", 6.5, 7.0)]
    metrics = call_metrics(mixed, 7.0)
    assert metrics["longest_silence_s"] == 0.5  # the unknown speech fills 2–6
    assert metrics["overlap_s"] == 0.0  # agent with unknown is not an agent/customer overlap
    assert metrics["agent_talk_share"] == 0.8  # 2.0 / (2.0 + 0.5)
    assert metrics["turns"] == 3


def test_segment_order_does_not_matter() -> None:
    segments = [
        seg("agent", 0.0, 2.0),
        seg("customer", 1.5, 3.0),
        seg("agent", 3.5, 6.0),
        seg("customer", 7.0, 9.0),
    ]
    shuffled = list(reversed(segments))
    assert call_metrics(shuffled, 10.0) == call_metrics(segments, 10.0)


def test_long_call_sweep() -> None:
    # 1000 exchanges: agent k*10 .. k*10+6, customer k*10+5 .. k*10+9
    segments = []
    for k in range(1000):
        segments += [
            seg("agent", k * 10.0, k * 10.0 + 6),
            seg("customer", k * 10.0 + 5, k * 10.0 + 9),
        ]
    segments = segments[1::2] + segments[-2::-2]  # out of order: customers, then agents backwards
    metrics = call_metrics(segments, 10_000.0)
    assert metrics["agent_talk_s"] == 6000.0
    assert metrics["customer_talk_s"] == 4000.0
    assert metrics["agent_talk_share"] == 0.6
    assert metrics["overlap_s"] == 1000.0
    assert metrics["overlap_count"] == 1000
    assert metrics["longest_silence_s"] == 1.0
    assert metrics["turns"] == 2000


def test_bad_speaker_names_the_segment() -> None:
    with pytest.raises(ValueError, match=r"segments\[1\]\.speaker"):
        call_metrics([seg("agent", 0.0, 1.0), seg("坐席", 1.0, 2.0)], 2.0)


def test_end_before_start_names_the_segment() -> None:
    with pytest.raises(ValueError, match=r"segments\[0\]\.end"):
        call_metrics([seg("agent", 3.0, 1.0)], 5.0)
