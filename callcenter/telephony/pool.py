"""A pool of lines: one engine process per two click-to-calls.

The registry's pjsua2 wheel is built with pjsip's default ``PJSUA_MAX_CALLS = 4``: one endpoint
holds four SIP calls, i.e. two bridged click-to-calls, whatever ``maxCalls`` says. So the service
runs as many line processes as its channel limit needs, each owning one endpoint on its own SIP
port (and registering its own contact for the same account), and spreads calls over them. A line
that dies (pjsua2 aborts the process on some errors) ends only its own calls, and is restarted.
The pool has the ``Engine`` API: ``click_to_call``, ``hangup``, ``send_dtmf``, ``events``,
``stop``.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import multiprocessing
import queue
import threading
import time
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

from callcenter.telephony.endpoint import SipConfig, SipError
from callcenter.telephony.events import CallEvent, Event, LiveState

log = logging.getLogger(__name__)

CALLS_PER_ENDPOINT = 4  # PJSUA_MAX_CALLS of the pjsua2-python wheel
BRIDGES_PER_LINE = CALLS_PER_ENDPOINT // 2
RTP_PORTS_PER_LINE = 40


def _line_main(
    index: int,
    sip: SipConfig,
    account: Any,
    limits: Any,
    commands: Any,
    events: Any,
    log_level: int,
) -> None:
    """One line: an engine in its own process, driven by ``commands``, reporting on ``events``."""
    logging.basicConfig(
        level=log_level, format="%(asctime)s %(levelname)s [line-%(process)d] %(name)s: %(message)s"
    )
    from callcenter.telephony.engine import Engine

    engine = Engine(sip, account, limits)
    try:
        engine.start()
    except SipError as exc:
        events.put(("error", index, str(exc)))
        return
    events.put(("ready", index, None))

    def forward() -> None:
        while True:
            event = engine.events.get()
            if event is None:
                return
            events.put(("event", index, event))

    forwarder = threading.Thread(target=forward, daemon=True)
    forwarder.start()
    try:
        while True:
            try:
                command = commands.get(timeout=1.0)
            except queue.Empty:
                if not engine.running:
                    break
                continue
            name, args = command[0], command[1:]
            if name == "stop":
                break
            getattr(engine, name)(*args)
    except KeyboardInterrupt:
        pass
    finally:
        engine.stop()
        engine.events.put(None)  # type: ignore[arg-type]
        forwarder.join(10)
        events.put(("stopped", index, None))


@dataclasses.dataclass
class _Line:
    index: int
    sip: SipConfig
    commands: Any
    process: BaseProcess | None = None
    calls: set[str] = dataclasses.field(default_factory=set)
    ready: bool = False


class LinePool:
    """Engine-compatible: calls spread over line processes of ``BRIDGES_PER_LINE`` each."""

    def __init__(self, sip: SipConfig, account: Any, limits: Any, lines: int | None = None):
        self.sip, self.account, self.limits = sip, account, limits
        count = lines or max(1, math.ceil(limits.max_channels / BRIDGES_PER_LINE))
        self._context = multiprocessing.get_context("spawn")
        self._events: Any = self._context.Queue()
        self.events: queue.Queue[Event] = queue.Queue()
        self._lines = [_Line(i, self._line_sip(i), self._context.Queue()) for i in range(count)]
        self._owner: dict[str, _Line] = {}
        self._lock = threading.Lock()
        self._stopping = False
        self._pump = threading.Thread(target=self._pump_events, name="line-events", daemon=True)

    def _line_sip(self, index: int) -> SipConfig:
        return dataclasses.replace(
            self.sip,
            sip_port=self.sip.sip_port + index if self.sip.sip_port else 0,
            rtp_port=self.sip.rtp_port + RTP_PORTS_PER_LINE * index,
            max_calls=CALLS_PER_ENDPOINT,
        )

    @property
    def active(self) -> int:
        with self._lock:
            return sum(len(line.calls) for line in self._lines)

    @property
    def running(self) -> bool:
        return any(line.process is not None and line.process.is_alive() for line in self._lines)

    def start(self, timeout_s: float = 30.0) -> LinePool:
        """Start every line; raise ``SipError`` if the first cannot start (bad address, port
        taken)."""
        for line in self._lines:
            self._spawn(line)
        deadline = time.monotonic() + timeout_s
        while not all(line.ready for line in self._lines):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.stop()
                raise SipError("电话线路进程启动超时")
            try:
                kind, index, payload = self._events.get(timeout=remaining)
            except queue.Empty:
                continue
            if kind == "error":
                self.stop()
                raise SipError(f"电话线路 {index + 1} 无法启动: {payload}")
            if kind == "ready":
                self._lines[index].ready = True
            elif kind == "event":
                self.events.put(payload)
        self._pump.start()
        log.info("电话线路已就绪: %d 条,每条最多 %d 路同时通话", len(self._lines), BRIDGES_PER_LINE)
        return self

    def _spawn(self, line: _Line) -> None:
        line.ready = False
        line.process = self._context.Process(
            target=_line_main,
            args=(
                line.index,
                line.sip,
                self.account,
                dataclasses.replace(self.limits, max_channels=BRIDGES_PER_LINE),
                line.commands,
                self._events,
                logging.getLogger().getEffectiveLevel(),
            ),
            name=f"line-{line.index + 1}",
            daemon=True,
        )
        line.process.start()

    # --- the Engine API ----------------------------------------------------------------------

    def click_to_call(self, ref: str, agent_uri: str, customer_uri: str, recording: Path) -> None:
        with self._lock:
            free = [
                line for line in self._lines if line.ready and len(line.calls) < BRIDGES_PER_LINE
            ]
            if not free:
                line = None
            else:
                line = min(free, key=lambda candidate: len(candidate.calls))
                line.calls.add(ref)
                self._owner[ref] = line
        if line is None:
            self.events.put(
                CallEvent(
                    ref,
                    LiveState.ENDED,
                    "agent",
                    time.time(),
                    "failed",
                    None,
                    "线路已满,请稍后再拨",
                )
            )
            return
        line.commands.put(("click_to_call", ref, agent_uri, customer_uri, recording))

    def hangup(self, ref: str) -> None:
        line = self._owner.get(ref)
        if line is not None:
            line.commands.put(("hangup", ref))

    def send_dtmf(self, ref: str, digits: str, leg: str = "customer") -> None:
        line = self._owner.get(ref)
        if line is not None:
            line.commands.put(("send_dtmf", ref, digits, leg))

    def stop(self, timeout_s: float = 20.0) -> None:
        self._stopping = True
        for line in self._lines:
            if line.process is not None and line.process.is_alive():
                line.commands.put(("stop",))
        deadline = time.monotonic() + timeout_s
        for line in self._lines:
            if line.process is not None:
                line.process.join(max(0.1, deadline - time.monotonic()))
                if line.process.is_alive():
                    line.process.terminate()
                    line.process.join(5)
        self._drain()
        if self._pump.is_alive():
            self._pump.join(2)

    # --- events from the lines -------------------------------------------------------------

    def _pump_events(self) -> None:
        while not self._stopping:
            try:
                kind, index, payload = self._events.get(timeout=1.0)
            except queue.Empty:
                self._check_lines()
                continue
            except (EOFError, OSError):
                return
            self._handle(kind, index, payload)

    def _drain(self) -> None:
        while True:
            try:
                kind, index, payload = self._events.get(timeout=0.2)
            except (queue.Empty, EOFError, OSError):
                return
            self._handle(kind, index, payload)

    def _handle(self, kind: str, index: int, payload: Any) -> None:
        line = self._lines[index]
        if kind == "ready":
            line.ready = True
        elif kind == "event":
            if isinstance(payload, CallEvent) and payload.state == LiveState.ENDED:
                with self._lock:
                    line.calls.discard(payload.ref)
            self.events.put(payload)
        elif kind == "error":
            log.error("电话线路 %d 无法启动: %s", index + 1, payload)

    def _check_lines(self) -> None:
        """A line that died ends its calls (as failed) and is started again."""
        for line in self._lines:
            process = line.process
            if process is None or process.is_alive() or self._stopping:
                continue
            log.error("电话线路 %d 意外退出(%s),正在重启", line.index + 1, process.exitcode)
            with self._lock:
                lost, line.calls = sorted(line.calls), set()
            for ref in lost:
                self.events.put(
                    CallEvent(
                        ref,
                        LiveState.ENDED,
                        "customer",
                        time.time(),
                        "failed",
                        None,
                        "电话线路进程异常退出",
                    )
                )
            self._spawn(line)
