"""Transcript + template → score (CONTRACTS.md)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import datetime
from itertools import groupby
from typing import Any

from callcenter.ids import SCALE_SCORES, CallbackKind, ComplaintCategory, Outcome
from callcenter.scoring.answers import is_negative, rate_all
from callcenter.scoring.complaints import complaints_from_answers, find_complaints
from callcenter.scoring.compliance import CallFacts, find_phrase, judge_compliance
from callcenter.scoring.metrics import call_metrics
from callcenter.scoring.outcome import judge_outcome
from callcenter.scoring.reading import find_asks, read_clauses
from callcenter.scoring.template import SURVEY_KINDS, Template, language, load_template
from callcenter.scoring.text import Clause
from callcenter.scoring.types import (
    ComplaintFinding,
    ComplianceResult,
    RatingFinding,
    Score,
    Transcript,
)
from callcenter.scoring.when import parse_callback_time


def score_transcript(
    transcript: Transcript | Mapping[str, Any],
    template: str | Template,
    *,
    call_time: datetime | None = None,
) -> Score:
    """Score one call. ``call_time`` (aware) resolves the time a busy customer names."""
    if not isinstance(transcript, Transcript):
        transcript = Transcript.from_dict(transcript)
    if isinstance(template, str):
        template = load_template(template)
    lang = language()
    clauses = read_clauses(transcript, template, lang)
    asks = find_asks(clauses, template, lang)
    ratings = rate_all(clauses, asks, template, lang)
    complaints = find_complaints(clauses, lang)
    complaints += complaints_from_answers(
        [
            (q, [c for c in r.turn if r.answer is None or c.start >= r.answer.start])
            for q, r in ratings.items()
            if is_negative(template.questions[q], r.value)
        ],
        complaints,
        lang,
    )
    complaints.sort(key=lambda c: c.start)
    if template.spec.kind == CallbackKind.SALES_7DC:
        # a new car was sold, nothing was repaired: a fault or scratch on it is "other"
        complaints = _as_sales(complaints)
    closing = template.spec.compliance.get("closing")
    closing_heard = closing is not None and (
        find_phrase(clauses, closing, template.items["closing"]) is not None
    )
    reached_end = any(template.questions[a.question].type == "open" for a in asks)
    ending = judge_outcome(
        clauses, asks, lang, closing_heard, _content_from(clauses, template), reached_end
    )
    facts = CallFacts(clauses, asks, ratings, complaints, ending.outcome, ending.at)
    compliance = judge_compliance(facts, template, lang)

    reschedule_at = None
    if ending.outcome == Outcome.RESCHEDULE and call_time is not None and ending.at is not None:
        # the customer's words name the time; the agent's only when the customer just agreed
        after = clauses[ending.at :]
        when = parse_callback_time(
            _by_segment([c for c in after if c.speaker != "agent"]), call_time
        ) or parse_callback_time(_by_segment(after), call_time)
        reschedule_at = when.isoformat() if when else None

    values = {q: r.value for q, r in ratings.items()}
    scale = [SCALE_SCORES[v] for v in values.values() if v in SCALE_SCORES]
    return Score(
        template=template.id,
        outcome=ending.outcome,
        compliance=compliance,
        ratings=values,
        complaints=complaints,
        qa_score=qa_score(compliance, template),
        csi=round(sum(scale) / len(scale), 1) if scale else None,
        reschedule_at=reschedule_at,
        metrics=call_metrics(
            [{"speaker": s.speaker, "start": s.start, "end": s.end} for s in transcript.segments],
            transcript.duration,
        ),
        rating_details={
            q: RatingFinding(
                value=r.value,
                asked_at=r.asked.start,
                answered_at=r.answer.start if r.answer else None,
                answer_text=r.answer.text if r.answer else "",
            )
            for q, r in ratings.items()
        },
    )


# what any call opens with; the call's own business comes after
_OPENING_ITEMS = ("greeting", "self_intro", "convenience_check")


def _by_segment(clauses: list[Clause]) -> str:
    """Clauses as text, one line per segment they came from."""
    return "\n".join(
        ",".join(c.text for c in same) for _, same in groupby(clauses, key=lambda c: c.segment)
    )


def _content_from(clauses: list[Clause], template: Template) -> int | None:
    """Where the agent first said something of the call's business beyond the opening (for
    reminders and follow-ups; a survey's business is its questions, judged by the asks)."""
    if template.spec.kind in SURVEY_KINDS:
        return None
    found = [
        hit[0]
        for name, item in template.spec.compliance.items()
        if item.kind == "phrase" and name not in _OPENING_ITEMS and name != "closing"
        if (hit := find_phrase(clauses, item, template.items[name])) is not None
    ]
    return min(found, default=None)


def _as_sales(complaints: list[ComplaintFinding]) -> list[ComplaintFinding]:
    seen: set[str] = set()
    result = []
    for complaint in complaints:
        category = complaint.category
        if category == ComplaintCategory.REPAIR_QUALITY:
            category = ComplaintCategory.OTHER
        if category not in seen:
            seen.add(category)
            result.append(dataclasses.replace(complaint, category=str(category)))
    return result


def qa_score(compliance: Mapping[str, ComplianceResult], template: Template) -> float:
    """Weighted share of the applicable items passed, 0–100."""
    weights = {name: item.weight for name, item in template.spec.compliance.items()}
    applicable = {n: r for n, r in compliance.items() if r.passed is not None and weights.get(n)}
    total = sum(weights[n] for n in applicable)
    if not total:
        return 0.0
    return round(100 * sum(weights[n] for n, r in applicable.items() if r.passed) / total, 1)
