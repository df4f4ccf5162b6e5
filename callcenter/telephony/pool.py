"""A pool of lines: one engine process per two click-to-calls (``callcenter.telephony.line``).

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
import os
import queue
import subprocess
import sys
import threading
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from callcenter.telephony.endpoint import SipConfig, SipError
from callcenter.telephony.events import CallEvent, Event, LiveState

log = logging.getLogger(__name__)

CALLS_PER_ENDPOINT = 4  # PJSUA_MAX_CALLS of the pjsua2-python wheel
BRIDGES_PER_LINE = CALLS_PER_ENDPOINT // 2
RTP_PORTS_PER_LINE = 40


@dataclasses.dataclass
class _Line:
    index: int
    sip: SipConfig
    process: subprocess.Popen[bytes] | None = None
    commands: Connection | None = None
    calls: set[str] = dataclasses.field(default_factory=set)
    ready: bool = False
    error: str = ""


class LinePool:
    """Engine-compatible: calls spread over line processes of ``BRIDGES_PER_LINE`` each."""

    def __init__(self, sip: SipConfig, account: Any, limits: Any, lines: int | None = None):
        self.sip, self.account, self.limits = sip, account, limits
        count = lines or max(1, math.ceil(limits.max_channels / BRIDGES_PER_LINE))
        self.events: queue.Queue[Event] = queue.Queue()
        self._lines = [_Line(i, self._line_sip(i)) for i in range(count)]
        self._owner: dict[str, _Line] = {}
        self._lock = threading.Lock()
        self._stopping = False

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
        return any(line.process is not None and line.process.poll() is None for line in self._lines)

    @property
    def pids(self) -> list[int]:
        return [line.process.pid for line in self._lines if line.process is not None]

    def start(self, timeout_s: float = 30.0) -> LinePool:
        """Start every line; raise ``SipError`` if one cannot start (bad address, port taken)."""
        for line in self._lines:
            self._spawn(line)
        deadline = time.monotonic() + timeout_s
        while not all(line.ready for line in self._lines):
            failed = [line for line in self._lines if line.error]
            if failed or time.monotonic() > deadline:
                self.stop()
                if failed:
                    raise SipError(f"电话线路 {failed[0].index + 1} 无法启动: {failed[0].error}")
                raise SipError("电话线路进程启动超时")
            time.sleep(0.05)
        log.info("电话线路已就绪: %d 条,每条最多 %d 路同时通话", len(self._lines), BRIDGES_PER_LINE)
        return self

    def _spawn(self, line: _Line) -> None:
        command_read, command_write = os.pipe()
        event_read, event_write = os.pipe()
        line.ready, line.error = False, ""
        line.process = subprocess.Popen(  # noqa: S603 (this package's own module)
            [
                sys.executable,
                "-m",
                "callcenter.telephony.line",
                str(command_read),
                str(event_write),
            ],
            pass_fds=(command_read, event_write),
        )
        os.close(command_read)
        os.close(event_write)
        line.commands = Connection(command_write, readable=False)
        line.commands.send(
            (
                line.index,
                line.sip,
                self.account,
                dataclasses.replace(self.limits, max_channels=BRIDGES_PER_LINE),
                logging.getLogger().getEffectiveLevel(),
            )
        )
        events = Connection(event_read, writable=False)
        threading.Thread(
            target=self._read_events,
            args=(line, line.process, events),
            daemon=True,
            name=f"line-{line.index + 1}-events",
        ).start()

    def _send(self, line: _Line, *command: Any) -> None:
        try:
            if line.commands is not None:
                line.commands.send(command)
        except OSError as exc:
            log.error("电话线路 %d 无法接收命令: %s", line.index + 1, exc)

    # --- the Engine API ----------------------------------------------------------------------

    def click_to_call(self, ref: str, agent_uri: str, customer_uri: str, recording: Path) -> None:
        with self._lock:
            free = [
                line for line in self._lines if line.ready and len(line.calls) < BRIDGES_PER_LINE
            ]
            line = min(free, key=lambda candidate: len(candidate.calls)) if free else None
            if line is not None:
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
        self._send(line, "click_to_call", ref, agent_uri, customer_uri, recording)

    def hangup(self, ref: str) -> None:
        line = self._owner.get(ref)
        if line is not None:
            self._send(line, "hangup", ref)

    def send_dtmf(self, ref: str, digits: str, leg: str = "customer") -> None:
        line = self._owner.get(ref)
        if line is not None:
            self._send(line, "send_dtmf", ref, digits, leg)

    def stop(self, timeout_s: float = 20.0) -> None:
        """Stop every line: each hangs up its calls and finishes their recordings."""
        self._stopping = True
        for line in self._lines:
            if line.process is not None and line.process.poll() is None:
                self._send(line, "stop")
        deadline = time.monotonic() + timeout_s
        for line in self._lines:
            if line.process is None:
                continue
            try:
                line.process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                line.process.terminate()
                line.process.wait(5)
            if line.commands is not None:
                line.commands.close()
        time.sleep(0.2)  # the readers pass on the lines' last events

    # --- events from the lines -------------------------------------------------------------

    def _read_events(
        self, line: _Line, process: subprocess.Popen[bytes], events: Connection
    ) -> None:
        try:
            while True:
                kind, payload = events.recv()
                if kind == "ready":
                    line.ready = True
                elif kind == "error":
                    line.error = str(payload)
                    log.error("电话线路 %d 无法启动: %s", line.index + 1, payload)
                elif kind == "event":
                    if isinstance(payload, CallEvent) and payload.state == LiveState.ENDED:
                        with self._lock:
                            line.calls.discard(payload.ref)
                    self.events.put(payload)
        except (EOFError, OSError):
            pass
        finally:
            events.close()
        process.wait()
        if self._stopping or line.process is not process or line.error:
            return
        # the line died (pjsua2 aborts the process on some errors): its calls are lost
        log.error("电话线路 %d 意外退出(%s),正在重启", line.index + 1, process.returncode)
        with self._lock:
            lost, line.calls = sorted(line.calls), set()
            line.ready = False
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
