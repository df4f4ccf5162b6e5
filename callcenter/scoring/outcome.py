"""How the call ended (CONTRACTS.md ``outcome``) and where the survey stopped."""

from __future__ import annotations

from dataclasses import dataclass

from callcenter.ids import Outcome
from callcenter.scoring.reading import Ask
from callcenter.scoring.template import Language
from callcenter.scoring.text import Clause

# a call that reaches this many questions after the customer's "not now" went on after all
_SURVEY_WENT_ON = 2


@dataclass(frozen=True, slots=True)
class Ending:
    outcome: str
    at: int | None  # clause index of what ended the call early (None: it did not)


def _asks_after(asks: list[Ask], index: int) -> int:
    return sum(1 for a in asks if a.index > index and not a.followup)


def _first(clauses: list[Clause], lang: Language, label: str, speaker: str) -> int | None:
    for i, clause in enumerate(clauses):
        said_by_agent = clause.speaker == "agent"
        if said_by_agent == (speaker == "agent") and any(
            m.label == label for m in lang.outcome.find(clause)
        ):
            return i
    return None


def judge_outcome(
    clauses: list[Clause], asks: list[Ask], lang: Language, closing_heard: bool
) -> Ending:
    """wrong_number > refused > reschedule > incomplete > completed, by what was said where."""
    for outcome, label in (
        (Outcome.WRONG_NUMBER, "wrong_number"),
        (Outcome.REFUSED, "refused"),
        (Outcome.RESCHEDULE, "busy"),
    ):
        at = _first(clauses, lang, label, "customer")
        if at is not None and _asks_after(asks, at) < _SURVEY_WENT_ON:
            return Ending(outcome, at)
    at = _first(clauses, lang, "agent_reschedule", "agent")
    if at is not None and _asks_after(asks, at) < _SURVEY_WENT_ON and len(asks) < 3:
        return Ending(Outcome.RESCHEDULE, at)
    if asks and not closing_heard and _ended_mid_survey(clauses, asks, lang):
        return Ending(Outcome.INCOMPLETE, None)
    return Ending(Outcome.COMPLETED, None)


def _ended_mid_survey(clauses: list[Clause], asks: list[Ask], lang: Language) -> bool:
    tail = clauses[-8:]
    if any(m.label == "dropped" for c in tail for m in lang.outcome.find(c)):
        return True
    if sum(1 for c in tail if c.text.strip("喂?") == "" and "喂" in c.text) >= 2:
        return True  # "喂?" "喂?" — the line went dead
    last_agent = max((i for i, c in enumerate(clauses) if c.speaker == "agent"), default=-1)
    # the agent's last words were a survey question nobody answered
    return any(a.index == last_agent for a in asks) and not any(
        c.speaker == "customer" for c in clauses[last_agent + 1 :]
    )
