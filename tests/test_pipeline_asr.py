"""The pipeline's default transcribe step runs the real recogniser and stores its transcript."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from callcenter.config import Settings
from callcenter.ids import PipelineState
from callcenter.models import Call, Transcript
from callcenter.pipeline import configure, run_step

DATA = Path(__file__).resolve().parent / "data" / "speech"

pytestmark = pytest.mark.slow


def _recorded_call(sessions: sessionmaker[Session], recording: str) -> int:
    with sessions() as session:
        call = Call(
            recording_path=recording,
            template_id="service_3dc",
            pipeline_state=PipelineState.RECORDED,
        )
        session.add(call)
        session.commit()
        return call.id


def test_recorded_call_is_transcribed_by_the_real_model(
    settings: Settings, sessions: sessionmaker[Session]
) -> None:
    settings.pipeline.queue = "memory"  # the transcribe step is left at its default
    configure(settings, sessions=sessions, immediate=False)
    settings.recordings_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy(DATA / "call_service.wav", settings.recordings_dir / "c1.wav")
    call_id = _recorded_call(sessions, "c1.wav")

    assert run_step(sessions, settings, call_id) == PipelineState.TRANSCRIBED

    with sessions() as session:
        stored = session.scalars(select(Transcript).where(Transcript.call_id == call_id)).one()
        assert [s["speaker"] for s in stored.segments][:4] == [
            "agent",
            "customer",
            "agent",
            "customer",
        ]
        assert len(stored.segments) == 8
        assert "不太满意" in "".join(s["text"] for s in stored.segments)
        assert stored.duration_s == pytest.approx(34.44, abs=0.05)
        assert stored.engine and stored.engine.startswith("faster-whisper")


def test_undecodable_recording_fails_the_call_with_the_reason(
    settings: Settings, sessions: sessionmaker[Session]
) -> None:
    settings.pipeline.queue = "memory"
    configure(settings, sessions=sessions, immediate=False)
    settings.recordings_dir.mkdir(parents=True, exist_ok=True)
    (settings.recordings_dir / "broken.wav").write_text("不是录音", encoding="utf-8")
    call_id = _recorded_call(sessions, "broken.wav")

    assert run_step(sessions, settings, call_id) == PipelineState.FAILED
    with sessions() as session:
        call = session.get(Call, call_id)
        assert call is not None
        assert call.pipeline_error and "无法解码" in call.pipeline_error
