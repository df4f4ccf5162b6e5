"""The process's Huey queue. Its one task, ``pipeline_step(call_id)``, carries only a call id.

Settings belong to the process (``callcenter --instance``/``--config``), so no Huey instance is
built at import time. :func:`configure` builds the process's queue from its settings and registers
the task on it; ``run_worker`` calls it before the consumer starts, and :func:`enqueue_call`
calls it on first use (or when handed different settings), so the web console and the CLI need no
set-up of their own.

Queue kinds (``settings.pipeline.queue``):
- ``sqlite`` (embedded default): ``SqliteHuey`` on ``settings.queue_file``, one machine.
- ``redis``: ``RedisHuey`` on ``settings.pipeline.redis_url``, consumers on many machines.
- ``memory``: ``MemoryHuey`` in immediate mode; ``enqueue_call`` runs the steps in the calling
  process (tests, single-process tools). No worker can consume it, and with no
  scheduler or sweeper a failed attempt's delayed retry does not run by itself.
"""

from __future__ import annotations

import logging
import threading

from huey import Huey, MemoryHuey, RedisHuey, SqliteHuey
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from callcenter.config import ConfigError, Settings
from callcenter.db import make_engine, make_session_factory

logger = logging.getLogger(__name__)

HUEY_NAME = "callcenter"
QUEUE_KINDS = ("sqlite", "redis", "memory")


def make_huey(settings: Settings, *, immediate: bool | None = None) -> Huey:
    """A Huey instance for ``settings.pipeline.queue``; results are not stored (rows are)."""
    kind = settings.pipeline.queue
    huey: Huey
    if kind == "sqlite":
        path = settings.queue_file
        path.parent.mkdir(parents=True, exist_ok=True)
        huey = SqliteHuey(HUEY_NAME, filename=str(path), results=False)
    elif kind == "redis":
        huey = RedisHuey(HUEY_NAME, url=settings.pipeline.redis_url, results=False)
    elif kind == "memory":
        huey = MemoryHuey(HUEY_NAME, results=False, immediate=True)
    else:
        raise ConfigError(
            f"设置项 pipeline.queue 应为 {'、'.join(QUEUE_KINDS)} 之一,实际为 {kind!r}"
        )
    if immediate is not None:
        huey.immediate = immediate
    return huey


class PipelineQueue:
    """One process's Huey instance for its settings, with the pipeline task registered on it."""

    def __init__(
        self,
        settings: Settings,
        huey: Huey,
        sessions: sessionmaker[Session] | None = None,
    ) -> None:
        self.settings = settings
        self.huey = huey
        self._engine: Engine | None = None
        if sessions is None:
            self._engine = make_engine(settings.sqlalchemy_url)
            sessions = make_session_factory(self._engine)
        self.sessions = sessions
        self.step_task = huey.task(name="pipeline_step")(self._run_step_job)

    def _run_step_job(self, call_id: int) -> None:
        # imported here: the runner enqueues follow-up steps through this module
        from callcenter.pipeline.runner import run_step

        run_step(self.sessions, self.settings, call_id)

    def enqueue(self, call_id: int, delay_s: float = 0.0) -> None:
        """Queue a message for the call; the job looks up which step is next."""
        if delay_s > 0:
            self.step_task.schedule((call_id,), delay=delay_s)
        else:
            self.step_task(call_id)

    def close(self) -> None:
        """Release the queue's connections and the engine it made."""
        close = getattr(self.huey.storage, "close", None)
        if callable(close):
            close()
        if self._engine is not None:
            self._engine.dispose()


_lock = threading.RLock()
_current: PipelineQueue | None = None


def configure(
    settings: Settings,
    *,
    sessions: sessionmaker[Session] | None = None,
    immediate: bool | None = None,
) -> PipelineQueue:
    """Set up this process's queue from ``settings`` (replacing any earlier one)."""
    global _current
    with _lock:
        queue = PipelineQueue(settings, make_huey(settings, immediate=immediate), sessions)
        previous, _current = _current, queue
        if previous is not None:
            previous.close()
        return queue


def get_queue(settings: Settings) -> PipelineQueue:
    """The process's queue, configured from ``settings`` if it is not already."""
    with _lock:
        current = _current
        if current is not None and (current.settings is settings or current.settings == settings):
            return current
        return configure(settings)


def enqueue_call(settings: Settings, call_id: int, *, delay_s: float = 0.0) -> None:
    """Queue the next step of a call (whatever its current state is when the job runs)."""
    get_queue(settings).enqueue(call_id, delay_s)
    logger.debug("call=%s 已排队(延迟 %.1f 秒)", call_id, delay_s)


def enqueue_or_log(settings: Settings, call_id: int, *, delay_s: float = 0.0) -> bool:
    """Like enqueue_call, but a queue error is logged, not raised: the sweeper finds the call."""
    try:
        enqueue_call(settings, call_id, delay_s=delay_s)
    except Exception:
        logger.exception("call=%s 排队失败,将由巡检重新排队", call_id)
        return False
    return True
