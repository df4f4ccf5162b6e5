"""Complaints in the customer's own words, each with its BRIEF.md category."""

from __future__ import annotations

import re

from callcenter.ids import ComplaintCategory
from callcenter.scoring.template import Language
from callcenter.scoring.text import Clause
from callcenter.scoring.types import ComplaintFinding

# the answer to a question about X makes an ambiguous problem an X problem ("等了两个小时")
QUESTION_CATEGORY = {
    "q02_appointment": ComplaintCategory.APPOINTMENT,
    "q07_cost_match": ComplaintCategory.PRICE,
    "q08_fixed_right": ComplaintCategory.REPAIR_QUALITY,
    "q09_cleanliness": ComplaintCategory.CLEANLINESS,
    "q10_value": ComplaintCategory.PRICE,
    "q11_invoice_explanation": ComplaintCategory.INVOICE_EXPLANATION,
    "q12_wait_time": ComplaintCategory.WAIT_TIME,
    "q14_sa_friendliness": ComplaintCategory.ATTITUDE,
    "q15_repair_duration": ComplaintCategory.WAIT_TIME,
    "q16_waiting_area": ComplaintCategory.FACILITIES,
    "s02_paperwork_explanation": ComplaintCategory.INVOICE_EXPLANATION,
    "s04_on_time_delivery": ComplaintCategory.WAIT_TIME,
}


# "没乱收费", "冇乱推销", "从来不推销": the problem is denied
_DENIED = re.compile(
    r"(没有|没|冇|冇得|莫得|不|无|未|从没|从不|也没|都没|并没|又冇|又没)(乱|再|怎么|太|跟我|给我|有)?$"
)


def _categories(clause: Clause, lang: Language) -> list[str]:
    praise = lang.not_a_problem.find(clause)
    found = []
    for match in lang.complaints.find(clause):
        if _DENIED.search(clause.text[: match.begin]) and clause.text[match.begin] not in "不没":
            continue
        # "一点都不贵", "没等多久": the problem word stands inside longer praise; but in
        # "没弄干净" the praise word 干净 stands inside the longer complaint
        if any(
            (p.begin <= match.begin < p.end and p.end - p.begin >= match.end - match.begin)
            # "休息区没问题": the praise runs on past the problem word
            or p.begin < match.end < p.end
            for p in praise
        ):
            continue
        found.append(match.label)
    return found


# in the customers' lounge a broken air conditioner is the lounge's fault, not a repair's
_LOUNGE = ("休息区", "休息室", "等候区", "客休", "休息的地方")
_BROKEN = ("坏了", "坏的", "不能用", "用不了", "不好使", "太热", "太冷", "太吵", "太挤", "太小")


# the customer takes a wait or a delay in stride
_ACCEPTED = re.compile(
    r"正常的|很正常|能理解|可以理解|理解理解|能接受|可以接受|没关系|不要紧|无所谓"
)
_ACCEPTABLE = frozenset({ComplaintCategory.WAIT_TIME, ComplaintCategory.PARTS})


def find_complaints(clauses: list[Clause], lang: Language) -> list[ComplaintFinding]:
    """Each distinct complaint (one per category), first mention, with the customer's words."""
    complaints: dict[str, ComplaintFinding] = {}
    accepted = {c.segment for c in clauses if c.speaker != "agent" and _ACCEPTED.search(c.text)}
    for clause in clauses:
        if clause.speaker == "agent":
            continue
        categories = _categories(clause, lang)
        if clause.segment in accepted:
            # "等了一个半小时吧,保养嘛正常的", "晚了两天,不过我能理解": taken in stride
            categories = [c for c in categories if c not in _ACCEPTABLE]
        if ComplaintCategory.INVOICE_EXPLANATION in categories:
            # a fee nobody explained is about the explanation, not the price
            categories = [c for c in categories if c != ComplaintCategory.PRICE]
        if any(word in clause.text for word in _LOUNGE):
            categories = [c for c in categories if c != ComplaintCategory.REPAIR_QUALITY]
            if not categories and any(word in clause.text for word in _BROKEN):
                categories = [ComplaintCategory.FACILITIES]
        specific = [c for c in categories if c != ComplaintCategory.OTHER]
        for category in specific or categories:
            if category not in complaints:
                complaints[category] = ComplaintFinding(
                    category, clause.said or clause.text, clause.utterance_start
                )
    return list(complaints.values())


# a reason given with a negative answer: something concrete went wrong ("等了两个多钟头")
_REASON = re.compile(
    r"太|没|不|又|还是|老是|总是|慢|久|贵|脏|差|乱|坏|钟头|小时|半天|几次|两次|好几|趟|才"
)


def complaints_from_answers(
    answers: list[tuple[str, list[Clause]]], found: list[ComplaintFinding], lang: Language
) -> list[ComplaintFinding]:
    """Negative answers that go on to say what went wrong, filed under the question's topic
    when the words themselves name no category ("不太满意,前前后后跑了三趟")."""
    have = {c.category for c in found}
    extra: list[ComplaintFinding] = []
    for question, clauses in answers:
        category = QUESTION_CATEGORY.get(question)
        if category is None or category in have:
            continue
        for clause in clauses:
            if (
                _categories(clause, lang)
                or lang.outcome.find(clause)
                or lang.call_ended.find(clause)
            ):
                continue  # its own words name the problem, or it is "先不说了" and the like
            said = sum(m.end - m.begin for m in lang.yes_no.find(clause))
            if said >= len(clause.text) - 1:
                continue  # a bare "没有了" answers; it gives no reason
            bare = lang.scale.find(clause)
            rest = clause.text
            for match in bare:  # the rating words themselves are not the reason
                rest = rest.replace(match.text, "")
            if len(rest) >= 3 and _REASON.search(rest) and not lang.not_a_problem.find(clause):
                extra.append(
                    ComplaintFinding(
                        str(category), clause.said or clause.text, clause.utterance_start
                    )
                )
                have.add(category)
                break
    return extra
