"""``callcenter worker``: a Huey consumer plus a sweeper that re-queues stalled calls."""

from __future__ import annotations

import logging
import threading

from huey.consumer import WORKER_THREAD
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from callcenter.config import ConfigError, Settings
from callcenter.pipeline.recovery import recover_stalled
from callcenter.pipeline.tasks import configure

logger = logging.getLogger(__name__)

# an idle worker polls the SQLite queue at least this often, so a recorded call starts within
# about a second; reading one small table that often costs nothing (Redis blocks instead)
POLL_MAX_DELAY_S = 1.0


def _sweep(sessions: sessionmaker[Session], settings: Settings) -> None:
    try:
        recovered = recover_stalled(sessions, settings)
    except Exception:
        logger.exception("巡检失败,下次再试")
        return
    if recovered:
        logger.info("巡检重新排队 %d 个通话: %s", len(recovered), recovered)


def _sweep_loop(sessions: sessionmaker[Session], settings: Settings, stop: threading.Event) -> None:
    while not stop.wait(settings.pipeline.sweep_interval_s):
        _sweep(sessions, settings)


def _schedule(sessions: sessionmaker[Session], settings: Settings) -> None:
    """Create the callbacks that have fallen due; safe beside other workers doing the same."""
    from callcenter.schedule import schedule_callbacks

    try:
        with sessions() as session:
            result = schedule_callbacks(session, settings)
    except IntegrityError:
        # another worker inserted the same callbacks first; its rows stand, ours were rolled back
        logger.info("回访计划已由其他 worker 生成")
        return
    except Exception:
        logger.exception("生成回访计划失败,下次再试")
        return
    if sum(result.created.values()) or result.flagged_overdue:
        logger.info("回访计划: %s", result.format().replace("\n", "; "))


def _schedule_loop(
    sessions: sessionmaker[Session], settings: Settings, stop: threading.Event
) -> None:
    _schedule(sessions, settings)
    while not stop.wait(settings.schedule.run_every_s):
        _schedule(sessions, settings)


def run_worker(settings: Settings, workers: int | None = None) -> None:
    """Process queued steps with ``workers`` threads until SIGINT (graceful) or SIGTERM.

    SIGINT lets running steps finish (a second SIGINT stops at once); SIGTERM stops at once, and
    the steps it cut short are run again elsewhere once their lease runs out.
    """
    queue = configure(settings)
    if queue.huey.immediate:
        raise ConfigError(
            "设置项 pipeline.queue 为 memory 时步骤在提交它的进程里直接执行,"
            "不能启动 worker;请改为 sqlite 或 redis"
        )
    workers = workers or settings.pipeline.workers
    _sweep(queue.sessions, settings)  # calls left behind while no worker ran
    consumer = queue.huey.create_consumer(
        workers=workers,
        worker_type=WORKER_THREAD,
        periodic=False,
        max_delay=POLL_MAX_DELAY_S,
    )
    stop = threading.Event()
    sweeper = threading.Thread(
        target=_sweep_loop,
        args=(queue.sessions, settings, stop),
        name="pipeline-sweeper",
        daemon=True,
    )
    sweeper.start()
    threads = [sweeper]
    if settings.schedule.run_every_s > 0:
        scheduler = threading.Thread(
            target=_schedule_loop,
            args=(queue.sessions, settings, stop),
            name="callback-scheduler",
            daemon=True,
        )
        scheduler.start()
        threads.append(scheduler)
    logger.info(
        "worker 已启动: %d 个线程,队列 %s,每 %.1f 秒巡检一次",
        workers,
        settings.pipeline.queue,
        settings.pipeline.sweep_interval_s,
    )
    try:
        consumer.run()
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=10)
        logger.info("worker 已停止")
