"""Plain data in and out of the scorer: the CONTRACTS.md transcript and score."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from callcenter.transcript import (  # noqa: F401  (the scorer's input, re-exported)
    SPEAKERS,
    Segment,
    Transcript,
    TranscriptFormatError,
)


@dataclass(frozen=True, slots=True)
class Evidence:
    start: float
    text: str


@dataclass(frozen=True, slots=True)
class ComplianceResult:
    passed: bool | None
    evidence: Evidence | None = None


@dataclass(frozen=True, slots=True)
class ComplaintFinding:
    category: str
    text: str
    start: float


@dataclass(frozen=True, slots=True)
class RatingFinding:
    """A question's answer with where it was asked and answered (extra detail for reviewers)."""

    value: str
    asked_at: float
    answered_at: float | None
    answer_text: str


@dataclass(frozen=True)
class Score:
    template: str
    outcome: str
    compliance: dict[str, ComplianceResult]
    ratings: dict[str, str]
    complaints: list[ComplaintFinding]
    qa_score: float
    csi: float | None
    reschedule_at: str | None = None
    metrics: dict[str, float | int] = field(default_factory=dict)
    rating_details: dict[str, RatingFinding] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The CONTRACTS.md score (plus the extra keys reschedule_at, metrics, rating_details)."""
        return {
            "template": self.template,
            "outcome": self.outcome,
            "compliance": {
                item: {
                    "passed": result.passed,
                    "evidence": None
                    if result.evidence is None
                    else {"start": result.evidence.start, "text": result.evidence.text},
                }
                for item, result in self.compliance.items()
            },
            "ratings": dict(self.ratings),
            "complaints": [
                {"category": c.category, "text": c.text, "start": c.start} for c in self.complaints
            ],
            "qa_score": self.qa_score,
            "csi": self.csi,
            "reschedule_at": self.reschedule_at,
            "metrics": dict(self.metrics),
            "rating_details": {
                qid: {
                    "value": d.value,
                    "asked_at": d.asked_at,
                    "answered_at": d.answered_at,
                    "answer_text": d.answer_text,
                }
                for qid, d in self.rating_details.items()
            },
        }
