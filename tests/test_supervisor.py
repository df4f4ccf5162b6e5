"""The process supervisor behind ``serve``: restarts with backoff, gives up on unavailable parts."""

from __future__ import annotations

import logging
import sys
import threading
import time
from pathlib import Path

import pytest

from callcenter.config import Settings
from callcenter.embedded import run_pipeline_worker
from callcenter.supervisor import ChildSpec, Supervisor


def crash_after_noting(path: str) -> None:
    """A service that dies at once, leaving the time it started."""
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(f"{time.monotonic()}\n")
    sys.exit(3)


def test_crashed_child_is_restarted_with_growing_backoff(tmp_path: Path) -> None:
    starts = tmp_path / "starts.txt"
    supervisor = Supervisor(
        [ChildSpec("crasher", crash_after_noting, (str(starts),))],
        first_backoff_s=0.2,
        max_backoff_s=0.8,
        poll_s=0.02,
    )

    def stop_after_four_starts() -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if starts.exists() and len(starts.read_text().split()) >= 4:
                break
            time.sleep(0.05)
        supervisor.stop()

    watcher = threading.Thread(target=stop_after_four_starts)
    watcher.start()
    assert supervisor.run() == 0
    watcher.join()
    times = [float(t) for t in starts.read_text().split()]
    assert len(times) >= 4
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    # 0.2 s, 0.4 s, 0.8 s after each crash (plus start-up time), never below the backoff
    assert gaps[0] >= 0.2 and gaps[1] >= 0.4 and gaps[2] >= 0.8


def test_unavailable_worker_is_not_restarted(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    # an in-process queue cannot have a worker: the child says so once and stays down
    settings.pipeline.queue = "memory"
    supervisor = Supervisor(
        [ChildSpec("worker", run_pipeline_worker, (settings, 1))], first_backoff_s=0.05
    )
    with caplog.at_level(logging.INFO, logger="callcenter.supervisor"):
        started = time.monotonic()
        assert supervisor.run() == 1  # nothing left to supervise
    assert time.monotonic() - started < 30
    messages = [r.getMessage() for r in caplog.records]
    assert sum("已启动 worker" in m for m in messages) == 1
    assert any("worker 无法运行" in m and "不再重启" in m for m in messages)
