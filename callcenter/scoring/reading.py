"""Reading a call: clauses with the right speaker, and which bank questions were asked where."""

from __future__ import annotations

from dataclasses import dataclass

from callcenter.scoring.template import Language, Template
from callcenter.scoring.text import Clause, split_clauses
from callcenter.scoring.types import Transcript

# what only the agent says on these calls (used when the recogniser gave no speakers)
_AGENT_MARKERS = ("您", "请问", "我们", "咱们", "客服", "回访", "打扰", "感谢", "抱歉", "麻烦您")


def read_clauses(transcript: Transcript, template: Template, lang: Language) -> list[Clause]:
    """Every utterance split into clauses, with speakers repaired where the recogniser erred."""
    clauses: list[Clause] = []
    for index, seg in enumerate(transcript.segments):
        clauses += split_clauses(seg.text, seg.speaker, seg.start, seg.end, index)
    if clauses and all(c.speaker == "unknown" for c in clauses):
        clauses = _guess_speakers(clauses, template)
    return _split_glued_answers(clauses, template, lang)


def _agent_like(clause: Clause, template: Template) -> bool:
    return (
        any(marker in clause.text for marker in _AGENT_MARKERS)
        or template.cues.search(clause) is not None
        or any(lexicon.search(clause) is not None for lexicon in template.items.values())
    )


def _guess_speakers(clauses: list[Clause], template: Template) -> list[Clause]:
    """A mono recording: the caller speaks first; script-like clauses are the agent's."""
    guessed = []
    for i, clause in enumerate(clauses):
        speaker = "agent" if i == 0 or _agent_like(clause, template) else "customer"
        guessed.append(_with_speaker(clause, speaker))
    return guessed


def _with_speaker(clause: Clause, speaker: str) -> Clause:
    return Clause(
        clause.text,
        clause.sound,
        speaker,
        clause.start,
        clause.end,
        clause.segment,
        clause.question,
    )


def _is_bare_answer(clause: Clause, lang: Language) -> bool:
    """A short clause that is only an answer ("非常满意", "有的", "还行吧")."""
    if len(clause.text) > 8 or "您" in clause.text or "请问" in clause.text:
        return False
    for lexicon in (lang.scale, lang.yes_no):
        matches = lexicon.find(clause)
        if matches and sum(m.end - m.begin for m in matches) >= len(clause.text) - 2:
            return True
    return False


def _split_glued_answers(clauses: list[Clause], template: Template, lang: Language) -> list[Clause]:
    """The recogniser sometimes glues the customer's answer onto the agent's question segment."""
    fixed: list[Clause] = []
    for clause in clauses:
        previous = fixed[-1] if fixed else None
        if (
            clause.speaker == "agent"
            and previous is not None
            and previous.speaker == "agent"
            and previous.segment == clause.segment
            and previous.question
            and not clause.question
            and _is_bare_answer(clause, lang)
        ):
            clause = _with_speaker(clause, "customer")
        fixed.append(clause)
    return fixed


@dataclass(frozen=True, slots=True)
class Ask:
    """A bank question put to the customer at clause ``index`` (a follow-up re-asks it)."""

    question: str
    index: int
    clause: Clause
    followup: bool = False


def find_asks(clauses: list[Clause], template: Template, lang: Language) -> list[Ask]:
    """The bank questions the agent asked, in order, with clarifying follow-ups."""
    asks: list[Ask] = []
    for i, clause in enumerate(clauses):
        if clause.speaker != "agent" or lang.apology.search(clause) is not None:
            continue
        cues = template.cues.find(clause)
        if cues and _put_as_question(clauses, i):
            for match in cues:
                if (
                    asks
                    and asks[-1].question == match.label
                    and not _customer_spoke_since(clauses, asks[-1].index, i)
                ):
                    # the same question put two ways in one breath: the customer answers the
                    # last wording ("完成得对吗?有没有重复维修?" "没有")
                    asks[-1] = Ask(match.label, i, clause)
                    continue
                asks.append(Ask(match.label, i, clause))
        elif (
            clause.question
            and asks
            and not cues
            and lang.scale_offer.search(clause) is not None
            and _customer_spoke_since(clauses, asks[-1].index, i)
        ):
            asks.append(Ask(asks[-1].question, i, clause, followup=True))
    return asks


def _put_as_question(clauses: list[Clause], i: int) -> bool:
    """The cue's clause, or the agent's next few before the customer speaks, is a question."""
    for other in clauses[i : i + 5]:
        if other.speaker != "agent":
            break
        if other.question:
            return True
    return False


def _customer_spoke_since(clauses: list[Clause], start: int, end: int) -> bool:
    return any(c.speaker == "customer" for c in clauses[start + 1 : end])
