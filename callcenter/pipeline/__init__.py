"""Background processing of recorded calls: ``recorded → transcribed → scored → done``.

The Call row is the truth about where a call is (``pipeline_state``, ``pipeline_error``,
``pipeline_attempts``, ``lease_owner``, ``lease_until``); the Huey queue only carries call ids,
so a lost message delays a call, never loses it (the worker's sweeper re-queues stalled calls).
Jobs are thin: load by id, call the step function named in the settings, store, advance.

- :func:`enqueue_call` queues the next step of a call; :func:`run_step` runs one step
  synchronously under the call's lease (what the job does).
- :func:`retry_call` sends a failed call back to its failed step; :func:`recover_stalled`
  re-queues calls whose worker died or whose message was lost.
- :func:`run_worker` is ``callcenter worker``.

How the Huey instance follows per-process settings is described in ``tasks.py``; the lease rules
in ``runner.py``.
"""

from callcenter.pipeline.recovery import (
    PIPELINE_STATE_LABELS,
    PipelineError,
    failed_calls,
    recover_stalled,
    retry_call,
    state_counts,
)
from callcenter.pipeline.runner import STEPS, run_step
from callcenter.pipeline.steps import PermanentStepError, StepError, StepUnavailable
from callcenter.pipeline.tasks import configure, enqueue_call, get_queue, make_huey
from callcenter.pipeline.worker import run_worker

__all__ = [
    "PIPELINE_STATE_LABELS",
    "STEPS",
    "PermanentStepError",
    "PipelineError",
    "StepError",
    "StepUnavailable",
    "configure",
    "enqueue_call",
    "failed_calls",
    "get_queue",
    "make_huey",
    "recover_stalled",
    "retry_call",
    "run_step",
    "run_worker",
    "state_counts",
]
