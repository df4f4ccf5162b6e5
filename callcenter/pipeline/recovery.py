"""Putting calls back on the queue: stalled ones (sweeper) and failed ones (console, CLI)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from callcenter.config import Settings
from callcenter.db import session_scope
from callcenter.ids import PipelineState
from callcenter.models import Call, utcnow
from callcenter.pipeline.runner import ACTIVE_STATES, STEPS, execute_update
from callcenter.pipeline.tasks import enqueue_or_log

logger = logging.getLogger(__name__)

PIPELINE_STATE_LABELS: dict[str, str] = {
    PipelineState.PENDING: "未录音",
    PipelineState.RECORDED: "待转写",
    PipelineState.TRANSCRIBED: "待评分",
    PipelineState.SCORED: "待收尾",
    PipelineState.DONE: "已完成",
    PipelineState.FAILED: "失败",
}
SWEEP_BATCH = 500


class PipelineError(Exception):
    """A pipeline request that cannot be carried out; the message is shown to the user."""


def recover_stalled(
    sessions: sessionmaker[Session], settings: Settings, now: datetime | None = None
) -> list[int]:
    """Re-queue calls mid-pipeline that nobody is working on; returns their ids.

    Stalled means: a lease that ran out (its worker died), or no lease and nothing happened for
    ``lease_s`` (the message was lost, or a retry came due and was not picked up).
    """
    now = now or utcnow()
    quiet_since = now - timedelta(seconds=settings.pipeline.lease_s)
    stalled = and_(
        Call.pipeline_state.in_(ACTIVE_STATES),
        or_(
            and_(Call.lease_owner.is_not(None), Call.lease_until < now),
            and_(
                Call.lease_owner.is_(None),
                or_(
                    and_(Call.lease_until.is_(None), Call.updated_at < quiet_since),
                    Call.lease_until < quiet_since,
                ),
            ),
        ),
    )
    recovered: list[int] = []
    with session_scope(sessions) as session:
        candidates = session.scalars(
            select(Call.id).where(stalled).order_by(Call.id).limit(SWEEP_BATCH)
        ).all()
        for call_id in candidates:
            # the same condition again: another sweeper or a worker may have moved it meanwhile;
            # touching updated_at keeps the next sweep from queueing it again within lease_s
            if execute_update(
                session,
                update(Call)
                .where(Call.id == call_id, stalled)
                .values(lease_owner=None, lease_until=None, updated_at=now),
            ):
                recovered.append(call_id)
    for call_id in recovered:
        logger.warning("call=%s 无人处理(进程退出或消息丢失),重新排队", call_id)
        enqueue_or_log(settings, call_id)
    return recovered


def _failed_step_state(call: Call) -> PipelineState:
    """The state whose step failed, read from what the call already has."""
    if call.transcript is None:
        return PipelineState.RECORDED
    if call.score is None:
        return PipelineState.TRANSCRIBED
    return PipelineState.SCORED


def retry_call(sessions: sessionmaker[Session], settings: Settings, call_id: int) -> str:
    """Send a failed call back to the step that failed, attempts reset, and queue it."""
    with session_scope(sessions) as session:
        call = session.get(Call, call_id)
        if call is None:
            raise PipelineError(f"找不到通话 {call_id}")
        if call.pipeline_state != PipelineState.FAILED:
            label = PIPELINE_STATE_LABELS.get(call.pipeline_state, "")
            raise PipelineError(
                f"通话 {call_id} 的处理状态是 {call.pipeline_state}({label}),"
                f"只有失败(failed)的通话可以重试"
            )
        state = _failed_step_state(call)
        previous_error = call.pipeline_error
        if not execute_update(
            session,
            update(Call)
            .where(Call.id == call_id, Call.pipeline_state == PipelineState.FAILED)
            .values(
                pipeline_state=state,
                pipeline_attempts=0,
                pipeline_error=None,
                lease_owner=None,
                lease_until=None,
            ),
        ):
            raise PipelineError(f"通话 {call_id} 刚被其他操作修改,请刷新后再试")
    logger.info(
        "call=%s 手动重试 %s 步骤(上次错误: %s)", call_id, STEPS[state].name, previous_error
    )
    enqueue_or_log(settings, call_id)
    return state


def state_counts(session: Session) -> dict[str, int]:
    """How many calls are in each pipeline state (every state listed, zeros included)."""
    counts = {str(state): 0 for state in PipelineState}
    rows = session.execute(select(Call.pipeline_state, func.count()).group_by(Call.pipeline_state))
    for state, count in rows:
        counts[state] = count
    return counts


def failed_calls(session: Session, limit: int = 50) -> list[Call]:
    """The most recently failed calls, newest first."""
    return list(
        session.scalars(
            select(Call)
            .where(Call.pipeline_state == PipelineState.FAILED)
            .order_by(Call.updated_at.desc(), Call.id.desc())
            .limit(limit)
        )
    )
