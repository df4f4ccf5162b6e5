"""One click-to-call: the agent's leg, then the customer's, bridged and recorded leg by leg.

Everything here runs on the engine thread, inside pjsua2's callbacks or the engine's loop.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pjsua2 as pj

from callcenter.ids import SipDisposition
from callcenter.telephony.dispositions import disposition
from callcenter.telephony.endpoint import reason
from callcenter.telephony.events import CallEvent, DtmfEvent, Event, LiveState

log = logging.getLogger(__name__)


class Leg(pj.Call):
    """One SIP call of a bridge; pjsua2's callbacks are passed on to the bridge."""

    def __init__(self, account: Any, bridge: Bridge, role: str) -> None:
        super().__init__(account)
        self.bridge, self.role = bridge, role
        self.started = time.monotonic()
        self.rang = self.confirmed = self.gone = self.we_hung_up = self.timed_out = False
        self.code: int | None = None
        self.reason = ""

    def onCallState(self, prm: Any) -> None:  # noqa: N802 (pjsua2's name)
        self.bridge.on_state(self, self.getInfo())

    def onCallMediaState(self, prm: Any) -> None:  # noqa: N802
        self.bridge.on_media()

    def onDtmfDigit(self, prm: Any) -> None:  # noqa: N802
        self.bridge.on_dtmf(self, str(prm.digit))

    def audio(self) -> Any:
        """The leg's audio in the conference bridge, once its media is up."""
        info = self.getInfo()
        for index, media in enumerate(info.media):
            if media.type == pj.PJMEDIA_TYPE_AUDIO and media.status == pj.PJSUA_CALL_MEDIA_ACTIVE:
                return self.getAudioMedia(index)
        return None

    def end(self) -> None:
        if self.gone:
            return
        self.we_hung_up = True
        try:
            self.hangup(pj.CallOpParam())
        except pj.Error as exc:
            log.debug("挂断 %s 腿: %s", self.role, reason(exc))


class Bridge:
    """Agent first, then the customer; connected and recorded once both have answered."""

    def __init__(
        self,
        account: Any,
        ref: str,
        agent_uri: str,
        customer_uri: str,
        recording: Path,
        emit: Callable[[Event], None],
    ) -> None:
        self.account, self.ref, self.recording, self.emit = account, ref, recording, emit
        self.agent_uri, self.customer_uri = agent_uri, customer_uri
        self.agent: Leg | None = None
        self.customer: Leg | None = None
        self.ended_by: str | None = None
        self.ending = False
        self.failure = ""  # why a leg could not even be dialled
        self.bridged_at: float | None = None
        self._recorders: list[Any] = []
        self._parts: tuple[Path, Path] | None = None
        self._rang_reported = False

    # --- steps ---------------------------------------------------------------------------

    def start(self) -> None:
        self.agent = self._dial("agent", self.agent_uri)

    def _dial(self, role: str, uri: str) -> Leg | None:
        self.emit(CallEvent(self.ref, LiveState.DIALLING, role, time.time()))
        leg = Leg(self.account, self, role)
        try:
            leg.makeCall(uri, pj.CallOpParam(True))
        except pj.Error as exc:
            self.failure = f"无法呼叫 {uri}: {reason(exc)}"
            log.warning("call=%s %s", self.ref, self.failure)
            leg.gone = True
            return leg
        return leg

    def on_state(self, leg: Leg, info: Any) -> None:
        state = info.state
        if state == pj.PJSIP_INV_STATE_EARLY:
            leg.rang = True
            if leg.role == "customer" and not self._rang_reported:
                self._rang_reported = True
                self.emit(CallEvent(self.ref, LiveState.RINGING, "customer", time.time()))
        elif state == pj.PJSIP_INV_STATE_CONFIRMED:
            leg.confirmed = True
            if leg.role == "agent" and self.customer is None and not self.ending:
                self.customer = customer = self._dial("customer", self.customer_uri)
                if customer is not None and customer.gone:
                    self.hang_up(ended_by=None)
            elif leg.role == "customer":
                self.emit(CallEvent(self.ref, LiveState.ANSWERED, "customer", time.time()))
                self.on_media()
        elif state == pj.PJSIP_INV_STATE_DISCONNECTED:
            leg.gone = True
            leg.code, leg.reason = int(info.lastStatusCode), str(info.lastReason)
            if leg.confirmed and not leg.we_hung_up and self.ended_by is None:
                self.ended_by = leg.role  # that side put the phone down
            elif not leg.confirmed and leg.role == "agent" and not leg.we_hung_up:
                self.failure = self.failure or f"坐席电话未接通: {leg.code} {leg.reason}"
            self.hang_up(ended_by=None)

    def on_media(self) -> None:
        """Connect the two legs and start recording, once both answered and have audio."""
        agent, customer = self.agent, self.customer
        if self._parts is not None or agent is None or customer is None:
            return
        if not (agent.confirmed and customer.confirmed) or agent.gone or customer.gone:
            return
        agent_audio, customer_audio = agent.audio(), customer.audio()
        if agent_audio is None or customer_audio is None:
            return
        folder = self.recording.parent / ".legs"
        folder.mkdir(parents=True, exist_ok=True)
        parts = (folder / f"{self.ref}.agent.wav", folder / f"{self.ref}.customer.wav")
        for audio, path in zip((agent_audio, customer_audio), parts, strict=True):
            recorder = pj.AudioMediaRecorder()
            recorder.createRecorder(str(path))
            audio.startTransmit(recorder)
            self._recorders.append(recorder)
        agent_audio.startTransmit(customer_audio)
        customer_audio.startTransmit(agent_audio)
        self._parts = parts
        self.bridged_at = time.monotonic()
        self.emit(CallEvent(self.ref, LiveState.BRIDGED, "customer", time.time()))

    def on_dtmf(self, leg: Leg, digit: str) -> None:
        self.emit(DtmfEvent(self.ref, leg.role, digit, time.time()))

    def send_dtmf(self, role: str, digits: str) -> None:
        leg = self.agent if role == "agent" else self.customer
        if leg is None or leg.gone or not leg.confirmed:
            log.warning("call=%s %s 腿未接通,无法发送按键 %s", self.ref, role, digits)
            return
        try:
            leg.dialDtmf(digits)  # RFC 2833, when the peer offered telephone-event
        except pj.Error:
            param = pj.CallSendDtmfParam()
            param.method = pj.PJSUA_DTMF_METHOD_SIP_INFO
            param.digits = digits
            leg.sendDtmf(param)

    def hang_up(self, ended_by: str | None) -> None:
        if ended_by is not None and self.ended_by is None:
            self.ended_by = ended_by
        self.ending = True
        for leg in (self.agent, self.customer):
            if leg is not None:
                leg.end()

    def check_time(self, now: float, ring_timeout_s: float, max_call_s: float) -> None:
        for leg in (self.agent, self.customer):
            if leg is not None and not leg.gone and not leg.confirmed:
                if now - leg.started > ring_timeout_s and not leg.we_hung_up:
                    leg.timed_out = True
                    self.hang_up(ended_by=None)
        if self.bridged_at is not None and now - self.bridged_at > max_call_s and not self.ending:
            log.info("call=%s 超过最长通话时间 %.0f 秒,挂断", self.ref, max_call_s)
            self.hang_up(ended_by=None)

    # --- the end ---------------------------------------------------------------------------

    def finished(self) -> bool:
        legs = [leg for leg in (self.agent, self.customer) if leg is not None]
        return bool(legs) and all(leg.gone for leg in legs)

    def force_end(self) -> None:
        """Shutting down and a leg never said goodbye: treat it as gone."""
        for leg in (self.agent, self.customer):
            if leg is not None:
                leg.gone = True

    def close_recorders(self) -> tuple[Path, Path] | None:
        """Stop recording (closing a recorder writes its WAV header); the legs' files."""
        self._recorders.clear()
        return self._parts

    def release(self) -> list[Any]:
        """The pjsua2 objects this bridge held, for the engine to drop outside callbacks."""
        legs = [leg for leg in (self.agent, self.customer) if leg is not None]
        self.agent = self.customer = None
        return legs

    def ended_event(self) -> CallEvent:
        customer = self.customer
        if customer is None:
            agent = self.agent
            code = agent.code if agent is not None else None
            if self.ended_by == "agent":
                result = SipDisposition.HANGUP_AGENT
            else:
                result = SipDisposition.FAILED
            why = self.failure or (f"坐席电话未接通: {code}" if code else "坐席电话未接通")
            if agent is not None and agent.timed_out:
                why = "坐席电话无人接听"
            return CallEvent(self.ref, LiveState.ENDED, "agent", time.time(), result, code, why)
        result = disposition(
            customer.code,
            answered=customer.confirmed,
            ended_by=self.ended_by,
            rang=customer.rang,
            timed_out=customer.timed_out,
        )
        why = self.failure or customer.reason
        return CallEvent(
            self.ref, LiveState.ENDED, "customer", time.time(), result, customer.code, why
        )
