"""The telephony service's bookkeeping with a stand-in engine (the real engine is exercised in
test_telephony_service.py): channel limit, bad numbers, early hang-ups, events stored on the
Call, recovery after a restart."""

from __future__ import annotations

import queue
import time
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from callcenter.config import Settings
from callcenter.ids import PipelineState
from callcenter.models import Call, Dealership, TelephonyStatus, User
from callcenter.telephony.events import CallEvent, LiveState, RecordingEvent, RegistrationEvent
from callcenter.telephony.service import TelephonyService, request_click_to_call


class StandInEngine:
    """Records what the service asks of it; the test feeds its events."""

    def __init__(self) -> None:
        self.placed: list[tuple[str, str, str, Path]] = []
        self.hung_up: list[str] = []
        self.events: queue.Queue[Any] = queue.Queue()

    def click_to_call(self, ref: str, agent: str, customer: str, recording: Path) -> None:
        self.placed.append((ref, agent, customer, recording))

    def hangup(self, ref: str) -> None:
        self.hung_up.append(ref)


def _agent(sessions: sessionmaker[Session], dealership: Dealership) -> int:
    with sessions() as session:
        agent = User(
            dealership_id=dealership.id,
            username="a1",
            display_name="林晓雯",
            role="agent",
            password_hash="x",
            sip_extension="8001",
        )
        session.add(agent)
        session.commit()
        return agent.id


def _request(sessions: sessionmaker[Session], agent_id: int, number: str) -> int:
    with sessions() as session:
        agent = session.get(User, agent_id)
        assert agent is not None
        call = request_click_to_call(session, agent, number, template_id="service_3dc")
        session.commit()
        return call.id


def test_requests_wait_for_a_free_channel_and_events_land_on_the_call(
    settings: Settings, sessions: sessionmaker[Session], dealership: Dealership
) -> None:
    settings.telephony.max_channels = 2
    settings.telephony.domain = "pbx.local"
    settings.telephony.outside_prefix = "9"
    settings.pipeline.queue = "memory"
    engine = StandInEngine()
    service = TelephonyService(settings, sessions, engine)
    agent_id = _agent(sessions, dealership)
    ids = [_request(sessions, agent_id, f"1381234567{i}") for i in range(3)]

    assert service.take_requests() == 2
    assert [p[0] for p in engine.placed] == [str(ids[0]), str(ids[1])]
    ref, agent_uri, customer_uri, target = engine.placed[0]
    assert agent_uri == "sip:8001@pbx.local" and customer_uri == "sip:913812345670@pbx.local"
    assert target.parent.parent.parent.parent == settings.recordings_dir  # YYYY/MM/DD
    with sessions() as session:
        waiting = session.get(Call, ids[2])
        assert waiting is not None and waiting.live_state == LiveState.REQUESTED
    assert service.take_requests() == 0  # both channels busy

    now = time.time()
    service.apply(CallEvent(ref, LiveState.ANSWERED, "customer", now))
    service.apply(CallEvent(ref, LiveState.ENDED, "customer", now, "hangup_customer", 200, "OK"))
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(b"RIFF")
    service.apply(RecordingEvent(ref, target, "ab" * 32, 12.5))
    with sessions() as session:
        call = session.get(Call, ids[0])
        assert call is not None
        assert call.live_state == LiveState.ENDED and call.disposition == "hangup_customer"
        assert call.answered_at is not None and call.ended_at is not None
        assert call.recording_path == str(target.relative_to(settings.recordings_dir))
        assert call.duration_s == 12.5 and call.recording_sha256 == "ab" * 32
        assert call.pipeline_state in (
            PipelineState.RECORDED,
            PipelineState.FAILED,
            PipelineState.TRANSCRIBED,
            PipelineState.DONE,
        )
    assert service.take_requests() == 1  # the freed channel takes the waiting call
    assert engine.placed[-1][0] == str(ids[2])

    service.apply(RegistrationEvent("sip:callcenter@pbx.local", True, 200, "OK", 300))
    with sessions() as session:
        status = session.query(TelephonyStatus).one()
        assert status.registered and status.status_code == 200


def test_bad_numbers_early_hangups_and_recovery(
    settings: Settings, sessions: sessionmaker[Session], dealership: Dealership
) -> None:
    settings.telephony.domain = "pbx.local"
    engine = StandInEngine()
    service = TelephonyService(settings, sessions, engine)
    agent_id = _agent(sessions, dealership)
    bad = _request(sessions, agent_id, "12345")
    cancelled = _request(sessions, agent_id, "13812345678")
    with sessions() as session:
        from callcenter.telephony.service import request_hangup

        assert request_hangup(session, cancelled)
        session.commit()
    assert service.take_requests() == 0
    assert engine.placed == []
    with sessions() as session:
        wrong = session.get(Call, bad)
        gone = session.get(Call, cancelled)
        assert wrong is not None and gone is not None
        assert wrong.disposition == "invalid_number" and "12345" in (wrong.end_reason or "")
        assert gone.disposition == "hangup_agent" and gone.live_state == LiveState.ENDED

    # a call the engine was working on when it stopped is not left "bridged" for ever
    live = _request(sessions, agent_id, "13812345679")
    with sessions() as session:
        call = session.get(Call, live)
        assert call is not None
        call.live_state = LiveState.BRIDGED
        session.commit()
    assert TelephonyService(settings, sessions, StandInEngine()).recover() == 1
    with sessions() as session:
        call = session.get(Call, live)
        assert call is not None
        assert call.live_state == LiveState.ENDED and call.disposition == "failed"
        assert call.end_reason == "电话引擎重启,通话中断"
