"""Run services as child processes of one command: restart the ones that die, stop on a signal.

Children are started with the "spawn" method, never fork: a forked child would inherit the
parent's threads and native state (pjsua2 lives in a child later), spawn starts clean.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.process import BaseProcess
from types import FrameType
from typing import Any

logger = logging.getLogger(__name__)

# a child exits with this when it cannot run at all (e.g. an optional part is not installed);
# restarting would not help, so it is not restarted
EXIT_UNAVAILABLE = 69

LOG_FORMAT = "%(asctime)s %(levelname)s [%(processName)s] %(name)s: %(message)s"


@dataclass(frozen=True)
class ChildSpec:
    """A service: ``target(*args)`` runs in its own process until told to stop."""

    name: str
    target: Callable[..., None]  # a module-level function, so spawn can import it
    args: tuple[Any, ...] = ()


@dataclass
class _Child:
    spec: ChildSpec
    process: BaseProcess | None = None
    started_at: float = 0.0
    crashes: int = 0  # crashes in a row without a stable run in between
    restart_at: float | None = None
    given_up: bool = False
    restarts: int = 0


def _raise_system_exit(_signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(0)


def _exit_with_parent(parent_pid: int) -> None:
    # if the supervisor is killed outright, its children stop on their own
    while os.getppid() == parent_pid:
        time.sleep(1.0)
    os.kill(os.getpid(), signal.SIGTERM)


def _child_main(spec: ChildSpec, parent_pid: int, log_level: int) -> None:
    # own process group: Ctrl+C on the terminal reaches the supervisor only, which forwards it
    os.setpgid(0, 0)
    logging.basicConfig(level=log_level, format=LOG_FORMAT)
    # alembic announces each of its plugins at INFO when imported; not news in every child
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    signal.signal(signal.SIGTERM, _raise_system_exit)
    threading.Thread(target=_exit_with_parent, args=(parent_pid,), daemon=True).start()
    try:
        spec.target(*spec.args)
    except KeyboardInterrupt:
        pass


class Supervisor:
    """Start every service, restart crashed ones with backoff, forward SIGINT/SIGTERM."""

    def __init__(
        self,
        specs: list[ChildSpec],
        *,
        first_backoff_s: float = 1.0,
        max_backoff_s: float = 30.0,
        stable_after_s: float = 60.0,
        stop_timeout_s: float = 15.0,
        poll_s: float = 0.2,
    ) -> None:
        self._children = [_Child(spec) for spec in specs]
        self._context = multiprocessing.get_context("spawn")
        self.first_backoff_s = first_backoff_s
        self.max_backoff_s = max_backoff_s
        self.stable_after_s = stable_after_s
        self.stop_timeout_s = stop_timeout_s
        self.poll_s = poll_s
        self._stop_signal: int | None = None
        self._force = False

    def run(self) -> int:
        """Supervise until SIGINT/SIGTERM; 0 after a clean stop, 1 if every child gave up."""
        previous = {
            sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGINT, signal.SIGTERM)
        }
        try:
            for child in self._children:
                self._start(child)
            while self._stop_signal is None:
                self._check_children()
                if all(child.given_up for child in self._children):
                    logger.error("所有服务进程都无法运行,退出")
                    return 1
                time.sleep(self.poll_s)
            logger.info("收到信号 %s,正在停止服务进程", signal.Signals(self._stop_signal).name)
            return 0
        finally:
            self._stop_all(self._stop_signal or signal.SIGTERM)
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def stop(self, signum: int = signal.SIGTERM) -> None:
        """Ask ``run`` to stop, as if ``signum`` had been received."""
        self._on_signal(signum, None)

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        if self._stop_signal is None:
            self._stop_signal = signum
        else:
            self._force = True  # a second Ctrl+C: do not wait for a graceful stop

    def _start(self, child: _Child) -> None:
        process = self._context.Process(
            target=_child_main,
            args=(child.spec, os.getpid(), logging.getLogger().getEffectiveLevel()),
            name=child.spec.name,
        )
        process.start()
        child.process, child.started_at, child.restart_at = process, time.monotonic(), None
        logger.info("已启动 %s (pid %s)", child.spec.name, process.pid)

    def _check_children(self) -> None:
        now = time.monotonic()
        for child in self._children:
            process = child.process
            if process is not None and process.exitcode is not None:
                self._on_exit(child, process.exitcode, now)
            if child.process is None and child.restart_at is not None and now >= child.restart_at:
                child.restarts += 1
                self._start(child)

    def _on_exit(self, child: _Child, exitcode: int, now: float) -> None:
        name = child.spec.name
        child.process = None
        if exitcode == EXIT_UNAVAILABLE:
            child.given_up = True
            logger.warning("%s 无法运行(退出码 %s),不再重启", name, exitcode)
            return
        how = (
            f"被信号 {signal.Signals(-exitcode).name} 结束"
            if exitcode < 0
            else f"退出码 {exitcode}"
        )
        stable = now - child.started_at >= self.stable_after_s
        child.crashes = 0 if stable else child.crashes + 1
        delay = min(self.max_backoff_s, self.first_backoff_s * 2 ** max(child.crashes - 1, 0))
        child.restart_at = now + delay
        logger.warning("%s 意外退出(%s),%.0f 秒后重启", name, how, delay)

    def _stop_all(self, signum: int) -> None:
        running = [c.process for c in self._children if c.process is not None]
        for process in running:
            if process.exitcode is None and process.pid is not None:
                try:
                    os.kill(process.pid, signum)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + self.stop_timeout_s
        for process in running:
            while process.exitcode is None and not self._force and time.monotonic() < deadline:
                process.join(0.1)
            if process.exitcode is None:
                logger.warning("%s 未在规定时间内退出,强制结束", process.name)
                process.kill()
                process.join()
        logger.info("所有服务进程已停止")
