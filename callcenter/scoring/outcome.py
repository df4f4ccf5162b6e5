"""How the call ended (CONTRACTS.md ``outcome``) and where the survey stopped."""

from __future__ import annotations

import re
from dataclasses import dataclass

from callcenter.ids import Outcome
from callcenter.scoring.reading import Ask
from callcenter.scoring.template import Language
from callcenter.scoring.text import Clause

_IDENTITY = re.compile(
    r"是.{1,6}(先生|女士|小姐|老师|总|师傅|大爷|阿姨|大姐|哥|姐)吗|是.{2,4}本人|您是.{2,4}吗"
)
# a call that reaches this many questions after the customer's "not now" went on after all
_SURVEY_WENT_ON = 2


@dataclass(frozen=True, slots=True)
class Ending:
    outcome: str
    at: int | None  # clause index of what ended the call early (None: it did not)


def _asks_after(asks: list[Ask], index: int) -> int:
    return sum(1 for a in asks if a.index > index and not a.followup)


def _asks_before(asks: list[Ask], index: int) -> int:
    return sum(1 for a in asks if a.index < index and not a.followup)


def _ends_survey(asks: list[Ask], at: int, content_from: int | None = None) -> bool:
    """A "not now"/"wrong person" that came before the survey got going, and ended it.

    ``content_from``: where the agent began the call's business (a reminder's due date, …);
    a "不用了" after it declines an offer, it does not end the call.
    """
    if content_from is not None and at > content_from:
        return False
    return _asks_before(asks, at) <= 1 and _asks_after(asks, at) < _SURVEY_WENT_ON


def _not_the_customer(clauses: list[Clause], lang: Language) -> int | None:
    """ "请问是张先生吗?" "不是啊": the first answer to the agent's who-are-you question is no."""
    for i, clause in enumerate(clauses[:8]):
        if clause.speaker == "agent" and clause.question and _IDENTITY.search(clause.text):
            reply = next((c for c in clauses[i + 1 : i + 4] if c.speaker != "agent"), None)
            if reply is not None:
                first = lang.yes_no.search(reply)
                if first is not None and first.label == "no" and first.begin == 0:
                    return clauses.index(reply)
            return None
    return None


def _first(heard: list[set[str]], clauses: list[Clause], label: str, speaker: str) -> int | None:
    for i, clause in enumerate(clauses):
        if (clause.speaker == "agent") == (speaker == "agent") and label in heard[i]:
            return i
    return None


def judge_outcome(
    clauses: list[Clause],
    asks: list[Ask],
    lang: Language,
    closing_heard: bool,
    content_from: int | None = None,
    reached_end: bool = False,
) -> Ending:
    """wrong_number > refused > reschedule > incomplete > completed, by what was said where."""
    heard = [{m.label for m in lang.outcome.find(c)} for c in clauses]
    for clause, labels in zip(clauses, heard, strict=True):
        if clause.speaker == "agent" and "callback_anywhere" in labels:
            labels.add("agent_reschedule")  # "那我明天上午再给您打过来"
    at = _not_the_customer(clauses, lang)
    if at is not None and _ends_survey(asks, at):
        return Ending(Outcome.WRONG_NUMBER, at)
    # "我不想回答了", "你晚点再打吧": said plainly, these end the survey wherever they come
    for outcome, label in (
        (Outcome.REFUSED, "refused_anywhere"),
        (Outcome.RESCHEDULE, "callback_anywhere"),
    ):
        at = _first(heard, clauses, label, "customer")
        if (
            at is not None
            and _asks_after(asks, at) < _SURVEY_WENT_ON
            and not (content_from is not None and at > content_from)
        ):
            return Ending(outcome, at)
    # "不用了", "在开车": early on they end the call; later they answer a question
    for outcome, label in (
        (Outcome.WRONG_NUMBER, "wrong_number"),
        (Outcome.REFUSED, "refused"),
        (Outcome.RESCHEDULE, "busy"),
    ):
        at = _first(heard, clauses, label, "customer")
        if at is not None and _ends_survey(asks, at, content_from):
            return Ending(outcome, at)
    at = _first(heard, clauses, "agent_reschedule", "agent")
    if at is not None and _ends_survey(asks, at) and len(asks) < 3:
        return Ending(Outcome.RESCHEDULE, at)
    # a survey that got to its open question ended; "那先这样" then is a curt goodbye
    if asks and not reached_end and _ended_mid_survey(clauses, asks, lang, closing_heard):
        return Ending(Outcome.INCOMPLETE, None)
    return Ending(Outcome.COMPLETED, None)


def _ended_mid_survey(
    clauses: list[Clause], asks: list[Ask], lang: Language, closing_heard: bool
) -> bool:
    """The customer left or the line dropped before the survey's end (the agent may still
    have got a goodbye in), or the agent's last question went unanswered."""
    tail = clauses[-8:]
    if any(lang.call_ended.find(c) for c in tail):
        return True
    if closing_heard:
        return False
    if sum(1 for c in tail if c.text.strip("喂?") == "" and "喂" in c.text) >= 2:
        return True  # "喂?" "喂?" — the line went dead
    last_agent = max((i for i, c in enumerate(clauses) if c.speaker == "agent"), default=-1)
    # the agent's last words were a survey question nobody answered
    return any(a.index == last_agent for a in asks) and not any(
        c.speaker == "customer" for c in clauses[last_agent + 1 :]
    )
