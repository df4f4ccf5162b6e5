"""Reading a call: clauses with the right speaker, and which bank questions were asked where."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

from callcenter.scoring.template import Language, Template
from callcenter.scoring.text import Clause, Match, split_clauses, topic_clause
from callcenter.scoring.types import Transcript

# what only the agent says on these calls (used when the recogniser gave no speakers)
_AGENT_MARKERS = ("您", "请问", "我们", "咱们", "客服", "回访", "打扰", "感谢", "抱歉", "麻烦您")


def read_clauses(transcript: Transcript, template: Template, lang: Language) -> list[Clause]:
    """Every utterance split into clauses, with speakers repaired where the recogniser erred."""
    clauses: list[Clause] = []
    for index, seg in enumerate(transcript.segments):
        clauses += split_clauses(seg.text, seg.speaker, seg.start, seg.end, index)
    if clauses and all(c.speaker == "unknown" for c in clauses):
        clauses = _guess_speakers(clauses)
    return _split_glued_answers(clauses, lang)


_CUSTOMER_MARKERS = ("你", "俺", "咱家", "我家", "我那", "我车")


def _guess_speakers(clauses: list[Clause]) -> list[Clause]:
    """A mono recording: speakers take turns, the caller first; an utterance with the agent's
    words (您, 请问, 我们, 抱歉 …) is the agent's, one that answers first or says 你 is the
    customer's, and one with neither is the other speaker's turn."""
    by_segment: dict[int, list[Clause]] = {}
    for clause in clauses:
        by_segment.setdefault(clause.segment, []).append(clause)
    speakers: dict[int, str] = {}
    previous = "customer"  # so that the first utterance is the agent's
    for segment, parts in by_segment.items():
        text = "".join(c.text for c in parts)
        agent = sum(text.count(m) for m in _AGENT_MARKERS)
        customer = sum(text.count(m) for m in _CUSTOMER_MARKERS) - text.count("你们")
        if agent > customer:
            speaker = "agent"
        elif customer > agent:
            speaker = "customer"
        else:
            speaker = "customer" if previous == "agent" else "agent"
        speakers[segment] = previous = speaker
    return [_with_speaker(c, speakers[c.segment]) for c in clauses]


def _with_speaker(clause: Clause, speaker: str) -> Clause:
    return dataclasses.replace(clause, speaker=speaker)


def _is_bare_answer(clause: Clause, lang: Language) -> bool:
    """A clause that opens with an answer and has nothing of the agent's about it ("非常满意",
    "有的", "差不多一千一百多一点")."""
    if any(marker in clause.text for marker in _AGENT_MARKERS):
        return False
    for lexicon in (lang.scale, lang.yes_no):
        matches = lexicon.find(clause)
        if matches and (
            matches[0].begin == 0
            and len(matches[0].text) >= 2
            or sum(m.end - m.begin for m in matches) >= len(clause.text) - 2
        ):
            return True
    return False


def _split_glued_answers(clauses: list[Clause], lang: Language) -> list[Clause]:
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


# the agent proposing a value: "那算非常满意", "我给您记一般"
_PROPOSAL = re.compile(r"(算|记|记为|记成|就记|帮您记|给您记)(非常满意|满意|一般|不满意)")
# a reply that is a score out of ten
_POINTS_REPLY = re.compile(r"^(10|[1-9]|十|[一二三四五六七八九]|满)分")
_PARTICLES = re.compile(r"[吗呢么]")
# questions put together in one sentence
_TOGETHER = re.compile(r"分别|各自|还有|以及|两个方面|两方面|这两|都")
# the form of a yes/no survey question ("有没有…", "…了吗", "是不是…")
_YES_NO_FORM = re.compile(r"有没有|是不是|是否|有无|[了过]吗|对吧|是吧|没有\?|了没")


@dataclass(frozen=True, slots=True)
class Ask:
    """A bank question put to the customer at clause ``index`` (a follow-up re-asks it)."""

    question: str
    index: int
    clause: Clause
    followup: bool = False


def find_asks(clauses: list[Clause], template: Template, lang: Language) -> list[Ask]:
    """The bank questions the agent asked, in order, with clarifying follow-ups.

    A question sentence asks what its own clause names, or else what the agent named last
    in the same breath ("交车的时候,销售顾问的讲解您满意吗?"); a topic mentioned on the way
    ("您在休息区等的时候,对休息区满意吗?") is not a question of its own.
    """
    asks: list[Ask] = []
    breath = 0  # first clause of the agent's current breath (since the customer or a question)
    for i, clause in enumerate(clauses):
        if clause.speaker != "agent":
            if breath < i:  # the agent's breath just ended without a question mark
                listed = _listed(clauses, breath, i, template, lang)
                if listed is not None:
                    _add(asks, clauses, listed)
            breath = i + 1
            continue
        if not clause.question:
            proposal = _PROPOSAL.search(clause.text)
            if proposal and asks and _customer_spoke_since(clauses, asks[-1].index, i):
                # "那算非常满意" — the agent puts a value to the customer to confirm
                asks.append(Ask(asks[-1].question, i, clause, followup=True))
                breath = i + 1
            continue
        sorry = lang.apology.last(clause)
        # "很抱歉让您久等了…您觉得顾问怎么样" arrives as one clause: the question follows
        own = named_questions(clause.text[sorry.end :] if sorry else clause, template)
        if (
            len(own) > 1
            and not _TOGETHER.search(clause.text)
            and "和" not in clause.text
            # unpunctuated recognised speech runs several questions together: not one sentence
            and len(clause.text) <= 30
            and len(_PARTICLES.findall(clause.text)) <= 1
        ):
            # one question sentence asks one thing; "在车旁边…说说要做哪些项目" is the walkaround
            best = template.similar.rank(clause.text, own)
            own = [best] if best else own[-1:]
        invite = template.items.get("invite_feedback")
        if own:
            asked = [(i, qid) for qid in own]
        elif invite is not None and invite.search(clause) is not None:
            # "还有其它方面的问题吗?" is the open question, not a re-ask of the topic just noted
            asked = [(i, q) for q in template.questions if template.questions[q].type == "open"][:1]
        else:
            asked = _breath_cue(clauses, breath, i, template, lang)
        followup = (
            not asked
            and asks
            # the offer may sit earlier in the breath: "那我帮您记满意,可以吗?"
            and any(lang.scale_offer.search(c) is not None for c in clauses[breath : i + 1])
            and _customer_spoke_since(clauses, asks[-1].index, i)
        )
        if followup:
            # pinning down a vague answer: "那您是非常满意还是满意呢?"
            asks.append(Ask(asks[-1].question, i, clause, followup=True))
        elif not asked and not (asks and not _customer_spoke_since(clauses, asks[-1].index, i)):
            asked = _by_words(clauses, i, template, lang, since=asks[-1].index if asks else -1)
        # "…您满意吗?" right after a question goes on with that question
        for index, qid in asked:
            _add(asks, clauses, Ask(qid, index, clauses[index]))
        breath = i + 1
    _cut_off(clauses, asks, template, lang)
    return asks


def _cut_off(clauses: list[Clause], asks: list[Ask], template: Template, lang: Language) -> None:
    """A question the line cut off ("那交车时等待的时间您—" "喂?喂?") was still asked."""
    last_agent = max((i for i, c in enumerate(clauses) if c.speaker == "agent"), default=-1)
    breath = last_agent
    while breath > 0 and clauses[breath - 1].speaker == "agent":
        breath -= 1
    if last_agent < 0 or any(c.question for c in clauses[breath : last_agent + 1]):
        return
    tail = clauses[breath:]
    named = [
        (breath + k, q)
        for k, c in enumerate(tail)
        if c.speaker == "agent"
        for q in named_questions(c, template)
    ]
    after = [c for c in tail if c.speaker != "agent"]
    dropped = all(not c.text.strip("喂?") or bool(lang.call_ended.find(c)) for c in after)
    if (
        named
        and dropped
        and not any(a.question == named[-1][1] and a.index >= breath for a in asks)
    ):
        index, qid = named[-1]
        asks.append(Ask(qid, index, clauses[index]))


def _listed(
    clauses: list[Clause], breath: int, i: int, template: Template, lang: Language
) -> Ask | None:
    """ "最后是服务顾问的友好程度和专业度。" "10分。" — a topic read out like a list item and
    answered with a rating is a question, question mark or not."""
    if any(c.question or lang.apology.search(c) for c in clauses[breath:i]):
        return None
    reply = clauses[i]
    if not (lang.scale.search(reply) or _POINTS_REPLY.search(reply.text)):
        return None
    for k in range(i - 1, breath - 1, -1):
        found = [q for q in named_questions(clauses[k], template) if template.questions[q].rated]
        if found:
            return Ask(found[-1], k, clauses[k])
    return None


def _breath_cue(
    clauses: list[Clause], breath: int, i: int, template: Template, lang: Language
) -> list[tuple[int, str]]:
    """The question named last before clause ``i`` in the same breath, apologies aside; all
    of them when the agent puts them together ("干净程度和等待的时间,您分别满意吗?")."""
    named: list[tuple[int, str]] = []
    for k in range(i - 1, breath - 1, -1):
        if lang.apology.search(clauses[k]) is not None:
            break
        found = named_questions(clauses[k], template)
        named = [(k, qid) for qid in found] + named
        if len(found) > 1:
            return named  # one clause naming two topics ("干净程度和等待的时间")
        if found and not _TOGETHER.search("".join(c.text for c in clauses[k : i + 1])):
            return [named[-1]]
    if len(named) > 1:
        return named
    # the topic may run across the clause break: "交车时销售顾问的|讲解您满意吗"
    if i > breath:
        joined = "".join(c.text for c in clauses[max(breath, i - 2) : i + 1])
        found = named_questions(joined, template)
        if found:
            return [(i, found[-1])]
    return []


def _by_words(
    clauses: list[Clause], i: int, template: Template, lang: Language, since: int
) -> list[tuple[int, str]]:
    """A survey-like question in unfamiliar words: the bank question sharing most words."""
    clause = clauses[i]
    if lang.scale_offer.search(clause) is None and not _YES_NO_FORM.search(clause.text):
        return []
    start = i
    while start > since + 1 and clauses[start - 1].speaker == "agent" and i - start < 3:
        start -= 1
    qid = template.similar.best("".join(c.text for c in clauses[start : i + 1]))
    if qid is None:
        return []
    return [(i, qid)]


def named_questions(clause: Clause | str, template: Template) -> list[str]:
    """The questions a clause names, in order; rated ones only when there are any.

    Where cues overlap: a plain phrase lying in a pattern's gap beats the pattern ("车的…解释"
    spanning "合同文件" is the paperwork question), a pattern whose own parts hold the phrase
    beats the phrase ("结账…跟说的…差不多" is the cost-match question, not the invoice one).
    """
    plain: list[Match[str]] = []
    patterns: list[Match[str]] = []
    if isinstance(clause, str):
        clause = topic_clause(clause)
    for match, is_plain in template.cues.find_all_in(
        clause.text, clause.topic_sound or clause.sound
    ):
        (plain if is_plain else patterns).append(match)
    kept: list[Match[str]] = []
    for match in sorted(plain, key=lambda m: (-(m.end - m.begin), m.begin)):
        if all(match.end <= k.begin or match.begin >= k.end for k in kept):
            kept.append(match)
    for match in sorted(patterns, key=lambda m: (-(m.end - m.begin), m.begin)):
        overlapped = [k for k in kept if not (match.end <= k.begin or match.begin >= k.end)]
        if any(k.parts or not _inside_parts(k, match) for k in overlapped):
            continue
        kept = [k for k in kept if k not in overlapped] + [match]
    kept.sort(key=lambda m: m.begin)
    labels = [m.label for m in kept]
    rated = [q for q in labels if template.questions[q].rated]
    # "倾听您的要求" is the listening question, not the open one about 意见和要求
    return list(dict.fromkeys(rated or labels))


def _inside_parts(inner: Match[str], pattern: Match[str]) -> bool:
    return any(b <= inner.begin and inner.end <= e for b, e in pattern.parts)


def _add(asks: list[Ask], clauses: list[Clause], ask: Ask) -> None:
    for k in range(len(asks) - 1, -1, -1):
        if _customer_spoke_since(clauses, asks[k].index, ask.index):
            break
        if asks[k].question == ask.question:
            # the same question put two ways in one breath: the customer answers the last
            # wording ("完成得对吗?有没有重复维修?" "没有")
            asks[k] = ask
            return
    asks.append(ask)


def _customer_spoke_since(clauses: list[Clause], start: int, end: int) -> bool:
    return any(c.speaker == "customer" for c in clauses[start + 1 : end])
