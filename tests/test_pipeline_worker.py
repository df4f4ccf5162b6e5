"""Real ``callcenter worker`` processes: a worker killed mid-step, two workers on one queue, Redis.

The workers run the step functions of ``tests/pipeline_steps.py`` (PYTHONPATH is the repository),
configured through ``CALLCENTER_PIPELINE__*`` variables; they log every started and finished step
to files in the test's folder, so the tests can see what ran, where, and how often.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from callcenter.config import Settings
from callcenter.ids import PipelineState
from callcenter.models import (
    Call,
    Callback,
    Customer,
    Dealership,
    Score,
    ServiceVisit,
    Transcript,
    Vehicle,
    utcnow,
)
from callcenter.pipeline import configure, enqueue_call
from tests.pipeline_steps import write_bursts_wav

REPO = Path(__file__).resolve().parent.parent
BURSTS = [(0, 0.2, 1.0), (1, 1.3, 1.8)]

pytestmark = pytest.mark.slow


class Workers:
    """Starts ``callcenter worker`` subprocesses and makes sure none outlives the test."""

    def __init__(self, settings: Settings, folder: Path) -> None:
        self.settings = settings
        self.folder = folder
        self.processes: list[subprocess.Popen[bytes]] = []

    def env(self, **pipeline: object) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CALLCENTER_")}
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
        env["PIPELINE_TEST_DIR"] = str(self.folder)
        env["CALLCENTER_PIPELINE__TRANSCRIBE_STEP"] = "tests.pipeline_steps:slow_transcribe"
        env["CALLCENTER_PIPELINE__SCORE_STEP"] = "tests.pipeline_steps:score_by_segments"
        for key, value in pipeline.items():
            env[f"CALLCENTER_PIPELINE__{key.upper()}"] = str(value)
        return env

    def start(self, env: dict[str, str], threads: int = 1) -> subprocess.Popen[bytes]:
        with open(self.log_path(len(self.processes)), "wb") as log:  # the child keeps a copy
            process = subprocess.Popen(
                [sys.executable, "-m", "callcenter", "--instance", str(self.settings.instance_dir)]
                + ["worker", "--workers", str(threads)],
                env=env,
                cwd=REPO,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.processes.append(process)
        return process

    def log_path(self, index: int) -> Path:
        return self.folder / f"worker-{index}.log"

    def logs(self) -> str:
        return "\n".join(
            f"--- worker {i} ---\n{self.log_path(i).read_text(errors='replace')[-3000:]}"
            for i in range(len(self.processes))
        )

    def wait_until(self, condition: Callable[[], bool], timeout_s: float, what: str) -> None:
        deadline = time.monotonic() + timeout_s
        while not condition():
            if time.monotonic() > deadline:
                pytest.fail(f"{timeout_s} 秒内没有等到: {what}\n{self.logs()}")
            time.sleep(0.1)

    def wait_ready(self, index: int) -> None:
        self.wait_until(
            lambda: "worker 已启动" in self.log_path(index).read_text(errors="replace"),
            20,
            f"worker {index} 启动",
        )

    def kill_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.kill()
            process.wait(timeout=10)


@pytest.fixture
def workers(settings: Settings, tmp_path: Path) -> Iterator[Workers]:
    pool = Workers(settings, tmp_path)
    try:
        yield pool
    finally:
        pool.kill_all()


def add_call(sessions: sessionmaker[Session], settings: Settings, name: str) -> int:
    write_bursts_wav(settings.recordings_dir / name, BURSTS, duration_s=2.0)
    with sessions() as session:
        call = Call(
            recording_path=name, template_id="service_3dc", pipeline_state=PipelineState.RECORDED
        )
        session.add(call)
        session.commit()
        return call.id


def states(sessions: sessionmaker[Session], ids: list[int]) -> list[str]:
    with sessions() as session:
        query = select(Call.id, Call.pipeline_state).where(Call.id.in_(ids))
        found = {call_id: state for call_id, state in session.execute(query)}
    return [found[call_id] for call_id in ids]


def rows(sessions: sessionmaker[Session], model: type[Transcript] | type[Score]) -> list[int]:
    with sessions() as session:
        return sorted(session.scalars(select(model.call_id)))


def lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


def test_worker_killed_mid_step_finishes_the_job_exactly_once_after_restart(
    workers: Workers, settings: Settings, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    env = workers.env(lease_s=2, sweep_interval_s=0.5)
    env["PIPELINE_TEST_SLEEP_S"] = "4"  # plenty of time to kill it mid-step
    call_id = add_call(sessions, settings, "call-1.wav")
    configure(settings, sessions=sessions)  # the default SQLite queue in the instance folder
    enqueue_call(settings, call_id)

    first = workers.start(env)
    workers.wait_until(lambda: bool(lines(tmp_path / "started.log")), 20, "第一次开始转写")
    first.send_signal(signal.SIGKILL)
    assert first.wait(timeout=10) == -signal.SIGKILL

    with sessions() as session:
        call = session.get_one(Call, call_id)
        # killed mid-step: nothing stored, the dead worker's lease still on the row
        assert call.pipeline_state == PipelineState.RECORDED
        assert call.lease_owner is not None and f":{first.pid}:" in call.lease_owner
    assert rows(sessions, Transcript) == [] and lines(tmp_path / "completed.log") == []

    second = workers.start({**env, "PIPELINE_TEST_SLEEP_S": "0.5"})
    workers.wait_until(
        lambda: states(sessions, [call_id]) == [PipelineState.DONE], 30, "重启后通话处理完成"
    )

    assert rows(sessions, Transcript) == [call_id]
    assert rows(sessions, Score) == [call_id]
    assert lines(tmp_path / "completed.log") == ["transcribe call-1.wav", "score call-1.wav"]
    started = [line.split() for line in lines(tmp_path / "started.log")]
    assert started == [["call-1.wav", str(first.pid)], ["call-1.wav", str(second.pid)]]
    with sessions() as session:
        call = session.get_one(Call, call_id)
        assert (call.pipeline_attempts, call.pipeline_error, call.lease_owner) == (0, None, None)
        assert call.transcript is not None and len(call.transcript.segments) == 2
        assert call.score is not None and call.score.metrics["segments"] == 2


def test_two_workers_on_one_queue_process_every_call_once(
    workers: Workers, settings: Settings, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    env = workers.env(sweep_interval_s=0.5)
    env["PIPELINE_TEST_SLEEP_S"] = "0.4"
    names = [f"call-{n}.wav" for n in range(6)]
    ids = [add_call(sessions, settings, name) for name in names]
    first, second = workers.start(env, threads=2), workers.start(env, threads=2)
    workers.wait_ready(0)
    workers.wait_ready(1)

    configure(settings, sessions=sessions)
    for call_id in ids:  # every message twice: a duplicate must not run a step again
        enqueue_call(settings, call_id)
        enqueue_call(settings, call_id)
    workers.wait_until(
        lambda: states(sessions, ids) == [PipelineState.DONE] * len(ids), 30, "所有通话处理完成"
    )

    assert rows(sessions, Transcript) == ids
    assert rows(sessions, Score) == ids
    expected = [f"transcribe {n}" for n in names] + [f"score {n}" for n in names]
    assert sorted(lines(tmp_path / "completed.log")) == sorted(expected)
    started_by = {line.split()[1] for line in lines(tmp_path / "started.log")}
    assert started_by == {str(first.pid), str(second.pid)}  # both workers took calls

    for process in (first, second):  # SIGTERM stops a worker cleanly
        process.send_signal(signal.SIGTERM)
    assert [first.wait(timeout=10), second.wait(timeout=10)] == [0, 0]
    assert "worker 已停止" in workers.log_path(0).read_text(errors="replace")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    """A throwaway redis-server on a free port."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("找不到 redis-server(Debian 软件包 redis-server),跳过 Redis 队列测试")
    port = free_port()
    server = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
        + ["--appendonly", "no", "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "redis-server 10 秒内没有启动"
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        server.kill()
        server.wait(timeout=10)


def test_worker_on_a_redis_queue(
    workers: Workers,
    settings: Settings,
    sessions: sessionmaker[Session],
    tmp_path: Path,
    redis_url: str,
) -> None:
    env = workers.env(queue="redis", redis_url=redis_url)
    env["PIPELINE_TEST_SLEEP_S"] = "0"
    call_id = add_call(sessions, settings, "call-1.wav")
    settings.pipeline.queue = "redis"
    settings.pipeline.redis_url = redis_url
    configure(settings, sessions=sessions)
    enqueue_call(settings, call_id)

    workers.start(env)
    workers.wait_until(
        lambda: states(sessions, [call_id]) == [PipelineState.DONE],
        20,
        "Redis 队列上的通话处理完成",
    )
    assert rows(sessions, Transcript) == rows(sessions, Score) == [call_id]
    assert not (settings.instance_dir / "queue.db").exists()  # no SQLite queue involved


def add_visit(sessions: sessionmaker[Session], order_no: str, vin: str) -> int:
    """A customer whose car was handed back an hour ago: a service_3dc callback falls due."""
    with sessions() as session:
        dealer = session.scalars(select(Dealership)).first()
        if dealer is None:
            dealer = Dealership(code="w", name="巡检测试店")
            session.add(dealer)
            session.flush()
        customer = Customer(dealership_id=dealer.id, name="王五", phone="13912345678")
        session.add(customer)
        session.flush()
        vehicle = Vehicle(customer_id=customer.id, vin=vin)
        session.add(vehicle)
        session.flush()
        visit = ServiceVisit(
            customer_id=customer.id,
            vehicle_id=vehicle.id,
            repair_order_no=order_no,
            kind="maintenance",
            delivered_at=utcnow() - timedelta(hours=1),
        )
        session.add(visit)
        session.commit()
        return visit.id


def test_worker_schedules_due_callbacks_periodically(
    workers: Workers, settings: Settings, sessions: sessionmaker[Session]
) -> None:
    first_visit = add_visit(sessions, "RO-1", "LFV2A21K0A3000001")
    env = workers.env()
    env["CALLCENTER_SCHEDULE__RUN_EVERY_S"] = "0.5"
    workers.start(env)

    def callbacks_for(visit_id: int) -> list[str]:
        with sessions() as session:
            query = select(Callback.kind).where(Callback.visit_id == visit_id)
            return list(session.scalars(query))

    workers.wait_until(lambda: callbacks_for(first_visit) == ["service_3dc"], 20, "启动时排程")
    second_visit = add_visit(sessions, "RO-2", "LFV2A21K0A3000002")  # arrives while it runs
    workers.wait_until(lambda: callbacks_for(second_visit) == ["service_3dc"], 20, "定时排程")
    time.sleep(1.2)  # more periods pass: still exactly one callback per visit
    assert callbacks_for(first_visit) == callbacks_for(second_visit) == ["service_3dc"]
