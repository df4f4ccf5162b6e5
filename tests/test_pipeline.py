"""The pipeline in-process: state machine, idempotence, retries, leases, recovery, CLI."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from huey import MemoryHuey, RedisHuey, SqliteHuey
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from callcenter.cli import cli
from callcenter.config import ConfigError, Settings, load_settings
from callcenter.ids import PipelineState
from callcenter.models import Call, Score, Transcript, utcnow
from callcenter.pipeline import (
    PipelineError,
    configure,
    enqueue_call,
    make_huey,
    recover_stalled,
    retry_call,
    run_step,
)
from callcenter.pipeline.tasks import PipelineQueue
from tests.pipeline_steps import write_bursts_wav

BURSTS = [(0, 0.2, 1.0), (1, 1.3, 1.8), (0, 2.0, 2.5)]  # agent, customer, agent


@pytest.fixture
def pipeline_settings(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Settings:
    settings.pipeline.queue = "memory"
    settings.pipeline.transcribe_step = "tests.pipeline_steps:transcribe_bursts"
    settings.pipeline.score_step = "tests.pipeline_steps:score_by_segments"
    settings.pipeline.retry_delay_s = 30.0
    monkeypatch.setenv("PIPELINE_TEST_DIR", str(tmp_path))
    return settings


@pytest.fixture
def queue(pipeline_settings: Settings, sessions: sessionmaker[Session]) -> Iterator[PipelineQueue]:
    """A memory queue that holds messages (not immediate), so each step can be looked at."""
    yield configure(pipeline_settings, sessions=sessions, immediate=False)


def add_call(
    sessions: sessionmaker[Session],
    settings: Settings,
    name: str = "call-1.wav",
    template_id: str | None = "service_3dc",
    bursts: list[tuple[int, float, float]] = BURSTS,
) -> int:
    write_bursts_wav(settings.recordings_dir / name, bursts, duration_s=3.0)
    with sessions() as session:
        call = Call(
            recording_path=name, template_id=template_id, pipeline_state=PipelineState.RECORDED
        )
        session.add(call)
        session.commit()
        return call.id


def load(sessions: sessionmaker[Session], call_id: int) -> Call:
    with sessions() as session:
        return session.get_one(Call, call_id)


def count(sessions: sessionmaker[Session], model: type[Transcript] | type[Score]) -> int:
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def queued_ids(queue: PipelineQueue) -> list[int]:
    return [task.args[0] for task in queue.huey.pending()]


def drain(queue: PipelineQueue) -> None:
    """Run every message that is due, as a consumer would."""
    while (task := queue.huey.dequeue()) is not None:
        queue.huey.execute(task)


def completed(tmp_path: Path) -> list[str]:
    log = tmp_path / "completed.log"
    return log.read_text(encoding="utf-8").splitlines() if log.exists() else []


def test_steps_move_the_call_to_done_and_store_contract_rows(
    queue: PipelineQueue, sessions: sessionmaker[Session], pipeline_settings: Settings
) -> None:
    call_id = add_call(sessions, pipeline_settings)

    assert run_step(sessions, pipeline_settings, call_id) == PipelineState.TRANSCRIBED
    assert queued_ids(queue) == [call_id]  # the next step is queued by id
    queue.huey.flush()
    assert run_step(sessions, pipeline_settings, call_id) == PipelineState.SCORED
    assert run_step(sessions, pipeline_settings, call_id) == PipelineState.DONE
    assert run_step(sessions, pipeline_settings, call_id) is None

    with sessions() as session:
        call = session.get_one(Call, call_id)
        assert call.pipeline_state == PipelineState.DONE
        assert (call.pipeline_attempts, call.pipeline_error) == (0, None)
        assert (call.lease_owner, call.lease_until) == (None, None)
        assert call.transcript is not None and call.score is not None
        assert call.transcript.duration_s == 3.0
        assert [s["speaker"] for s in call.transcript.segments] == ["agent", "customer", "agent"]
        assert call.transcript.segments[1]["start"] == pytest.approx(1.3, abs=0.03)
        assert call.score.template_id == "service_3dc"
        assert call.score.outcome == "completed"
        assert call.score.metrics == {"segments": 3, "customer_segments": 1}
        assert call.score.qa_score == 20.0


def test_enqueue_call_in_immediate_mode_runs_every_step(
    pipeline_settings: Settings, sessions: sessionmaker[Session]
) -> None:
    configure(pipeline_settings, sessions=sessions)  # queue "memory" is immediate
    call_id = add_call(sessions, pipeline_settings)
    enqueue_call(pipeline_settings, call_id)
    assert load(sessions, call_id).pipeline_state == PipelineState.DONE
    assert count(sessions, Transcript) == count(sessions, Score) == 1


def test_duplicate_messages_and_reruns_do_nothing(
    queue: PipelineQueue,
    sessions: sessionmaker[Session],
    pipeline_settings: Settings,
    tmp_path: Path,
) -> None:
    call_id = add_call(sessions, pipeline_settings)
    for _ in range(3):
        enqueue_call(pipeline_settings, call_id)
    drain(queue)

    assert load(sessions, call_id).pipeline_state == PipelineState.DONE
    assert count(sessions, Transcript) == count(sessions, Score) == 1
    assert completed(tmp_path) == ["transcribe call-1.wav", "score call-1.wav"]
    assert run_step(sessions, pipeline_settings, call_id) is None
    assert run_step(sessions, pipeline_settings, 9999) is None  # unknown id: ignored


def test_failing_step_is_retried_with_delay_then_fails_with_error_kept(
    queue: PipelineQueue, sessions: sessionmaker[Session], pipeline_settings: Settings
) -> None:
    pipeline_settings.pipeline.retry_delay_s = 0.4
    call_id = add_call(sessions, pipeline_settings)
    (pipeline_settings.recordings_dir / "call-1.wav").write_text("不是 WAV 文件")

    before = utcnow()
    assert run_step(sessions, pipeline_settings, call_id) == PipelineState.RECORDED
    call = load(sessions, call_id)
    assert call.pipeline_attempts == 1
    assert call.pipeline_error is not None and "RIFF" in call.pipeline_error
    assert call.lease_owner is None and call.lease_until is not None
    assert call.lease_until >= before + timedelta(seconds=0.4)
    [retry] = queue.huey.pending()  # queued with a time before which it will not run
    assert retry.args == (call_id,)
    assert retry.eta is not None and retry.eta >= before.replace(tzinfo=None)
    # not due yet: a message arriving early does nothing
    assert run_step(sessions, pipeline_settings, call_id) is None

    time.sleep(0.45)
    assert run_step(sessions, pipeline_settings, call_id) == PipelineState.RECORDED
    time.sleep(0.85)  # the delay doubles
    assert run_step(sessions, pipeline_settings, call_id) == PipelineState.FAILED

    call = load(sessions, call_id)
    assert call.pipeline_state == PipelineState.FAILED
    assert call.pipeline_attempts == pipeline_settings.pipeline.max_attempts == 3
    assert call.pipeline_error is not None
    assert "transcribe" in call.pipeline_error and "第 3 次" in call.pipeline_error
    assert "RIFF" in call.pipeline_error
    assert (call.lease_owner, call.lease_until) == (None, None)
    assert count(sessions, Transcript) == 0


def test_retry_sends_a_failed_call_back_to_the_failed_step(
    queue: PipelineQueue,
    sessions: sessionmaker[Session],
    pipeline_settings: Settings,
    tmp_path: Path,
) -> None:
    call_id = add_call(sessions, pipeline_settings, template_id=None)
    enqueue_call(pipeline_settings, call_id)
    drain(queue)
    call = load(sessions, call_id)
    # no template: scoring fails at once, no pointless automatic retries
    assert call.pipeline_state == PipelineState.FAILED
    assert call.pipeline_attempts == 1
    assert call.pipeline_error is not None and "template_id" in call.pipeline_error

    with sessions() as session:
        session.execute(update(Call).where(Call.id == call_id).values(template_id="sales_7dc"))
        session.commit()
    assert retry_call(sessions, pipeline_settings, call_id) == PipelineState.TRANSCRIBED
    call = load(sessions, call_id)
    assert (call.pipeline_state, call.pipeline_attempts, call.pipeline_error) == (
        PipelineState.TRANSCRIBED,
        0,
        None,
    )
    assert queued_ids(queue) == [call_id]
    drain(queue)

    assert load(sessions, call_id).pipeline_state == PipelineState.DONE
    assert completed(tmp_path) == ["transcribe call-1.wav", "score call-1.wav"]  # not redone
    with sessions() as session:
        assert session.scalars(select(Score.template_id)).all() == ["sales_7dc"]

    with pytest.raises(PipelineError, match="只有失败"):
        retry_call(sessions, pipeline_settings, call_id)
    with pytest.raises(PipelineError, match="找不到通话 4242"):
        retry_call(sessions, pipeline_settings, 4242)


def test_retry_after_transcription_failed_reruns_transcription(
    queue: PipelineQueue, sessions: sessionmaker[Session], pipeline_settings: Settings
) -> None:
    pipeline_settings.pipeline.max_attempts = 1
    call_id = add_call(sessions, pipeline_settings)
    recording = pipeline_settings.recordings_dir / "call-1.wav"
    good = recording.read_bytes()
    recording.write_bytes(b"broken")
    assert run_step(sessions, pipeline_settings, call_id) == PipelineState.FAILED

    recording.write_bytes(good)
    assert retry_call(sessions, pipeline_settings, call_id) == PipelineState.RECORDED
    drain(queue)
    assert load(sessions, call_id).pipeline_state == PipelineState.DONE
    assert count(sessions, Transcript) == 1


def test_a_step_whose_module_is_missing_fails_clearly_without_retry(
    settings: Settings, sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    from callcenter.pipeline import steps

    real_require = steps._require
    monkeypatch.setattr(
        steps, "_require", lambda module, name, what: real_require(f"{module}_gone", name, what)
    )
    settings.pipeline.queue = "memory"
    configure(settings, sessions=sessions)
    call_id = add_call(sessions, settings)
    enqueue_call(settings, call_id)

    call = load(sessions, call_id)
    assert call.pipeline_state == PipelineState.FAILED
    assert call.pipeline_attempts == 1  # a missing module is not retried
    assert call.pipeline_error is not None and "语音识别模块尚未安装" in call.pipeline_error
    assert count(sessions, Transcript) == 0


def test_bad_step_setting_fails_the_call_naming_the_setting(
    queue: PipelineQueue, sessions: sessionmaker[Session], pipeline_settings: Settings
) -> None:
    pipeline_settings.pipeline.transcribe_step = "tests.pipeline_steps:no_such_function"
    call_id = add_call(sessions, pipeline_settings)
    assert run_step(sessions, pipeline_settings, call_id) == PipelineState.FAILED
    error = load(sessions, call_id).pipeline_error
    assert error is not None and "pipeline.transcribe_step" in error and "no_such_function" in error


def set_lease(
    sessions: sessionmaker[Session], call_id: int, owner: str | None, seconds: float
) -> None:
    with sessions() as session:
        session.execute(
            update(Call)
            .where(Call.id == call_id)
            .values(lease_owner=owner, lease_until=utcnow() + timedelta(seconds=seconds))
        )
        session.commit()


def test_live_lease_cannot_be_taken_expired_lease_can(
    queue: PipelineQueue, sessions: sessionmaker[Session], pipeline_settings: Settings
) -> None:
    call_id = add_call(sessions, pipeline_settings)
    set_lease(sessions, call_id, "other-host:123:abc", 60)
    assert run_step(sessions, pipeline_settings, call_id) is None
    call = load(sessions, call_id)
    assert call.lease_owner == "other-host:123:abc" and call.pipeline_attempts == 0
    assert count(sessions, Transcript) == 0

    set_lease(sessions, call_id, "other-host:123:abc", -1)
    assert run_step(sessions, pipeline_settings, call_id) == PipelineState.TRANSCRIBED
    assert load(sessions, call_id).lease_owner is None
    assert count(sessions, Transcript) == 1


def test_step_whose_workers_keep_dying_fails_instead_of_looping(
    queue: PipelineQueue, sessions: sessionmaker[Session], pipeline_settings: Settings
) -> None:
    call_id = add_call(sessions, pipeline_settings)
    with sessions() as session:  # three starts, each lease left behind by a dead worker
        session.execute(update(Call).where(Call.id == call_id).values(pipeline_attempts=3))
        session.commit()
    set_lease(sessions, call_id, "crashed-host:7:abc", -1)

    assert run_step(sessions, pipeline_settings, call_id) == PipelineState.FAILED
    call = load(sessions, call_id)
    assert call.pipeline_error is not None and "处理进程中途退出" in call.pipeline_error
    assert count(sessions, Transcript) == 0


def run_in_thread(
    sessions: sessionmaker[Session], settings: Settings, call_id: int
) -> tuple[threading.Thread, list[str | None]]:
    results: list[str | None] = []
    thread = threading.Thread(
        target=lambda: results.append(run_step(sessions, settings, call_id)), daemon=True
    )
    thread.start()
    return thread, results


def wait_for_file(path: Path, timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} 未出现"
        time.sleep(0.02)


def test_worker_whose_lease_was_taken_over_writes_nothing(
    queue: PipelineQueue,
    sessions: sessionmaker[Session],
    pipeline_settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PIPELINE_TEST_SLEEP_S", "1.0")
    pipeline_settings.pipeline.transcribe_step = "tests.pipeline_steps:slow_transcribe"
    call_id = add_call(sessions, pipeline_settings)
    thread, results = run_in_thread(sessions, pipeline_settings, call_id)
    wait_for_file(tmp_path / "started.log")
    set_lease(sessions, call_id, "new-owner:1:x", 60)  # as if the lease had run out and been taken
    thread.join(timeout=10)

    assert results == [None]
    assert completed(tmp_path) == ["transcribe call-1.wav"]  # the step itself did finish
    call = load(sessions, call_id)
    assert call.pipeline_state == PipelineState.RECORDED
    assert call.lease_owner == "new-owner:1:x"
    assert count(sessions, Transcript) == 0
    assert queue.huey.pending_count() == 0


def test_heartbeat_keeps_a_long_step_from_being_taken_over(
    queue: PipelineQueue,
    sessions: sessionmaker[Session],
    pipeline_settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PIPELINE_TEST_SLEEP_S", "2.0")
    pipeline_settings.pipeline.lease_s = 0.9
    pipeline_settings.pipeline.transcribe_step = "tests.pipeline_steps:slow_transcribe"
    call_id = add_call(sessions, pipeline_settings)
    thread, results = run_in_thread(sessions, pipeline_settings, call_id)
    wait_for_file(tmp_path / "started.log")
    time.sleep(1.2)  # longer than lease_s: only the heartbeat keeps the lease alive

    assert run_step(sessions, pipeline_settings, call_id) is None
    thread.join(timeout=10)
    assert results == [PipelineState.TRANSCRIBED]
    assert completed(tmp_path) == ["transcribe call-1.wav"]
    assert count(sessions, Transcript) == 1


def test_recover_stalled_requeues_expired_leases_and_lost_messages(
    queue: PipelineQueue, sessions: sessionmaker[Session], pipeline_settings: Settings
) -> None:
    lease_s = pipeline_settings.pipeline.lease_s
    dead = add_call(sessions, pipeline_settings, "dead.wav")
    set_lease(sessions, dead, "gone-host:99:dead", -1)
    live = add_call(sessions, pipeline_settings, "live.wav")
    set_lease(sessions, live, "busy-host:1:live", 3600)
    fresh = add_call(sessions, pipeline_settings, "fresh.wav")  # message presumably queued
    finished = add_call(sessions, pipeline_settings, "done.wav")
    with sessions() as session:
        session.execute(
            update(Call).where(Call.id == finished).values(pipeline_state=PipelineState.DONE)
        )
        session.add(Call(pipeline_state=PipelineState.PENDING))  # not recorded yet
        session.commit()

    assert recover_stalled(sessions, pipeline_settings) == [dead]
    assert queued_ids(queue) == [dead]
    assert load(sessions, dead).lease_owner is None
    assert recover_stalled(sessions, pipeline_settings) == []  # not queued twice

    later = utcnow() + timedelta(seconds=lease_s + 1)
    assert recover_stalled(sessions, pipeline_settings, now=later) == [dead, fresh]
    drain(queue)
    assert load(sessions, fresh).pipeline_state == PipelineState.DONE
    assert load(sessions, live).pipeline_state == PipelineState.RECORDED  # lease still held

    much_later = utcnow() + timedelta(seconds=3601)
    assert recover_stalled(sessions, pipeline_settings, now=much_later) == [live]
    drain(queue)
    for call_id in (dead, live, fresh):
        assert load(sessions, call_id).pipeline_state == PipelineState.DONE
    assert count(sessions, Transcript) == 3


def test_make_huey_follows_the_queue_setting(settings: Settings) -> None:
    huey = make_huey(settings)
    assert isinstance(huey, SqliteHuey)
    assert huey.storage.filename == str(settings.instance_dir / "queue.db")

    settings.pipeline.queue = "redis"
    settings.pipeline.redis_url = "redis://queue-host:6380/2"
    huey = make_huey(settings)
    assert isinstance(huey, RedisHuey)
    assert huey.storage.pool.connection_kwargs["host"] == "queue-host"
    assert huey.storage.pool.connection_kwargs["port"] == 6380

    settings.pipeline.queue = "memory"
    memory = make_huey(settings)
    assert isinstance(memory, MemoryHuey) and memory.immediate

    settings.pipeline.queue = "rabbit"
    with pytest.raises(ConfigError, match="pipeline.queue"):
        make_huey(settings)


@pytest.fixture
def cli_runner(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    for name in list(os.environ):
        if name.startswith("CALLCENTER_"):
            monkeypatch.delenv(name)
    return CliRunner()


def test_cli_status_and_retry(
    cli_runner: CliRunner,
    settings: Settings,
    sessions: sessionmaker[Session],
    queue: PipelineQueue,
    pipeline_settings: Settings,
) -> None:
    pipeline_settings.pipeline.max_attempts = 1
    failed = add_call(sessions, pipeline_settings, "bad.wav")
    (pipeline_settings.recordings_dir / "bad.wav").write_text("坏文件")
    assert run_step(sessions, pipeline_settings, failed) == PipelineState.FAILED
    waiting = add_call(sessions, pipeline_settings, "waiting.wav")
    base = ["--instance", str(settings.instance_dir)]

    result = cli_runner.invoke(cli, [*base, "pipeline-status"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert any(line.split()[0] == "recorded" and line.split()[-1] == "1" for line in lines[1:7])
    assert any(line.split()[0] == "failed" and line.split()[-1] == "1" for line in lines[1:7])
    assert f"通话 {failed}: transcribe 步骤失败" in result.output

    result = cli_runner.invoke(cli, [*base, "retry", "777"])
    assert result.exit_code == 1 and "找不到通话 777" in result.output
    result = cli_runner.invoke(cli, [*base, "retry", str(waiting)])
    assert result.exit_code == 1 and "只有失败(failed)的通话可以重试" in result.output
    result = cli_runner.invoke(cli, [*base, "retry", "abc"])
    assert result.exit_code == 1 and "通话编号应为正整数" in result.output

    result = cli_runner.invoke(cli, [*base, "retry", str(failed)])
    assert result.exit_code == 0, result.output
    assert "transcribe" in result.output
    assert load(sessions, failed).pipeline_state == PipelineState.RECORDED
    # the CLI's settings use the default SQLite queue: the message waits there for a worker
    cli_settings = load_settings(environ={}, instance_path=str(settings.instance_dir))
    file_queue = PipelineQueue(cli_settings, make_huey(cli_settings), sessions)
    assert isinstance(file_queue.huey, SqliteHuey)
    assert [task.args for task in file_queue.huey.pending()] == [(failed,)]
