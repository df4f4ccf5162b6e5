"""The telephony package's pure parts: dispositions from SIP, the dial plan, merging the legs'
recordings, simulator scripts."""

from __future__ import annotations

import hashlib
import wave
from pathlib import Path

import numpy as np
import pytest

from callcenter.telephony.dialplan import DialPlan, DialPlanError
from callcenter.telephony.dispositions import disposition
from callcenter.telephony.recording import RecordingError, merge_legs


@pytest.mark.parametrize(
    ("code", "kwargs", "expected"),
    [
        (486, {}, "busy"),
        (600, {}, "busy"),
        (603, {}, "rejected"),
        (404, {}, "invalid_number"),
        (484, {}, "invalid_number"),
        (604, {}, "invalid_number"),
        (480, {"rang": True}, "no_answer"),
        (408, {"rang": True}, "no_answer"),
        (408, {}, "unreachable"),  # not even a ring: nobody there
        (503, {}, "unreachable"),
        (487, {"timed_out": True, "rang": True}, "no_answer"),
        (487, {"timed_out": True}, "unreachable"),
        (487, {"ended_by": "agent", "rang": True}, "hangup_agent"),
        (500, {}, "failed"),
        (None, {}, "failed"),
        (200, {"answered": True, "ended_by": "customer"}, "hangup_customer"),
        (200, {"answered": True, "ended_by": "agent"}, "hangup_agent"),
        (200, {"answered": True}, "answered"),
    ],
)
def test_disposition_from_sip(code: int | None, kwargs: dict[str, object], expected: str) -> None:
    answered = bool(kwargs.pop("answered", False))
    assert disposition(code, answered=answered, **kwargs) == expected  # type: ignore[arg-type]


def test_dial_plan() -> None:
    plan = DialPlan(outside_prefix="9", area_code="20", domain="pbx.local")
    assert plan.digits("138 1234 5678") == "913812345678"
    assert plan.digits("+86 138-1234-5678") == "913812345678"
    assert plan.digits("020-87654321") == "987654321"  # local landline: no area code
    assert plan.digits("010-87654321") == "901087654321"  # another city keeps it
    assert plan.agent_uri("8001") == "sip:8001@pbx.local"  # an extension is dialled as it is
    assert plan.customer_uri("13812345678") == "sip:913812345678@pbx.local"
    assert (
        plan.customer_uri("sip:c@10.0.0.5") == plan.agent_uri("sip:c@10.0.0.5") == "sip:c@10.0.0.5"
    )
    with pytest.raises(DialPlanError, match="8001"):
        plan.customer_uri("8001")  # a customer number is never taken for an extension
    assert DialPlan(mobile_prefix="0", domain="x").digits("13812345678") == "013812345678"
    assert DialPlan(domain="t", transport="tcp").agent_uri("8001") == "sip:8001@t;transport=tcp"
    with pytest.raises(DialPlanError, match="12345"):
        plan.customer_uri("12345-abc")
    with pytest.raises(DialPlanError, match="SIP 域"):
        DialPlan().customer_uri("13812345678")


def _mono(path: Path, samples: np.ndarray, rate: int = 8000) -> Path:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples.astype("<i2").tobytes())
    return path


def test_merge_legs_agent_left_customer_right(tmp_path: Path) -> None:
    agent = _mono(tmp_path / "a.wav", np.full(8000, 1000))
    customer = _mono(tmp_path / "c.wav", np.full(6000, -2000))  # lost frames: shorter
    target = tmp_path / "out" / "call.wav"
    stored = merge_legs(agent, customer, target)
    assert stored.duration_s == 1.0 and stored.sample_rate == 8000
    assert stored.sha256 == hashlib.sha256(target.read_bytes()).hexdigest()
    with wave.open(str(target), "rb") as source:
        assert source.getnchannels() == 2 and source.getframerate() == 8000
        frames = np.frombuffer(source.readframes(source.getnframes()), "<i2").reshape(-1, 2)
    assert (frames[:, 0] == 1000).all()
    assert (frames[:6000, 1] == -2000).all() and (frames[6000:, 1] == 0).all()
    assert not list(target.parent.glob(".*partial"))


def test_merge_legs_reports_the_broken_leg(tmp_path: Path) -> None:
    agent = _mono(tmp_path / "a.wav", np.zeros(800))
    broken = tmp_path / "c.wav"
    broken.write_bytes(b"RIFF....not a wave")
    with pytest.raises(RecordingError, match="c.wav"):
        merge_legs(agent, broken, tmp_path / "call.wav")
    assert not (tmp_path / "call.wav").exists()
    wrong_rate = _mono(tmp_path / "w.wav", np.zeros(1600), rate=16000)
    with pytest.raises(RecordingError, match="采样率"):
        merge_legs(agent, wrong_rate, tmp_path / "call.wav")


def test_simulator_scripts_name_the_file_and_field(tmp_path: Path) -> None:
    from callcenter.telephony.simulator import ScriptError, load_script, load_scripts

    (tmp_path / "hello.wav").write_bytes(b"")
    good = tmp_path / "c001.yaml"
    good.write_text(
        "answer: answer\nring_s: 2\nturns:\n  - {wait: silence, play: hello.wav}\n"
        "  - {wait: 1, dtmf: '1#'}\n  - {hangup: true}\n"
    )
    script = load_script(good)
    assert script.answer == "answer" and script.ring_s == 2.0 and len(script.turns) == 3
    assert script.turns[0].play == (tmp_path / "hello.wav").resolve()
    assert script.turns[1].wait == 1.0 and script.turns[1].dtmf == "1#"
    assert list(load_scripts(tmp_path)) == ["c001"]
    cases = {
        "answer: maybe\n": "answer",
        "answr: answer\n": "answr",
        "turns:\n  - {play: missing.wav}\n": "missing.wav",
        "turns:\n  - {dtmf: 'x'}\n": "dtmf",
        "turns:\n  - {wait: later}\n": "wait",
        "ring_s: -1\n": "ring_s",
    }
    for text, named in cases.items():
        bad = tmp_path / "bad.yaml"
        bad.write_text(text)
        with pytest.raises(ScriptError, match=named) as caught:
            load_script(bad)
        assert "bad.yaml" in str(caught.value)
