"""The pipeline's default score step runs the real scorer and stores its CONTRACTS.md score."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from callcenter.config import Settings
from callcenter.ids import PipelineState
from callcenter.models import Call, Score
from callcenter.pipeline import configure, run_step
from callcenter.scoring import score_transcript
from tests.pipeline_steps import write_bursts_wav

DEV = Path(__file__).resolve().parent.parent / "benchmarks" / "data" / "scoring" / "dev"


def test_recorded_call_is_scored_by_the_real_scorer(
    settings: Settings, sessions: sessionmaker[Session]
) -> None:
    settings.pipeline.queue = "memory"
    settings.pipeline.transcribe_step = "tests.pipeline_steps:transcript_beside_recording"
    # the score step is left at its default: callcenter.scoring
    configure(settings, sessions=sessions, immediate=False)
    label = json.loads((DEV / "labels" / "d002.json").read_text(encoding="utf-8"))
    recording = write_bursts_wav(settings.recordings_dir / "d002.wav", [], duration_s=1.0)
    shutil.copy(DEV / "calls" / "d002.json", f"{recording}.json")
    with sessions() as session:
        call = Call(
            recording_path="d002.wav",
            template_id=label["template"],
            pipeline_state=PipelineState.RECORDED,
        )
        session.add(call)
        session.commit()
        call_id = call.id

    assert run_step(sessions, settings, call_id) == PipelineState.TRANSCRIBED
    assert run_step(sessions, settings, call_id) == PipelineState.SCORED

    expected = score_transcript(
        json.loads((DEV / "calls" / "d002.json").read_text(encoding="utf-8")), "service_3dc"
    ).to_dict()
    with sessions() as session:
        score = session.scalars(select(Score).where(Score.call_id == call_id)).one()
        stored = {
            "template": score.template_id,
            "outcome": score.outcome,
            "compliance": score.compliance,
            "ratings": score.ratings,
            "complaints": score.complaints,
            "qa_score": score.qa_score,
            "csi": score.csi,
        }
        assert stored == {key: expected[key] for key in stored}
        assert score.ratings  # a real survey call: the scorer found its answers
        assert score.metrics["duration_s"] > 100
