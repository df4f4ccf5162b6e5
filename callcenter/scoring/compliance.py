"""Script compliance (CONTRACTS.md ``compliance``), following its labelling rules."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from callcenter.ids import Outcome
from callcenter.scoring.answers import Rating, is_negative
from callcenter.scoring.reading import Ask, named_questions
from callcenter.scoring.template import ItemSpec, Language, Template
from callcenter.scoring.text import Clause, Lexicon, sound
from callcenter.scoring.types import ComplaintFinding, ComplianceResult, Evidence

EARLY_END = (Outcome.RESCHEDULE, Outcome.REFUSED, Outcome.WRONG_NUMBER)
OPENING_SEGMENTS = 3  # the agent's first utterances
CLOSING_SEGMENTS = 3  # the agent's last utterances


@dataclass(frozen=True)
class CallFacts:
    clauses: list[Clause]
    asks: list[Ask]
    ratings: dict[str, Rating]
    complaints: list[ComplaintFinding]
    outcome: str
    ended_at: int | None  # clause index of what ended the call early


def _agent_segments(clauses: list[Clause]) -> list[int]:
    seen: list[int] = []
    for clause in clauses:
        if clause.speaker == "agent" and (not seen or seen[-1] != clause.segment):
            seen.append(clause.segment)
    return seen


def _window(clauses: list[Clause], where: str, survey_from: int | None = None) -> list[int]:
    """Indexes of the agent clauses an item may be found in: the opening runs until the first
    survey question (at least the agent's first few utterances)."""
    segments = _agent_segments(clauses)
    if where == "opening":
        allowed = set(segments[:OPENING_SEGMENTS])
        if survey_from is not None:
            allowed |= {c.segment for c in clauses[:survey_from] if c.speaker == "agent"}
    elif where == "closing":
        allowed = set(segments[-CLOSING_SEGMENTS:])
    else:
        allowed = set(segments)
    return [i for i, c in enumerate(clauses) if c.speaker == "agent" and c.segment in allowed]


def _turns(clauses: list[Clause], indexes: list[int]) -> list[tuple[int, Clause]]:
    """The agent's turns (utterances until the customer speaks) as one clause each, for
    phrases that run across punctuation and pauses."""
    turns: list[list[int]] = []
    for i in indexes:
        if turns and all(c.speaker == "agent" for c in clauses[turns[-1][-1] + 1 : i]):
            turns[-1].append(i)
        else:
            turns.append([i])
    result = []
    for turn in turns:
        parts = [clauses[i] for i in turn]
        text = "".join(c.text for c in parts)
        first = parts[0]
        merged = dataclasses.replace(
            first,
            text=text,
            sound=sound(text),
            end=parts[-1].end,
            question=False,
            said=",".join(c.said for c in parts),
        )
        result.append((turn[0], merged))
    return result


def find_phrase(
    clauses: list[Clause],
    item: ItemSpec,
    lexicon: Lexicon[str],
    asked: frozenset[int] = frozenset(),
    survey_from: int | None = None,
) -> tuple[int, Clause] | None:
    """The first place the agent said one of the item's phrases, where the item allows.

    ``asked``: indexes of clauses that put a rated survey question (skipped where the item says).
    """
    indexes = _window(clauses, item.where, survey_from)
    if item.not_in_questions:
        indexes = [i for i in indexes if i not in asked]
    if item.scope == "turn":
        candidates = _turns(clauses, indexes)
    else:
        candidates = [(i, clauses[i]) for i in indexes]
    for i, clause in candidates:
        if item.question and not _in_question(clauses, i, clause):
            continue
        if lexicon.search(clause) is not None:
            return i, clause
    return None


def _in_question(clauses: list[Clause], i: int, clause: Clause) -> bool:
    if clause.question:
        return True
    nxt = clauses[i + 1] if i + 1 < len(clauses) else None
    return nxt is not None and nxt.segment == clause.segment and nxt.question


def _evidence(clause: Clause) -> Evidence:
    """Where a reviewer's player should seek to (the utterance), and the words."""
    return Evidence(start=clause.utterance_start, text=clause.said or clause.text)


def _agent_segments_before(clauses: list[Clause], index: int) -> int:
    return len(_agent_segments(clauses[:index]))


def judge_compliance(
    facts: CallFacts, template: Template, lang: Language
) -> dict[str, ComplianceResult]:
    """Each compliance item of the template: passed true/false, or null where it does not apply."""
    results: dict[str, ComplianceResult] = {}
    early = facts.outcome in EARLY_END
    incomplete = facts.outcome == Outcome.INCOMPLETE
    # how many agent utterances came before the customer ended the call early
    reached = (
        _agent_segments_before(facts.clauses, facts.ended_at)
        if early and facts.ended_at is not None
        else len(_agent_segments(facts.clauses))
    )
    # clauses that name a rated survey question ("倾听您的要求" is not inviting feedback)
    asked = frozenset(
        i
        for i, c in enumerate(facts.clauses)
        if c.speaker == "agent"
        and any(template.questions[q].rated for q in named_questions(c, template))
    )
    rated = [a.index for a in facts.asks if template.questions[a.question].rated]
    survey_from = min(rated) if rated else None
    for name, item in template.spec.compliance.items():
        if item.kind == "apology":
            results[name] = ComplianceResult(None) if early else _apology(facts, template, lang)
            continue
        if item.kind == "promise":
            results[name] = (
                ComplianceResult(None)
                if early or not facts.complaints
                else _promise(facts, template.promises[name], incomplete)
            )
            continue
        found = find_phrase(facts.clauses, item, template.items[name], asked, survey_from)
        if item.kind == "forbidden":
            results[name] = (
                ComplianceResult(False, _evidence(found[1])) if found else ComplianceResult(True)
            )
            continue
        if early and name in ("invite_feedback", "closing"):
            results[name] = ComplianceResult(None)  # even if the agent says a polite goodbye
        elif (
            found
            and early
            and name == "visit_confirm"
            and not _in_question(facts.clauses, found[0], found[1])
        ):
            # "蒋先生上周在我们店修了车,想给您做个回访" only says why the agent is calling
            results[name] = ComplianceResult(None)
        elif found and not (early and name != "greeting" and _after_end(found[0], facts)):
            results[name] = ComplianceResult(True, _evidence(found[1]))
        else:
            results[name] = ComplianceResult(_missing(name, early, incomplete, reached, facts))
    return results


def _missing(
    name: str, early: bool, incomplete: bool, reached: int, facts: CallFacts
) -> bool | None:
    """An item not heard: a lapse (False), or not applicable in this call (None)."""
    if name in ("invite_feedback", "closing"):
        return None if early or incomplete else False
    if name == "visit_confirm":
        if early or (incomplete and not facts.asks):
            return None
        return False
    if name == "convenience_check" and early:
        return None  # the customer ended the call before it was the moment to ask
    if name == "self_intro" and early and reached <= 1:
        return None  # the customer ended it before the agent could say who they are
    if name not in ("greeting", "self_intro") and early:
        return None  # a template's own items (due date, appointment offer…) were never reached
    return False


def _after_end(index: int, facts: CallFacts) -> bool:
    """Said after the customer ended the survey (explaining a wrong number, say)."""
    return facts.ended_at is not None and index > facts.ended_at


def _apology(facts: CallFacts, template: Template, lang: Language) -> ComplianceResult:
    """All or nothing: an apology after every negative answer, before the next question.

    The window opens at the customer's first answer to the question: an agent who apologises
    and then pins the answer down ("很抱歉…那我记不满意,可以吗?" "记吧") has apologised.
    """
    negatives = sorted(
        (
            r
            for r in facts.ratings.values()
            if r.answer is not None and is_negative(template.questions[r.question], r.value)
        ),
        key=lambda r: r.answer.start if r.answer is not None else 0.0,
    )
    if not negatives:
        return ComplianceResult(None)
    evidence = None
    clauses = facts.clauses
    for rating in negatives:
        answer = rating.answer
        if answer is None:
            continue
        begin = clauses.index(rating.first_answer or answer)
        last = clauses.index(answer)
        later_asks = [
            a.index
            for a in facts.asks
            if a.index > last and not a.followup and a.question != rating.question
        ]
        # the apology may open the agent's next utterance, just before the next question
        end = later_asks[0] + 1 if later_asks else len(clauses)
        said = next(
            (
                c
                for c in clauses[begin + 1 : end]
                if c.speaker == "agent" and lang.apology.search(c) is not None
            ),
            None,
        )
        if said is None:
            return ComplianceResult(False, _evidence(answer))
        evidence = evidence or _evidence(said)
    return ComplianceResult(True, evidence)


def _promise(
    facts: CallFacts, lexicons: tuple[Lexicon[bool], Lexicon[bool]], incomplete: bool
) -> ComplianceResult:
    """After the first complaint the agent records it and promises a follow-up."""
    first = min(c.start for c in facts.complaints)
    record, promise = lexicons
    after = [c for c in facts.clauses if c.speaker == "agent" and c.start >= first]
    recorded = next((c for c in after if record.search(c) is not None), None)
    promised = next((c for c in after if promise.search(c) is not None), None)
    if recorded is not None and promised is not None:
        return ComplianceResult(True, _evidence(promised))
    return ComplianceResult(None if incomplete else False)
