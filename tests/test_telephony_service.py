"""``callcenter serve`` with its telephony child: a click-to-call requested through the database is
placed for real (simulated agent phone and customer), recorded onto the Call, transcribed and
scored by the worker; the console's hang-up request ends a call."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from callcenter.config import Settings
from callcenter.ids import PipelineState, Role
from callcenter.models import Call, Dealership, TelephonyStatus, Transcript, User
from callcenter.telephony.service import request_click_to_call, request_hangup
from tests.sip_peers import rtp_base, simulator, udp_port

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parent.parent

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
    "ring_s": 0.5,
    "turns": [
        {"wait": "silence", "play": "customer_yes.wav"},
        {"wait": "silence", "play": "customer_answer.wav"},
    ],
}
TALKATIVE = {"answer": "answer", "ring_s": 0.3, "turns": [{"wait": 60.0}]}


def wait_for(check: Callable[[], object], timeout_s: float, what: str) -> object:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.25)
    raise AssertionError(f"等待超时 ({timeout_s} 秒): {what}")


def _call(sessions: sessionmaker[Session], call_id: int) -> Call:
    with sessions() as session:
        call = session.get(Call, call_id)
        assert call is not None
        return call


def test_serve_places_records_and_transcribes_a_requested_call(
    settings: Settings, sessions: sessionmaker[Session], dealership: Dealership, tmp_path: Path
) -> None:
    with sessions() as session:
        agent = User(
            dealership_id=dealership.id,
            username="agent8001",
            display_name="林晓雯",
            role=Role.AGENT,
            password_hash="x",
            sip_extension="8001",
        )
        session.add(agent)
        session.commit()
        agent_id = agent.id

    scripts = {"8001": AGENT_PHONE, "13800138000": CUSTOMER, "13900139000": TALKATIVE}
    with simulator(tmp_path, scripts) as peer:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CALLCENTER_")}
        env.update(
            CALLCENTER_TELEPHONY__SIP_PORT=str(udp_port()),
            CALLCENTER_TELEPHONY__RTP_PORT=str(rtp_base()),
            CALLCENTER_TELEPHONY__DOMAIN=f"127.0.0.1:{peer.port}",  # direct IP: no PBX
            CALLCENTER_PIPELINE__WORKERS="1",
        )
        log_path = tmp_path / "serve.log"
        with log_path.open("wb") as log:
            server = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "callcenter",
                    "--instance",
                    settings.instance_path,
                    "serve",
                    "--port",
                    str(udp_port()),
                ],
                cwd=REPO,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            wait_for(lambda: "已启动 telephony" in log_path.read_text(), 60, "telephony child")
            with sessions() as session:
                agent = session.get(User, agent_id)
                assert agent is not None
                call_id = request_click_to_call(
                    session, agent, "138-0013-8000", template_id="service_3dc"
                ).id
                session.commit()

            wait_for(
                lambda: (
                    _call(sessions, call_id).pipeline_state
                    in (PipelineState.DONE, PipelineState.FAILED)
                ),
                180,
                "the call to be recorded, transcribed and scored",
            )
            call = _call(sessions, call_id)
            assert call.pipeline_state == PipelineState.DONE, (
                call.pipeline_error,
                log_path.read_text()[-4000:],
            )
            assert call.live_state == "ended" and call.disposition == "hangup_agent"
            assert call.started_at and call.answered_at and call.ended_at
            assert call.recording_path and not Path(call.recording_path).is_absolute()
            recording = settings.recordings_dir / call.recording_path
            assert hashlib.sha256(recording.read_bytes()).hexdigest() == call.recording_sha256
            assert call.duration_s is not None and 8.0 < call.duration_s < 25.0
            with sessions() as session:
                transcript = session.scalar(select(Transcript).where(Transcript.call_id == call_id))
                assert transcript is not None
                said = {s["speaker"]: "" for s in transcript.segments}
                for s in transcript.segments:
                    said[s["speaker"]] += s["text"]
                assert "张先生" in said["agent"]  # 您好,请问是张先生吗?
                assert "满意" in said["customer"]  # 不太满意,车里面没擦干净
                status = session.scalars(select(TelephonyStatus)).one()
                assert status.reason == "直连模式(不注册)" and status.seen_at is not None

            # the agent's hang-up button ends a call in progress
            with sessions() as session:
                agent = session.get(User, agent_id)
                assert agent is not None
                long_id = request_click_to_call(session, agent, "13900139000").id
                session.commit()
            wait_for(lambda: _call(sessions, long_id).live_state == "bridged", 30, "bridged")
            with sessions() as session:
                assert request_hangup(session, long_id)
                session.commit()
            wait_for(lambda: _call(sessions, long_id).live_state == "ended", 15, "hang-up")
            assert _call(sessions, long_id).disposition == "hangup_agent"
        finally:
            server.send_signal(signal.SIGTERM)
            code = server.wait(timeout=60)
        assert code == 0, log_path.read_text()[-4000:]
    shown = subprocess.run(
        [
            sys.executable,
            "-m",
            "callcenter",
            "--instance",
            settings.instance_path,
            "telephony",
            "status",
        ],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    ).stdout
    assert "未注册" in shown and "直连模式(不注册)" in shown and "进行中的通话: 0" in shown


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid and fields[0] != "Z":
                found.append(int(entry.name))
    return found


def test_the_engine_runs_on_its_own_and_survives_a_dead_line(
    settings: Settings, sessions: sessionmaker[Session], dealership: Dealership, tmp_path: Path
) -> None:
    with sessions() as session:
        agent = User(
            dealership_id=dealership.id,
            username="agent8001",
            display_name="林晓雯",
            role=Role.AGENT,
            password_hash="x",
            sip_extension="8001",
        )
        session.add(agent)
        session.commit()
        agent_id = agent.id
    scripts = {"8001": TALKATIVE, "13900139000": TALKATIVE}
    with simulator(tmp_path, scripts) as peer:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CALLCENTER_")}
        env.update(
            CALLCENTER_TELEPHONY__SIP_PORT=str(udp_port()),
            CALLCENTER_TELEPHONY__RTP_PORT=str(rtp_base()),
            CALLCENTER_TELEPHONY__DOMAIN=f"127.0.0.1:{peer.port}",
            CALLCENTER_TELEPHONY__MAX_CHANNELS="2",  # one line
        )
        log_path = tmp_path / "engine.log"
        with log_path.open("wb") as log:
            engine = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "callcenter",
                    "--instance",
                    settings.instance_path,
                    "telephony",
                ],
                cwd=REPO,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            wait_for(lambda: "电话线路已就绪: 1 条" in log_path.read_text(), 60, "the line")

            def call(number: str) -> int:
                with sessions() as session:
                    agent = session.get(User, agent_id)
                    assert agent is not None
                    call_id = request_click_to_call(session, agent, number).id
                    session.commit()
                    return call_id

            first = call("13900139000")
            wait_for(lambda: _call(sessions, first).live_state == "bridged", 30, "bridged")
            lines = _children(engine.pid)
            assert len(lines) == 1
            os.kill(lines[0], signal.SIGKILL)  # as if pjsua2 had aborted the line
            wait_for(lambda: _call(sessions, first).live_state == "ended", 30, "the lost call")
            lost = _call(sessions, first)
            assert lost.disposition == "failed" and lost.end_reason == "电话线路进程异常退出"
            assert "电话线路 1 意外退出" in log_path.read_text()

            second = call("13900139000")  # the line was started again
            wait_for(lambda: _call(sessions, second).live_state == "bridged", 60, "new line")
        finally:
            engine.send_signal(signal.SIGTERM)
            code = engine.wait(timeout=60)
        assert code == 0, log_path.read_text()[-3000:]
    assert _call(sessions, second).live_state == "ended"  # hung up on the way out
    shown = subprocess.run(
        [
            sys.executable,
            "-m",
            "callcenter",
            "--instance",
            settings.instance_path,
            "telephony",
            "status",
        ],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    ).stdout
    assert "直连模式(不注册)" in shown and "进行中的通话: 0" in shown
