"""Run one pipeline step of a call exactly once, under a lease on its Call row.

A step claims the call with one conditional UPDATE (state still matches, lease free or expired)
that sets ``lease_owner`` and ``lease_until``; a heartbeat thread renews the lease while the step
function runs; the result is stored and the state advanced in one transaction that only commits
while ``lease_owner`` is still ours. So a duplicate message, a second run, or a worker whose lease
was taken over writes nothing.

``lease_until`` with no owner means "not before": a failed attempt leaves the call there until its
retry is due. ``pipeline_attempts`` counts the starts of the current step (a worker that dies
mid-step used one); it is reset when the call moves on.
"""

from __future__ import annotations

import logging
import os
import pkgutil
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, cast

from sqlalchemy import CursorResult, Update, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from callcenter.config import Settings
from callcenter.db import session_scope
from callcenter.ids import PipelineState
from callcenter.models import Call, Score, Transcript, utcnow
from callcenter.pipeline.contracts import check_score, check_transcript
from callcenter.pipeline.steps import PermanentStepError, StepError
from callcenter.pipeline.tasks import enqueue_or_log

logger = logging.getLogger(__name__)

Compute = Callable[[], Any]


@dataclass(frozen=True)
class Step:
    """One move of the state machine: load inputs, compute (outside any transaction), store."""

    name: str
    source: PipelineState
    target: PipelineState
    prepare: Callable[[Session, Settings, Call], Compute]
    store: Callable[[Session, int, Any], None]


def load_step_function(settings_key: str, dotted: str) -> Callable[..., Any]:
    """The function named ``"module:function"`` by a setting, or a PermanentStepError."""
    try:
        function = pkgutil.resolve_name(dotted)
    except (ImportError, AttributeError, ValueError) as exc:
        raise PermanentStepError(
            f"无法加载设置项 {settings_key} 指定的步骤函数 {dotted!r}: {exc}"
        ) from exc
    if not callable(function):
        raise PermanentStepError(f"设置项 {settings_key} 指定的 {dotted!r} 不是函数")
    return cast(Callable[..., Any], function)


def recording_file(settings: Settings, call: Call) -> Path:
    """The call's recording; relative paths are under the recordings folder."""
    if not call.recording_path:
        raise PermanentStepError(f"通话 {call.id} 没有录音文件(recording_path 为空)")
    path = Path(call.recording_path)
    return path if path.is_absolute() else settings.recordings_dir / path


def transcript_dict(call: Call, transcript: Transcript) -> dict[str, Any]:
    """A stored transcript in its CONTRACTS.md form."""
    return {
        "audio": Path(call.recording_path or "").name,
        "duration": transcript.duration_s,
        "language": transcript.language,
        "segments": transcript.segments,
    }


def _prepare_transcribe(session: Session, settings: Settings, call: Call) -> Compute:
    path = recording_file(settings, call)
    transcribe = load_step_function("pipeline.transcribe_step", settings.pipeline.transcribe_step)
    template_id = call.template_id
    return lambda: check_transcript(transcribe(str(path), template_id, settings))


def _store_transcript(session: Session, call_id: int, result: dict[str, Any]) -> None:
    engine = result.get("engine")
    session.add(
        Transcript(
            call_id=call_id,
            language=result["language"],
            duration_s=result["duration"],
            segments=result["segments"],
            engine=engine[:128] if isinstance(engine, str) else None,
        )
    )


def _prepare_score(session: Session, settings: Settings, call: Call) -> Compute:
    if call.transcript is None:
        raise PermanentStepError(f"通话 {call.id} 没有转写结果,无法评分")
    template_id = call.template_id
    if not template_id:
        raise PermanentStepError(f"通话 {call.id} 没有回访模板(template_id 为空),无法评分")
    transcript = transcript_dict(call, call.transcript)
    score = load_step_function("pipeline.score_step", settings.pipeline.score_step)
    return lambda: check_score(score(transcript, template_id))


def _store_score(session: Session, call_id: int, result: dict[str, Any]) -> None:
    session.add(
        Score(
            call_id=call_id,
            template_id=result["template"],
            outcome=result["outcome"],
            compliance=result["compliance"],
            ratings=result["ratings"],
            complaints=result["complaints"],
            qa_score=result["qa_score"],
            csi=result["csi"],
            metrics=result["metrics"],
        )
    )


def _prepare_finish(session: Session, settings: Settings, call: Call) -> Compute:
    # later issues open complaint tickets from the score here
    return lambda: None


def _store_nothing(session: Session, call_id: int, result: Any) -> None:
    return None


STEPS: dict[str, Step] = {
    step.source: step
    for step in (
        Step(
            "transcribe",
            PipelineState.RECORDED,
            PipelineState.TRANSCRIBED,
            _prepare_transcribe,
            _store_transcript,
        ),
        Step(
            "score", PipelineState.TRANSCRIBED, PipelineState.SCORED, _prepare_score, _store_score
        ),
        Step("finish", PipelineState.SCORED, PipelineState.DONE, _prepare_finish, _store_nothing),
    )
}
ACTIVE_STATES = tuple(STEPS)


def new_lease_owner() -> str:
    """A lease owner id unique to one run of one step: host:pid:random."""
    return f"{socket.gethostname()[:80]}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def execute_update(session: Session, statement: Update) -> int:
    """Run a conditional UPDATE and return how many rows it changed."""
    result = session.execute(statement.execution_options(synchronize_session=False))
    return cast(CursorResult[Any], result).rowcount


def _claim(session: Session, call_id: int, step: Step, owner: str, lease_s: float) -> int | None:
    """Take the call's lease for ``step``; returns the attempt number, None if not ours."""
    now = utcnow()
    claimed = execute_update(
        session,
        update(Call)
        .where(
            Call.id == call_id,
            Call.pipeline_state == step.source,
            or_(Call.lease_until.is_(None), Call.lease_until < now),
        )
        .values(
            lease_owner=owner,
            lease_until=now + timedelta(seconds=lease_s),
            pipeline_attempts=Call.pipeline_attempts + 1,
        ),
    )
    if not claimed:
        return None
    return session.scalar(select(Call.pipeline_attempts).where(Call.id == call_id))


class _Heartbeat:
    """Renews a step's lease while it runs, so a long step is not taken over."""

    def __init__(
        self, sessions: sessionmaker[Session], call_id: int, owner: str, lease_s: float
    ) -> None:
        self._sessions = sessions
        self._call_id = call_id
        self._owner = owner
        self._lease_s = lease_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"lease-call-{call_id}", daemon=True)

    def __enter__(self) -> _Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self._lease_s / 3):
            try:
                with session_scope(self._sessions) as session:
                    renewed = execute_update(
                        session,
                        update(Call)
                        .where(Call.id == self._call_id, Call.lease_owner == self._owner)
                        .values(lease_until=utcnow() + timedelta(seconds=self._lease_s)),
                    )
            except Exception:
                logger.exception("call=%s 续租失败,稍后再试", self._call_id)
                continue
            if not renewed:
                logger.warning("call=%s 租约已被接管,本次结果不会写入", self._call_id)
                return


def _error_text(step: Step, attempt: int, exc: BaseException) -> str:
    detail = str(exc) if isinstance(exc, StepError) else f"{type(exc).__name__}: {exc}"
    return f"{step.name} 步骤失败(第 {attempt} 次): {detail}"


def _record_failure(
    sessions: sessionmaker[Session],
    settings: Settings,
    call_id: int,
    step: Step,
    owner: str,
    attempt: int,
    exc: BaseException,
) -> str | None:
    """Retry later or mark the call failed; returns the call's state, None if the lease was lost."""
    error = _error_text(step, attempt, exc)
    final = isinstance(exc, PermanentStepError) or attempt >= settings.pipeline.max_attempts
    delay_s = settings.pipeline.retry_delay_s * 2 ** (attempt - 1)
    values: dict[str, Any] = {"pipeline_error": error, "lease_owner": None}
    if final:
        values.update(pipeline_state=PipelineState.FAILED, lease_until=None)
    else:
        values["lease_until"] = utcnow() + timedelta(seconds=delay_s)
    with session_scope(sessions) as session:
        written = execute_update(
            session,
            update(Call).where(Call.id == call_id, Call.lease_owner == owner).values(**values),
        )
    unexpected = not isinstance(exc, StepError)
    if not written:
        logger.warning("call=%s 步骤 %s 失败,但租约已被接管: %s", call_id, step.name, error)
        return None
    if final:
        logger.error("call=%s 已标记为失败: %s", call_id, error, exc_info=unexpected)
        return PipelineState.FAILED
    logger.warning("call=%s %.1f 秒后重试: %s", call_id, delay_s, error, exc_info=unexpected)
    enqueue_or_log(settings, call_id, delay_s=delay_s)
    return step.source


def _store_and_advance(
    sessions: sessionmaker[Session], call_id: int, step: Step, owner: str, result: Any
) -> bool:
    """Store the result and move the call on in one transaction, only if the lease is ours."""
    with session_scope(sessions) as session:
        advanced = execute_update(
            session,
            update(Call)
            .where(
                Call.id == call_id,
                Call.pipeline_state == step.source,
                Call.lease_owner == owner,
            )
            .values(
                pipeline_state=step.target,
                pipeline_attempts=0,
                pipeline_error=None,
                lease_owner=None,
                lease_until=None,
            ),
        )
        if advanced:
            step.store(session, call_id, result)
    return bool(advanced)


def run_step(sessions: sessionmaker[Session], settings: Settings, call_id: int) -> str | None:
    """Run the call's next step once; returns its state afterwards, None if nothing was done."""
    owner = new_lease_owner()
    with session_scope(sessions) as session:
        call = session.get(Call, call_id)
        if call is None:
            logger.warning("call=%s 不存在,忽略该消息", call_id)
            return None
        step = STEPS.get(call.pipeline_state)
        if step is None:
            logger.debug("call=%s 状态为 %s,没有要做的步骤", call_id, call.pipeline_state)
            return None
        attempt = _claim(session, call_id, step, owner, settings.pipeline.lease_s)
    if attempt is None:
        logger.debug("call=%s 步骤 %s 正由其他进程处理或已完成,跳过", call_id, step.name)
        return None
    if attempt > settings.pipeline.max_attempts:
        died = PermanentStepError(f"已开始 {attempt - 1} 次都没有完成(处理进程中途退出)")
        return _record_failure(sessions, settings, call_id, step, owner, attempt - 1, died)

    logger.info("call=%s 开始 %s 步骤(第 %d 次)", call_id, step.name, attempt)
    started = time.monotonic()
    try:
        with session_scope(sessions) as session:
            compute = step.prepare(session, settings, session.get_one(Call, call_id))
        with _Heartbeat(sessions, call_id, owner, settings.pipeline.lease_s):
            result = compute()
        advanced = _store_and_advance(sessions, call_id, step, owner, result)
    except Exception as exc:
        return _record_failure(sessions, settings, call_id, step, owner, attempt, exc)
    if not advanced:
        logger.warning("call=%s 步骤 %s 的租约已被接管,结果未写入", call_id, step.name)
        return None
    logger.info(
        "call=%s %s 步骤完成 → %s(%.1f 秒)",
        call_id,
        step.name,
        step.target,
        time.monotonic() - started,
    )
    if step.target in STEPS:
        enqueue_or_log(settings, call_id)
    return step.target
