"""The telephony engine: one thread owns the endpoint, places click-to-call bridges and records
them; everything else talks to it through ``Engine``'s methods (a command queue) and reads
``Engine.events``.

A click-to-call rings the agent's phone first; when the agent answers it calls the customer and,
once the customer answers, connects the two and records each leg on its own. Either side
hanging up ends both. The legs' recordings are merged into the two-channel WAV (agent left,
customer right) off the engine thread.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pjsua2 as pj

from callcenter.telephony.bridge import Bridge
from callcenter.telephony.endpoint import (
    SipConfig,
    SipError,
    create_endpoint,
    destroy_endpoint,
    media_config,
    reason,
)
from callcenter.telephony.events import (
    CallEvent,
    Event,
    LiveState,
    RecordingEvent,
    RegistrationEvent,
)
from callcenter.telephony.recording import RecordingError, merge_legs

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class AccountConfig:
    """The engine's SIP identity: registered with a PBX / trunk, or direct IP (no registrar)."""

    registrar: str = ""  # "sip:pbx.example.com"; empty: direct-IP mode
    username: str = ""
    password: str = ""
    realm: str = "*"
    domain: str = ""  # the identity's host; default: the registrar's host, else the bound address
    outbound_proxy: str = ""  # "sip:proxy.example.com;lr"
    caller_id: str = ""  # display name shown to the called party
    reregister_s: int = 300


@dataclass(frozen=True, slots=True)
class CallLimits:
    ring_timeout_s: float = 30.0
    max_call_s: float = 1800.0
    max_channels: int = 30  # click-to-calls at once


@dataclass(frozen=True, slots=True)
class _ClickToCall:
    ref: str
    agent_uri: str
    customer_uri: str
    recording: Path


@dataclass(frozen=True, slots=True)
class _Hangup:
    ref: str


@dataclass(frozen=True, slots=True)
class _Dtmf:
    ref: str
    digits: str
    leg: str


class _Stop:
    pass


class Engine:
    """The endpoint's owner. Thread-safe methods; ``events`` is a queue of ``Event``."""

    def __init__(
        self,
        sip: SipConfig,
        account: AccountConfig | None = None,
        limits: CallLimits | None = None,
        listener: Callable[[Event], None] | None = None,
    ) -> None:
        self.sip, self.account = sip, account or AccountConfig()
        self.limits = limits or CallLimits()
        self.events: queue.Queue[Event] = queue.Queue()
        self._listener = listener
        self._commands: queue.Queue[Any] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="sip-engine", daemon=True)
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self.active = 0  # click-to-calls in progress (read from any thread)

    # --- the API, for any thread ----------------------------------------------------------

    def start(self, timeout_s: float = 15.0) -> Engine:
        """Start the engine thread; raise ``SipError`` if the endpoint cannot start."""
        self._thread.start()
        if not self._ready.wait(timeout_s):
            raise SipError("SIP 引擎启动超时")
        if self._error is not None:
            raise self._error
        return self

    def click_to_call(self, ref: str, agent_uri: str, customer_uri: str, recording: Path) -> None:
        """Ring the agent, then the customer, bridge and record them into ``recording``."""
        self._commands.put(_ClickToCall(ref, agent_uri, customer_uri, Path(recording)))

    def hangup(self, ref: str) -> None:
        """End the call (as the agent hanging up from the console)."""
        self._commands.put(_Hangup(ref))

    def send_dtmf(self, ref: str, digits: str, leg: str = "customer") -> None:
        """Send keypad digits: RFC 2833, or SIP INFO when the peer has no telephone-event."""
        self._commands.put(_Dtmf(ref, digits, leg))

    def stop(self, timeout_s: float = 20.0) -> None:
        """Hang up every call, finish its recording, destroy the endpoint."""
        if self._thread.is_alive():
            self._commands.put(_Stop())
            self._thread.join(timeout_s)

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    # --- the engine thread ----------------------------------------------------------------

    def _emit(self, event: Event) -> None:
        self.events.put(event)
        if self._listener is not None:
            try:
                self._listener(event)
            except Exception:
                log.exception("事件处理出错: %s", event)

    def _run(self) -> None:
        try:
            self._ep = create_endpoint(self.sip)
            self._account: _Account | None = _Account(self)
            self._account.create(self._account_config())
        except Exception as exc:  # noqa: BLE001 (reported to start())
            self._error = exc if isinstance(exc, SipError) else SipError(reason(exc))
            self._ready.set()
            if getattr(self, "_ep", None) is not None:
                self._account = None
                destroy_endpoint(self._ep)
            return
        self._bridges: dict[str, Bridge] = {}
        self._graveyard: list[Any] = []  # pjsua2 objects to drop outside their own callbacks
        self._merges = ThreadPoolExecutor(max_workers=2, thread_name_prefix="recording-merge")
        self._pending: list[tuple[Bridge, Future[Any]]] = []
        self._ready.set()
        log.info(
            "SIP 引擎已启动: %s:%s/%s", self.sip.bind_address, self.sip.sip_port, self.sip.transport
        )
        try:
            while self._handle_commands():
                self._ep.libHandleEvents(10)
                self._tick()
        except Exception:
            log.exception("SIP 引擎出错,正在关闭")
        finally:
            self._shutdown()

    def _account_config(self) -> Any:
        config = pj.AccountConfig()
        a = self.account
        host = a.domain or _host(a.registrar) or self.sip.bind_address
        if not a.registrar and not a.domain:
            host = f"{self.sip.bind_address}:{self.sip.sip_port}"
        user = a.username or "callcenter"
        name = f'"{a.caller_id}" ' if a.caller_id else ""
        config.idUri = f"{name}<sip:{user}@{host}>"
        if a.registrar:
            config.regConfig.registrarUri = a.registrar
            config.regConfig.timeoutSec = a.reregister_s
            config.regConfig.retryIntervalSec = 30
        if a.username:
            config.sipConfig.authCreds.append(
                pj.AuthCredInfo("digest", a.realm or "*", a.username, 0, a.password)
            )
        if a.outbound_proxy:
            config.sipConfig.proxies.append(a.outbound_proxy)
        config.mediaConfig.transportConfig = media_config(self.sip)
        return config

    def _handle_commands(self) -> bool:
        while True:
            try:
                command = self._commands.get_nowait()
            except queue.Empty:
                return True
            if isinstance(command, _Stop):
                return False
            try:
                if isinstance(command, _ClickToCall):
                    self._start_click_to_call(command)
                elif isinstance(command, _Hangup):
                    bridge = self._bridges.get(command.ref)
                    if bridge is not None:
                        bridge.hang_up(ended_by="agent")
                elif isinstance(command, _Dtmf):
                    bridge = self._bridges.get(command.ref)
                    if bridge is not None:
                        bridge.send_dtmf(command.leg, command.digits)
            except Exception:
                log.exception("处理命令出错: %s", command)

    def _start_click_to_call(self, command: _ClickToCall) -> None:
        if command.ref in self._bridges:
            log.warning("call=%s 已在进行中,忽略重复请求", command.ref)
            return
        if len(self._bridges) >= self.limits.max_channels:
            self._emit(
                CallEvent(
                    command.ref,
                    LiveState.ENDED,
                    "agent",
                    time.time(),
                    "failed",
                    None,
                    f"线路已满(最多 {self.limits.max_channels} 路同时通话)",
                )
            )
            return
        bridge = Bridge(
            self._account,
            command.ref,
            command.agent_uri,
            command.customer_uri,
            command.recording,
            self._emit,
        )
        self._bridges[command.ref] = bridge
        self.active = len(self._bridges)
        bridge.start()

    def _tick(self) -> None:
        now = time.monotonic()
        for bridge in list(self._bridges.values()):
            bridge.check_time(now, self.limits.ring_timeout_s, self.limits.max_call_s)
            if bridge.finished():
                del self._bridges[bridge.ref]
                self.active = len(self._bridges)
                self._finish(bridge)
        if self._graveyard:
            self._graveyard.clear()
        still = []
        for bridge, future in self._pending:
            if future.done():
                self._emit(future.result())
            else:
                still.append((bridge, future))
        self._pending = still

    def _finish(self, bridge: Bridge) -> None:
        """The call is over: close its recorders (pjsua2 writes the WAV header on close),
        then merge the legs off this thread, and report how it ended."""
        parts = bridge.close_recorders()
        ended = bridge.ended_event()
        self._graveyard.extend(bridge.release())
        self._emit(ended)
        if parts is not None:
            self._pending.append(
                (bridge, self._merges.submit(_merge, bridge.ref, *parts, bridge.recording))
            )

    def _shutdown(self) -> None:
        bridges = getattr(self, "_bridges", {})
        for bridge in bridges.values():
            bridge.hang_up(ended_by=None)
        deadline = time.monotonic() + 3.0
        while any(not b.finished() for b in bridges.values()) and time.monotonic() < deadline:
            self._ep.libHandleEvents(10)
        for bridge in list(bridges.values()):
            bridge.force_end()
            self._finish(bridge)
        bridges.clear()
        self._merges.shutdown(wait=True)
        for _bridge, future in self._pending:
            self._emit(future.result())
        self._pending = []
        self._graveyard.clear()
        if self._account is not None:
            self._account.shutdown()
            self._account = None
        destroy_endpoint(self._ep)
        self._ep = None
        log.info("SIP 引擎已关闭")

    # --- called back from pjsua2 (on this thread, inside libHandleEvents) -----------------

    def _on_registration(self, event: RegistrationEvent) -> None:
        self._emit(event)


def _merge(ref: str, agent: Path, customer: Path, target: Path) -> RecordingEvent:
    try:
        stored = merge_legs(agent, customer, target)
    except (RecordingError, OSError) as exc:
        log.error("call=%s 录音合成失败: %s", ref, exc)
        return RecordingEvent(ref, None, error=str(exc))
    for part in (agent, customer):
        part.unlink(missing_ok=True)
    return RecordingEvent(ref, stored.path, stored.sha256, stored.duration_s)


def _host(uri: str) -> str:
    rest = uri.split(":", 1)[-1] if uri else ""
    return rest.split(";", 1)[0].split("@")[-1]


class _Account(pj.Account):
    def __init__(self, engine: Engine) -> None:
        super().__init__()
        self.engine = engine

    def onRegState(self, prm: Any) -> None:  # noqa: N802 (pjsua2's name)
        info = self.getInfo()
        self.engine._on_registration(
            RegistrationEvent(
                str(info.uri),
                bool(info.regIsActive),
                int(info.regStatus),
                str(info.regStatusText),
                int(info.regExpiresSec),
            )
        )
