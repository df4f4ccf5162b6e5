"""The engine as a service: call requests come in through the database (the console writes a
``Call`` with ``live_state = "requested"``), call state and recordings go back to it, and each
recorded call is queued for transcription. The console and the engine never share memory, so
either can restart alone.
"""

from __future__ import annotations

import logging
import queue
import socket
import threading
import time
from datetime import datetime
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from callcenter.config import Settings
from callcenter.db import make_engine, make_session_factory, session_scope
from callcenter.ids import PipelineState, SipDisposition
from callcenter.models import Call, Callback, TelephonyStatus, User, utcnow
from callcenter.telephony.dialplan import DialPlanError
from callcenter.telephony.events import (
    CallEvent,
    DtmfEvent,
    Event,
    LiveState,
    RecordingEvent,
    RegistrationEvent,
)

log = logging.getLogger(__name__)

LIVE = (LiveState.DIALLING, LiveState.RINGING, LiveState.ANSWERED, LiveState.BRIDGED)
HEARTBEAT_S = 5.0


class TelephonyRequestError(ValueError):
    """A call that cannot be requested; the message says why (in Chinese, for the console)."""


def request_click_to_call(
    session: Session,
    agent: User,
    customer_number: str,
    *,
    callback: Callback | None = None,
    template_id: str | None = None,
    agent_phone: str | None = None,
) -> Call:
    """Ask the engine to ring the agent's phone, then the customer (a ``Call`` row)."""
    phone = (agent_phone or agent.sip_extension or "").strip()
    if not phone:
        raise TelephonyRequestError(f"坐席 {agent.display_name} 没有设置分机号,无法点击呼叫")
    if not customer_number.strip():
        raise TelephonyRequestError("客户没有电话号码")
    call = Call(
        callback_id=callback.id if callback is not None else None,
        campaign_id=callback.campaign_id if callback is not None else None,
        agent_id=agent.id,
        template_id=template_id or (callback.kind if callback is not None else None),
        customer_number=customer_number.strip(),
        agent_phone=phone,
        live_state=LiveState.REQUESTED,
    )
    session.add(call)
    session.flush()
    return call


def request_hangup(session: Session, call_id: int) -> bool:
    """Ask the engine to end a call (the agent's hang-up button); False if it is already over."""
    call = session.get(Call, call_id)
    if call is None or call.live_state in (None, LiveState.ENDED):
        return False
    call.hangup_requested_at = utcnow()
    return True


def recording_name(call_id: int, when: datetime) -> Path:
    """Where a call's recording goes, relative to the recordings folder."""
    return Path(f"{when:%Y/%m/%d}") / f"call-{call_id:06d}.wav"


class TelephonyService:
    """Moves calls between the database and an engine (anything with the ``Engine`` API)."""

    def __init__(self, settings: Settings, sessions: sessionmaker[Session], engine: object):
        self.settings = settings
        self.sessions = sessions
        self.engine = engine
        self.name = socket.gethostname()[:64]
        self._hangups_sent: set[int] = set()
        self.in_flight: set[int] = set()  # calls handed to the engine and not yet ended
        self._beat = 0.0

    # --- start-up ------------------------------------------------------------------------

    def recover(self) -> int:
        """Calls left live by an engine that stopped without finishing them end as failed."""
        with session_scope(self.sessions) as session:
            stale = session.scalars(select(Call).where(Call.live_state.in_(list(LIVE)))).all()
            for call in stale:
                call.live_state = LiveState.ENDED
                call.ended_at = call.ended_at or utcnow()
                call.disposition = call.disposition or SipDisposition.FAILED
                call.end_reason = "电话引擎重启,通话中断"
            status = self._status(session)
            status.started_at = utcnow()
            if not self.settings.telephony.registrar:
                status.registered, status.reason = False, "直连模式(不注册)"
        if stale:
            log.warning("%d 通未结束的通话在引擎重启后标记为失败", len(stale))
        return len(stale)

    # --- requests in -----------------------------------------------------------------------

    def take_requests(self) -> int:
        """Start requested calls, as many as there are free channels."""
        free = self.settings.telephony.max_channels - len(self.in_flight)
        if free <= 0:
            return 0
        started = 0
        plan = self.settings.telephony.dial_plan()
        with session_scope(self.sessions) as session:
            ids = session.scalars(
                select(Call.id)
                .where(Call.live_state == LiveState.REQUESTED)
                .order_by(Call.id)
                .limit(free)
            ).all()
            for call_id in ids:
                claimed = session.execute(
                    update(Call)
                    .where(Call.id == call_id, Call.live_state == LiveState.REQUESTED)
                    .values(live_state=LiveState.DIALLING, started_at=utcnow())
                )
                if not getattr(claimed, "rowcount", 0):
                    continue  # another engine took it
                call = session.get(Call, call_id)
                if call is None:
                    continue
                if call.hangup_requested_at is not None:
                    self._end(call, SipDisposition.HANGUP_AGENT, "未拨出即被坐席取消")
                    continue
                try:
                    agent_uri = plan.agent_uri(call.agent_phone or "")
                    customer_uri = plan.customer_uri(call.customer_number or "")
                except DialPlanError as exc:
                    self._end(call, SipDisposition.INVALID_NUMBER, str(exc))
                    continue
                target = recording_name(call.id, call.started_at or utcnow())
                session.flush()
                self.engine.click_to_call(  # type: ignore[attr-defined]
                    str(call.id), agent_uri, customer_uri, self.settings.recordings_dir / target
                )
                self.in_flight.add(call.id)
                log.info("call=%s 呼叫坐席 %s,再呼客户 %s", call.id, agent_uri, customer_uri)
                started += 1
        return started

    def forward_hangups(self) -> None:
        with session_scope(self.sessions) as session:
            ids = session.scalars(
                select(Call.id).where(
                    Call.hangup_requested_at.is_not(None), Call.live_state.in_(list(LIVE))
                )
            ).all()
        for call_id in ids:
            if call_id not in self._hangups_sent:
                self._hangups_sent.add(call_id)
                self.engine.hangup(str(call_id))  # type: ignore[attr-defined]

    # --- events out ------------------------------------------------------------------------

    def apply(self, event: Event) -> None:
        """Store what the engine reported."""
        if isinstance(event, RegistrationEvent):
            with session_scope(self.sessions) as session:
                status = self._status(session)
                status.account_uri, status.registered = event.uri, event.active
                status.status_code, status.reason = event.code, event.reason
                status.expires_s = event.expires_s
            log.info("SIP 注册 %s: %s %s", event.uri, event.code, event.reason)
            return
        if isinstance(event, DtmfEvent):
            log.info("call=%s %s 按键 %s", event.ref, event.leg, event.digit)
            return
        call_id = int(event.ref)
        with session_scope(self.sessions) as session:
            call = session.get(Call, call_id)
            if call is None:
                log.error("call=%s 不存在,忽略事件 %s", call_id, event)
                return
            if isinstance(event, CallEvent):
                self._on_call_event(call, event)
            elif isinstance(event, RecordingEvent):
                self._on_recording(call, event)
        if isinstance(event, RecordingEvent) and event.path is not None:
            from callcenter.pipeline.tasks import enqueue_or_log

            enqueue_or_log(self.settings, call_id)
        if isinstance(event, CallEvent) and event.state == LiveState.ENDED:
            self._hangups_sent.discard(call_id)
            self.in_flight.discard(call_id)

    def _on_call_event(self, call: Call, event: CallEvent) -> None:
        if call.live_state == LiveState.ENDED:
            return
        call.live_state = event.state
        if event.state == LiveState.ANSWERED:
            call.answered_at = utcnow()
        elif event.state == LiveState.ENDED:
            self._end(call, event.disposition or SipDisposition.FAILED, event.reason)
            call.sip_status_code = event.sip_code
            log.info(
                "call=%s 结束: %s (%s %s)", call.id, call.disposition, event.sip_code, event.reason
            )

    def _end(self, call: Call, disposition: str, reason: str) -> None:
        call.live_state = LiveState.ENDED
        call.ended_at = utcnow()
        call.disposition = disposition
        call.end_reason = reason[:255] or None
        if call.callback is not None:
            call.callback.attempts += 1

    def _on_recording(self, call: Call, event: RecordingEvent) -> None:
        if event.path is None:
            call.pipeline_state = PipelineState.FAILED
            call.pipeline_error = f"录音未能保存: {event.error}"
            log.error("call=%s %s", call.id, call.pipeline_error)
            return
        try:
            stored = event.path.relative_to(self.settings.recordings_dir)
        except ValueError:
            stored = event.path
        call.recording_path = str(stored)
        call.recording_sha256 = event.sha256
        call.duration_s = event.duration_s
        call.pipeline_state = PipelineState.RECORDED
        log.info("call=%s 录音已保存: %s (%.1f 秒)", call.id, stored, event.duration_s)

    # --- heartbeat -------------------------------------------------------------------------

    def heartbeat(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._beat < HEARTBEAT_S:
            return
        self._beat = now
        with session_scope(self.sessions) as session:
            status = self._status(session)
            status.seen_at = utcnow()
            status.active_calls = len(self.in_flight)

    def _status(self, session: Session) -> TelephonyStatus:
        status = session.scalar(select(TelephonyStatus).where(TelephonyStatus.engine == self.name))
        if status is None:
            status = TelephonyStatus(engine=self.name, registered=False, active_calls=0)
            session.add(status)
            session.flush()
        return status

    # --- the loop --------------------------------------------------------------------------

    def step(self, wait_s: float) -> None:
        """Take new requests and hang-ups, then store events for up to ``wait_s`` seconds."""
        self.take_requests()
        self.forward_hangups()
        deadline = time.monotonic() + wait_s
        events: queue.Queue[Event] = self.engine.events  # type: ignore[attr-defined]
        while True:
            remaining = deadline - time.monotonic()
            try:
                event = (
                    events.get(timeout=max(remaining, 0.0))
                    if remaining > 0
                    else (events.get_nowait())
                )
            except queue.Empty:
                break
            self.apply(event)
        self.heartbeat()

    def drain(self) -> None:
        events: queue.Queue[Event] = self.engine.events  # type: ignore[attr-defined]
        while True:
            try:
                self.apply(events.get_nowait())
            except queue.Empty:
                return


def run_service(
    settings: Settings,
    stop: threading.Event | None = None,
    sessions: sessionmaker[Session] | None = None,
) -> None:
    """Run the engine until ``stop`` is set: ``callcenter telephony`` and the ``serve`` child."""
    from callcenter.telephony.pool import LinePool

    stop = stop or threading.Event()
    own_engine = None
    if sessions is None:
        own_engine = make_engine(settings.sqlalchemy_url)
        sessions = make_session_factory(own_engine)
    telephony = settings.telephony
    engine = LinePool(telephony.sip_config(), telephony.account(), telephony.limits()).start()
    service = TelephonyService(settings, sessions, engine)
    try:
        service.recover()
        service.heartbeat(force=True)
        while not stop.is_set():
            service.step(telephony.poll_s)
    finally:
        engine.stop()
        service.drain()
        service.heartbeat(force=True)
        if own_engine is not None:
            own_engine.dispose()
