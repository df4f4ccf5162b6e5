"""What the customer answered to each question asked (CONTRACTS.md ``ratings``)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from callcenter.ids import Answer
from callcenter.scoring.reading import Ask
from callcenter.scoring.template import Language, Question, Template
from callcenter.scoring.text import Clause, Lexicon, Match

SCALE = (Answer.VERY_SATISFIED, Answer.SATISFIED, Answer.NEUTRAL, Answer.DISSATISFIED)


@dataclass(frozen=True, slots=True)
class Rating:
    question: str
    value: str
    asked: Clause
    answer: Clause | None  # the clause the value came from
    turn: tuple[Clause, ...] = ()  # the customer's whole answer
    first_answer: Clause | None = None  # the first answer to any asking of the question


def answer_span(clauses: list[Clause], asks: list[Ask], k: int) -> list[Clause]:
    """The customer's first turn after ask ``k`` (asks put in one breath share it)."""
    ask = asks[k]
    following = [a.index for a in asks[k + 1 :] if a.index > ask.index]
    stop = following[0] if following else len(clauses)
    span: list[Clause] = []
    for clause in clauses[ask.index + 1 : stop]:
        if clause.speaker == "customer" or clause.speaker == "unknown":
            span.append(clause)
        elif span and not clause.question and len(clause.text) > 4:
            break  # the agent moved on (an apology, a remark): the turn is over
    return span


# the customer takes back what they just said ("满意,哦不对,一般吧")
_CORRECTION = Lexicon.of(
    ["不对", "哦不", "啊不", "说错了", "应该是", "应该算", "还是说", "准确说", "其实", "要说的话"]
)


# the customer's verdict after weighing things up ("…我只能讲一般", "算一般吧", "总的来说满意")
_VERDICT = re.compile(
    r"(算|算是|只能讲|只能说|总的来说|总体|整体|总之|所以|那就|就给|给个|打个|我讲|我说)$"
)


def _scale_value(span: list[Clause], lang: Language) -> tuple[str, Clause] | None:
    """The first clear scale answer (later clauses explain it), unless the customer corrects
    it or gives a verdict; the scale's own words (满意, 一般) before plain praise (挺好)."""
    clear: tuple[str, Clause] | None = None
    vague: tuple[str, Clause] | None = None
    verdict: tuple[str, Clause] | None = None
    correcting = False
    for clause in span:
        correcting = correcting or _CORRECTION.search(clause) is not None
        for match in lang.scale.find(clause):
            if match.label != Answer.UNKNOWN and _VERDICT.search(clause.text[: match.begin]):
                verdict = (match.label, clause)
            if match.label == Answer.UNKNOWN:
                vague = vague or (Answer.UNKNOWN, clause)
            elif (
                clear is not None
                and not _SCALE_WORD.search(clear[1].text)
                and (_SCALE_WORD.search(match.text))
            ):
                clear = (match.label, clause)  # "态度蛮好…一般" — the scale's word decides
            elif (
                clear is None
                or correcting
                # "满意,非常满意": the customer turns it up in the same breath
                or (clear[0] == Answer.SATISFIED and match.label == Answer.VERY_SATISFIED)
            ):
                clear = (match.label, clause)
    if verdict is not None:
        return verdict
    if clear is None or not _SCALE_WORD.search(clear[1].text):
        # "10分,小刘人不错": a score is the answer, the praise explains it
        clear = _points_value(span) or clear
    if clear is None:
        clear = _evaluative_value(span, lang)
    return clear or vague


# "给个8分吧", "九分", "满分": a score out of ten
_POINTS = re.compile(r"(10|[1-9]|十|[一二两三四五六七八九]|满)分")
_POINT_VALUES = {"十": 10, "满": 10, "两": 2} | {
    c: i + 1 for i, c in enumerate("一二三四五六七八九")
}


def _points_value(span: list[Clause]) -> tuple[str, Clause] | None:
    """9–10 very satisfied, 7–8 satisfied, 5–6 neutral, lower dissatisfied."""
    for clause in span:
        found = _POINTS.search(clause.text)
        if found:
            raw = found.group(1)
            points = int(raw) if raw.isdigit() else _POINT_VALUES[raw]
            if points >= 9:
                return Answer.VERY_SATISFIED, clause
            if points >= 7:
                return Answer.SATISFIED, clause
            if points >= 5:
                return Answer.NEUTRAL, clause
            return Answer.DISSATISFIED, clause
    return None


def _evaluative_value(span: list[Clause], lang: Language) -> tuple[str, Clause] | None:
    """No scale word: how the customer judged it ("讲得挺清楚", "等了太久"), first clause that
    judges at all; praise and blame in the same answer say nothing clear."""
    for clause in span:
        matches = lang.evaluative.find(clause)
        labels = {m.label for m in matches}
        if len(labels) == 1:
            label = labels.pop()
            if label == Answer.SATISFIED and _STRONG.search(clause.text[: matches[0].begin]):
                return Answer.VERY_SATISFIED, clause  # "讲得特别清楚"
            return label, clause
        if labels:
            return None
    return None


_SCALE_WORD = re.compile(r"满意|一般")
# the agent asks for a judgement, not a yes or no ("您对他的服务感觉怎么样?")
_EVALUATE = re.compile(r"怎么样|咋样|如何|评价|打分|几分")
_NEGATED = re.compile(r"(没有|没|不|未|无|不用|不会)$")
_STRONG = re.compile(r"(非常|特别|十分|超级|相当|太|好|真|极其)(的)?$")


# a bare "嗯" is half an answer: a clearer word after it in the same turn decides
_WEAK = frozenset({"嗯", "嗯嗯", "哦", "啊", "是"})
# "报了", "讲过", "给了的" — the customer echoes the question's verb
_ECHO_YES = re.compile(r"^(.{1,2}?)[了过](的|啊|呀|嘛)?$|^(.{1,2}?)[了过]")
_ECHO_NO = re.compile(r"^(没有|没|冇|木有)(.{1,2})")


def _flip(value: str) -> str:
    return Answer.NO if value == Answer.YES else Answer.YES


# words said before the answer itself: "这个有", "嗯,有", "那个倒是有"
_FILLER = re.compile(r"^(这个|那个|嗯|哦|啊|呃|这|那)+(倒是|倒|也|是)?")
# sentence-final particles after a one-character answer ("有咯", "是嘞", "对呀")
_PARTICLES = "啊呀的了嘛哦咯啦嘞呗哈呢吧哇噢"


def _answering(clause: Clause, matches: list[Match[str]], first: bool) -> list[Match[str]]:
    """The yes/no words that answer rather than narrate: a word of two or more characters in
    the answer's first clause or at the start of a later one ("没有,……", "有的"), or a lone
    character that is the whole clause ("有。"); "没让我开回去试" tells a story."""
    return [
        m
        for m in matches
        if m.text not in _WEAK
        and (
            (len(m.text) >= 2 and (first or m.begin <= 1))
            or _FILLER.sub("", clause.text).rstrip(_PARTICLES) == m.text
        )
    ]


def _yes_no_value(span: list[Clause], question: Question, ask: Clause) -> tuple[str, Clause] | None:
    """Yes or no from the first clause that answers: the question's own words there ("又坏了",
    "修好了") first, else a yes/no word in answering position; else an echo of its verb."""
    inverted = question.inverted.search(ask) is not None
    weak: tuple[str, Clause] | None = None
    for n, clause in enumerate(span):
        own = question.own_answers.find(clause)
        if own:
            value = own[0].label
            if _NEGATED.search(clause.text[: own[0].begin]):
                value = _flip(value)  # "没有重复维修", "没再出现": negated problem words
            return value, clause
        found = question.answers.find(clause)
        strong = _answering(clause, found, first=n == 0)
        if strong:
            value = strong[0].label
            # a bare 有/没有 answers the question as asked ("有没有重复维修?" "没有" = right)
            return (_flip(value) if inverted else value), clause
        if weak is None and any(m.text in _WEAK for m in found):
            weak = (_flip(Answer.YES) if inverted else Answer.YES), clause
    if weak is not None:
        return weak
    for clause in span[:1]:
        no = _ECHO_NO.match(clause.text)
        if no and no.group(2)[0] in ask.text:
            return (_flip(Answer.NO) if inverted else Answer.NO), clause
        yes = _ECHO_YES.match(clause.text)
        stem = yes and (yes.group(1) or yes.group(3))
        if stem and stem[0] in ask.text and stem not in ("没", "没有"):
            return (_flip(Answer.YES) if inverted else Answer.YES), clause
    return None


def rate(
    question: Question, ask: Ask, span: list[Clause], lang: Language
) -> tuple[str, Clause | None] | None:
    """The answer to one asking of ``question``; None when the customer said nothing to it."""
    if not span:
        return None
    proposed = lang.scale.last(ask.clause) if ask.followup and question.type != "yes_no" else None
    if proposed is not None and proposed.label in SCALE:
        agreed = lang.yes_no.search(span[0])
        if agreed is not None and agreed.label == Answer.YES and not lang.scale.find(span[0]):
            return proposed.label, span[0]  # "那算非常满意?" "对对"
    scale = _scale_value(span, lang) if question.type != "yes_no" else None
    if (
        question.type == "yes_no_scale"
        and scale
        and not _SCALE_WORD.search(scale[1].text)
        and lang.scale_offer.search(ask.clause) is None
        and not _EVALUATE.search(ask.clause.text)
    ):
        # "有没有认真听您的需求?" "都有,这个没问题" — a yes, not a rating on the scale
        scale = None
    if question.type in ("scale", "yes_no_scale") and scale and scale[0] != Answer.UNKNOWN:
        return scale
    if question.type == "scale":
        yes_no = _yes_no_value(span, question, ask.clause)
        if yes_no and "满意" in ask.clause.text:  # "满意吗?" "嗯,是的"
            return (Answer.SATISFIED if yes_no[0] == Answer.YES else Answer.DISSATISFIED), yes_no[1]
        return scale or (Answer.UNKNOWN, span[0])
    yes_no = _yes_no_value(span, question, ask.clause)
    if yes_no:
        return yes_no
    return scale or (Answer.UNKNOWN, span[0])


def _groups(clauses: list[Clause], asks: list[Ask]) -> list[list[int]]:
    """Asks put in one breath (no customer word between them) are answered together."""
    groups: list[list[int]] = []
    for k, ask in enumerate(asks):
        if groups:
            last = asks[groups[-1][-1]]
            between = clauses[last.index + 1 : ask.index]
            if ask.index >= last.index and not any(c.speaker != "agent" for c in between):
                groups[-1].append(k)
                continue
        groups.append([k])
    return groups


def _answers_in_order(span: list[Clause], questions: list[Question], lang: Language) -> bool:
    """Each question of the group has its own answering clause, in order ("有的,挺满意")."""
    return len(span) >= len(questions) and all(
        (lang.scale.search(c) or q.answers.search(c)) for c, q in zip(span, questions, strict=False)
    )


def rate_all(
    clauses: list[Clause], asks: list[Ask], template: Template, lang: Language
) -> dict[str, Rating]:
    """One rating per rated question asked; a later clear answer (follow-up, re-ask) wins."""
    ratings: dict[str, Rating] = {}
    for group in _groups(clauses, asks):
        span = answer_span(clauses, asks, group[-1])
        questions = [template.questions[asks[k].question] for k in group]
        split = len(group) > 1 and _answers_in_order(span, questions, lang)
        for n, (k, question) in enumerate(zip(group, questions, strict=True)):
            if question.rated:
                # asked together and answered in order: each from its own clause onward
                own = span[n:] if split else span
                _keep(ratings, question, asks[k], rate(question, asks[k], own, lang), own)
    return ratings


def _keep(
    ratings: dict[str, Rating],
    question: Question,
    ask: Ask,
    result: tuple[str, Clause | None] | None,
    turn: list[Clause],
) -> None:
    previous = ratings.get(question.id)
    if result is None:
        if previous is None:
            ratings[question.id] = Rating(question.id, Answer.UNKNOWN, ask.clause, None)
        return
    value, clause = result
    if previous is not None and value == Answer.UNKNOWN:
        return  # a vague second answer does not undo a clear first one
    if (
        previous is not None
        and question.type == "yes_no_scale"
        and previous.value in SCALE
        and value not in SCALE
    ):
        return  # the scale part was answered; a later yes/no does not replace it
    first = previous.first_answer if previous is not None else None
    ratings[question.id] = Rating(
        question.id, value, ask.clause, clause, tuple(turn), first or clause
    )


def is_negative(question: Question, value: str) -> bool:
    """CONTRACTS.md: neutral, dissatisfied, or no to a quality question needs an apology."""
    if value in (Answer.NEUTRAL, Answer.DISSATISFIED):
        return True
    return value == Answer.NO and question.spec.negative_no
