"""The default step functions and the errors a step function may raise.

A transcribe step is ``f(recording_path: str, template_id: str | None, settings: Settings) ->
transcript`` and a score step is
``f(transcript: dict, template_id: str) -> score``, where transcript and score are the
CONTRACTS.md dicts (or dataclasses with the same fields). ``settings.pipeline.transcribe_step`` and
``score_step`` name the functions to use as ``"module:function"``.

The defaults hand the work to ``callcenter.asr.transcribe`` and
``callcenter.scoring.score_transcript``. When a module cannot be imported the defaults raise
:class:`StepUnavailable`, so the call goes to ``failed`` with a message saying what is missing
instead of carrying a made-up result.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from callcenter.config import Settings


class StepError(Exception):
    """A step could not produce its result; the message is shown to the user."""


class PermanentStepError(StepError):
    """A step failed in a way that another attempt will not fix; no automatic retry."""


class StepUnavailable(PermanentStepError):
    """The module a step needs is not installed."""


def _require(module_name: str, names: tuple[str, ...], what: str) -> tuple[Any, ...]:
    """The named attributes of a module, or ``StepUnavailable`` saying what is missing."""
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise StepUnavailable(f"{what}尚未安装(无法导入 {module_name}: {exc})") from exc
    missing = [name for name in names if not hasattr(module, name)]
    if missing:
        raise StepUnavailable(
            f"{what}尚未安装({module_name} 中没有 {', '.join(missing)};"
            f"可在设置项 pipeline 中指定其他步骤函数)"
        )
    return tuple(getattr(module, name) for name in names)


def transcribe_recording(
    recording_path: str, template_id: str | None, settings: Settings
) -> dict[str, Any]:
    """Transcribe a call recording with ``callcenter.asr`` (CONTRACTS.md transcript)."""
    transcribe, audio_error, model_error = _require(
        "callcenter.asr", ("transcribe", "AudioError", "ModelError"), "语音识别模块"
    )
    try:
        transcript = transcribe(recording_path, settings.asr.options(template_id))
    except audio_error as exc:
        raise PermanentStepError(str(exc)) from exc  # the same file will not decode next time
    except model_error as exc:
        raise StepError(str(exc)) from exc
    result: dict[str, Any] = transcript.to_dict()
    result["engine"] = settings.asr.engine_name()
    return result


def score_transcript(transcript: dict[str, Any], template_id: str) -> Any:
    """Score a transcript against a template with ``callcenter.scoring`` (CONTRACTS.md score)."""
    (score,) = _require("callcenter.scoring", ("score_transcript",), "质检评分模块")
    result = score(transcript, template_id)
    return result.to_dict() if hasattr(result, "to_dict") else result
