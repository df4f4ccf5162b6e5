"""Real SIP calls on 127.0.0.1: the engine (``callcenter telephony call``) against the customer
simulator, Kamailio and SIPp — bridge, recordings, dispositions, DTMF, shutdown."""

from __future__ import annotations

import hashlib
import shutil
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

from tests.sip_peers import (
    CALLCENTER,
    PASSWORD,
    SIP_DATA,
    best_correlation,
    engine_env,
    envelope,
    kamailio,
    place_call,
    read_wav,
    simulator,
    speech_seconds,
    udp_port,
)

pytestmark = pytest.mark.slow

AGENT_PHONE = {
    "answer": "answer",
    "ring_s": 0.2,
    "turns": [
        {"wait": 0.8, "play": "agent_hello.wav"},
        {"wait": "silence", "play": "agent_question.wav"},
        {"wait": "silence"},
        {"wait": 0.8, "hangup": True},
    ],
}
CUSTOMER = {
    "answer": "answer",
    "ring_s": 0.8,
    "turns": [
        {"wait": "silence", "play": "customer_yes.wav"},
        {"wait": "silence", "play": "customer_answer.wav"},
    ],
}
# envelope correlation of a played clip somewhere in a channel: the same audio through G.711
# and the bridge scores 0.79–0.99 here, another speaker's audio 0.26–0.54
MATCH, NO_MATCH = 0.75, 0.65
_CLIPS = ("agent_hello.wav", "agent_question.wav", "customer_yes.wav", "customer_answer.wav")
SILENT_AGENT = {"answer": "answer", "ring_s": 0.1, "turns": []}


def clip(name: str) -> np.ndarray:
    audio, _rate = read_wav(SIP_DATA / name)
    return audio[:, 0]


def test_click_to_call_records_agent_left_and_customer_right(tmp_path: Path) -> None:
    with simulator(tmp_path, {"agent": AGENT_PHONE, "c1": CUSTOMER}) as peer:
        host = f"127.0.0.1:{peer.port}"
        result = place_call(tmp_path, f"sip:agent@{host}", f"sip:c1@{host}")
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.states() == ["dialling", "dialling", "ringing", "answered", "bridged", "ended"]
    legs = [e["leg"] for e in result.events if e["type"] == "CallEvent"][:2]
    assert legs == ["agent", "customer"]  # the agent's phone rings first
    assert result.ended()["disposition"] == "hangup_agent"  # the agent phone hung up

    stored = result.recording()
    assert stored is not None and stored["error"] == ""
    path = Path(stored["path"])
    assert hashlib.sha256(path.read_bytes()).hexdigest() == stored["sha256"]
    audio, rate = read_wav(path)
    assert rate == 8000 and audio.shape[1] == 2
    bridged = next(e["at"] for e in result.events if e.get("state") == "bridged")
    ended = result.ended()["at"]
    assert stored["duration_s"] == pytest.approx(len(audio) / rate, abs=0.01)
    assert stored["duration_s"] == pytest.approx(ended - bridged, rel=0.1, abs=0.5)

    left, right = audio[:, 0], audio[:, 1]
    for name in ("agent_hello.wav", "agent_question.wav"):
        assert best_correlation(left, clip(name), rate) > MATCH, name
    for name in ("customer_yes.wav", "customer_answer.wav"):
        assert best_correlation(right, clip(name), rate) > MATCH, name
    # and not the other way round (a swapped or mixed recording would match both)
    assert best_correlation(left, clip("customer_answer.wav"), rate) < NO_MATCH
    assert best_correlation(right, clip("agent_question.wav"), rate) < NO_MATCH
    # each channel holds one speaker: about as much speech as that side played, little overlap
    played = {name: speech_seconds(clip(name), rate) for name in _CLIPS}
    agent_said = played["agent_hello.wav"] + played["agent_question.wav"]
    customer_said = played["customer_yes.wav"] + played["customer_answer.wav"]
    assert speech_seconds(left, rate) == pytest.approx(agent_said, abs=0.8)
    assert speech_seconds(right, rate) == pytest.approx(customer_said, abs=0.8)
    both = (envelope(left, rate) > 300) & (envelope(right, rate) > 300)
    assert both.sum() * 0.05 < 0.8
    # the bridge carried the agent's voice to the customer
    heard = sorted(peer.heard.glob("c1-*.wav"))
    assert heard, "the customer heard nothing"
    customer_heard, heard_rate = read_wav(heard[0])
    assert best_correlation(customer_heard[:, 0], clip("agent_question.wav"), heard_rate) > MATCH
    assert not list(path.parent.glob(".*.partial"))
    assert not list((path.parent / ".legs").glob("*.wav"))  # the legs were merged and removed


@pytest.mark.parametrize(
    ("script", "expected", "code"),
    [
        ({"answer": "busy"}, "busy", 486),
        ({"answer": "reject"}, "rejected", 603),
        ({"answer": "unavailable"}, "no_answer", 480),
        ({"answer": "no_answer"}, "no_answer", None),
        ({"answer": "not_found"}, "invalid_number", 404),
        ({"answer": "error"}, "failed", 500),
        (
            {"answer": "answer", "ring_s": 0.3, "turns": [{"wait": 1.5, "hangup": True}]},
            "hangup_customer",
            200,
        ),
    ],
)
def test_dispositions_from_the_simulator(
    tmp_path: Path, script: dict[str, object], expected: str, code: int | None
) -> None:
    with simulator(tmp_path, {"agent": SILENT_AGENT, "c1": script}) as peer:
        host = f"127.0.0.1:{peer.port}"
        env = engine_env(ring_timeout_s=3.0)
        result = place_call(tmp_path, f"sip:agent@{host}", f"sip:c1@{host}", env=env)
    ended = result.ended()
    assert ended["disposition"] == expected, result.events
    if code is not None:
        assert ended["sip_code"] == code
    recorded = result.recording()
    assert (recorded is not None) == (expected == "hangup_customer")


def test_nothing_listening_is_unreachable(tmp_path: Path) -> None:
    with simulator(tmp_path, {"agent": SILENT_AGENT}) as peer:
        nobody = udp_port()
        env = engine_env(ring_timeout_s=4.0)
        result = place_call(
            tmp_path, f"sip:agent@127.0.0.1:{peer.port}", f"sip:c1@127.0.0.1:{nobody}", env=env
        )
    assert result.ended()["disposition"] == "unreachable", result.events
    assert result.recording() is None


def test_agent_hangs_up_from_the_console(tmp_path: Path) -> None:
    with simulator(tmp_path, {"agent": SILENT_AGENT, "c1": CUSTOMER}) as peer:
        host = f"127.0.0.1:{peer.port}"
        result = place_call(
            tmp_path, f"sip:agent@{host}", f"sip:c1@{host}", "--hangup-after", "2.5"
        )
    assert result.ended()["disposition"] == "hangup_agent"
    recorded = result.recording()
    assert recorded is not None and recorded["duration_s"] == pytest.approx(2.5, abs=0.6)
    ended_by_customer = [e for e in peer.events() if e["event"] == "ended" and e["user"] == "c1"]
    assert ended_by_customer, "the customer's leg was not hung up"


def test_dtmf_both_ways(tmp_path: Path) -> None:
    customer = {
        "answer": "answer",
        "ring_s": 0.3,
        "turns": [{"wait": 1.0, "dtmf": "1#"}, {"wait": 4.0, "hangup": True}],
    }
    with simulator(tmp_path, {"agent": SILENT_AGENT, "c1": customer}) as peer:
        host = f"127.0.0.1:{peer.port}"
        result = place_call(
            tmp_path, f"sip:agent@{host}", f"sip:c1@{host}", "--dtmf", "42", "--dtmf-after", "0.5"
        )
        received = [e["digit"] for e in peer.events() if e["event"] == "dtmf"]
    from_customer = [e["digit"] for e in result.events if e["type"] == "DtmfEvent"]
    assert from_customer == ["1", "#"]
    assert all(e["leg"] == "customer" for e in result.events if e["type"] == "DtmfEvent")
    assert received == ["4", "2"]


def test_through_kamailio_with_registration_and_dial_plan(tmp_path: Path) -> None:
    with kamailio(tmp_path) as proxy_port:
        registrar = f"sip:127.0.0.1:{proxy_port}"
        scripts = {"8001": AGENT_PHONE, "13800138000": CUSTOMER}
        with simulator(tmp_path, scripts, registrar=registrar):
            env = engine_env(
                registrar=registrar, username="callcenter", password=PASSWORD, outside_prefix=""
            )
            # an extension and a customer number written the way the DMS exports them
            result = place_call(tmp_path, "8001", "138-0013-8000", env=env)
            unknown = place_call(tmp_path / "u", "8001", "13900000000", env=env)
            wrong_password = place_call(
                tmp_path / "w",
                "8001",
                "13800138000",
                env=engine_env(registrar=registrar, username="callcenter", password="nope"),
            )
    registered = [e for e in result.events if e["type"] == "RegistrationEvent"]
    assert registered and registered[0]["active"] and registered[0]["code"] == 200
    assert result.ended()["disposition"] == "hangup_agent"
    recorded = result.recording()
    assert recorded is not None
    audio, rate = read_wav(Path(recorded["path"]))
    assert best_correlation(audio[:, 0], clip("agent_question.wav"), rate) > MATCH
    assert best_correlation(audio[:, 1], clip("customer_answer.wav"), rate) > MATCH

    assert unknown.ended()["disposition"] == "invalid_number"
    assert unknown.ended()["sip_code"] == 404
    refused = [e for e in wrong_password.events if e["type"] == "RegistrationEvent"]
    assert refused and not refused[0]["active"] and refused[0]["code"] in (401, 403)


def _sipp() -> str:
    found = shutil.which("sipp")
    if found is None:
        pytest.skip("找不到 sipp;scripts/test.sh 会用 apt-get 安装 sip-tester")
    return found


def test_sipp_as_the_customer_echoes_the_agent_and_gets_dtmf_by_sip_info(tmp_path: Path) -> None:
    sipp = _sipp()
    port, media = udp_port(), 30000 + 2 * (udp_port() % 5000)
    uas = subprocess.Popen(
        [
            sipp,
            "-sn",
            "uas",
            "-p",
            str(port),
            "-i",
            "127.0.0.1",
            "-mi",
            "127.0.0.1",
            "-mp",
            str(media),
            "-rtp_echo",
            "-m",
            "1",
            "-timeout",
            "60s",
            "-nostdin",
            "-aa",  # answers INFO with 200 OK
            "-trace_msg",
            "-message_file",
            str(tmp_path / "uas-messages.log"),
            "-trace_err",
            "-error_file",
            str(tmp_path / "uas-errors.log"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    )
    try:
        time.sleep(0.5)
        agent = {
            "answer": "answer",
            "ring_s": 0.1,
            "turns": [{"wait": 0.5, "play": "agent_question.wav"}],
        }
        with simulator(tmp_path, {"agent": agent}) as peer:
            result = place_call(
                tmp_path,
                f"sip:agent@127.0.0.1:{peer.port}",
                f"sip:service@127.0.0.1:{port}",
                "--hangup-after",
                "6",
                "--dtmf",
                "5",
            )
        assert uas.wait(20) == 0  # SIPp counts the call as successful
    finally:
        if uas.poll() is None:
            uas.kill()
    assert result.ended()["disposition"] == "hangup_agent"
    recorded = result.recording()
    assert recorded is not None
    audio, rate = read_wav(Path(recorded["path"]))
    # SIPp sends back what it received: the customer channel is the agent's voice again
    assert best_correlation(audio[:, 1], clip("agent_question.wav"), rate) > MATCH
    # its SDP offers no telephone-event, so the digit went as SIP INFO
    messages = (tmp_path / "uas-messages.log").read_text()
    assert "INFO sip:" in messages and "application/dtmf-relay" in messages
    assert "Signal=5" in messages


def test_sipp_calls_the_simulator(tmp_path: Path) -> None:
    sipp = _sipp()
    answering = {"answer": "answer", "ring_s": 0.2, "turns": []}
    with simulator(tmp_path, {"c1": answering}) as peer:
        done = subprocess.run(
            [
                sipp,
                f"127.0.0.1:{peer.port}",
                "-sn",
                "uac",
                "-s",
                "c1",
                "-m",
                "2",
                "-d",
                "1500",
                "-i",
                "127.0.0.1",
                "-p",
                str(udp_port()),
                "-mi",
                "127.0.0.1",
                "-mp",
                str(30000 + 2 * (udp_port() % 5000)),
                "-timeout",
                "30s",
                "-timeout_error",
                "-nostdin",
            ],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=tmp_path,
        )
        answered = [e for e in peer.events() if e["event"] == "answered"]
    assert done.returncode == 0, done.stderr[-2000:]
    assert len(answered) == 2


def test_shutdown_mid_call_leaves_a_whole_recording_and_no_abort(tmp_path: Path) -> None:
    long_customer = {
        "answer": "answer",
        "ring_s": 0.2,
        "turns": [{"wait": 0.5, "play": "customer_answer.wav"}, {"wait": 60.0}],
    }
    with simulator(tmp_path, {"agent": SILENT_AGENT, "c1": long_customer}) as peer:
        host = f"127.0.0.1:{peer.port}"
        out = tmp_path / "recording.wav"
        process = subprocess.Popen(
            [
                *CALLCENTER,
                "--instance",
                str(tmp_path / "instance"),
                "telephony",
                "call",
                "--agent",
                f"sip:agent@{host}",
                "--customer",
                f"sip:c1@{host}",
                "--out",
                str(out),
                "--port",
                str(udp_port()),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=engine_env(),
        )
        time.sleep(6.0)
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=30)
    assert process.returncode in (0, 1), stderr[-3000:]  # not 134 (abort) nor a crash
    assert '"state": "ended"' in stdout
    audio, rate = read_wav(out)  # whole: a readable WAV with both channels
    assert audio.shape[1] == 2 and len(audio) / rate > 2.0
    assert best_correlation(audio[:, 1], clip("customer_answer.wav"), rate) > MATCH
    assert not list(tmp_path.glob(".*.partial"))
    assert not list((tmp_path / ".legs").glob("*.wav"))


def test_maximum_call_length_ends_the_call(tmp_path: Path) -> None:
    talkative = {"answer": "answer", "ring_s": 0.2, "turns": [{"wait": 60.0}]}
    with simulator(tmp_path, {"agent": SILENT_AGENT, "c1": talkative}) as peer:
        host = f"127.0.0.1:{peer.port}"
        result = place_call(
            tmp_path, f"sip:agent@{host}", f"sip:c1@{host}", env=engine_env(max_call_s=3.0)
        )
    assert result.ended()["disposition"] == "answered"  # the engine ended it, not a person
    recorded = result.recording()
    assert recorded is not None and recorded["duration_s"] == pytest.approx(3.0, abs=0.6)


def test_calls_over_tcp(tmp_path: Path) -> None:
    with simulator(tmp_path, {"agent": AGENT_PHONE, "c1": CUSTOMER}, transport="tcp") as peer:
        host = f"127.0.0.1:{peer.port};transport=tcp"
        result = place_call(
            tmp_path, f"sip:agent@{host}", f"sip:c1@{host}", env=engine_env(transport="tcp")
        )
    assert result.ended()["disposition"] == "hangup_agent", result.stderr[-2000:]
    recorded = result.recording()
    assert recorded is not None
    audio, rate = read_wav(Path(recorded["path"]))
    assert best_correlation(audio[:, 1], clip("customer_answer.wav"), rate) > MATCH
