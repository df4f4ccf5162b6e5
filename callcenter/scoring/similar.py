"""Which bank question an unfamiliar wording asks, by the words it shares with each question.

Agents paraphrase. When a question sentence names none of a template's cues, its words
(jieba) are compared with each question's own words — its text and its cues — weighting
each word by how few questions use it, so "讲解" and "使用方法" point to the delivery
explanation and "满意" points nowhere.
"""

from __future__ import annotations

import logging
import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence

# words every survey question shares: they tell the questions apart no better than chance
_STOP = frozenset(
    "的 了 吗 呢 吧 啊 呀 嘛 么 是 不 没 有 没有 有没有 是不是 您 你 我 我们 咱们 他 她 对 和 与 "
    "跟 在 给 这 那 这个 那个 这次 那天 时 时候 的时候 一下 一些 什么 怎么 怎么样 如何 多少 还是 "
    "或者 满意 非常 一般 不满意 觉得 请问 感觉 程度 方面 情况 还 也 都 就 请 下 过 得 地 着".split()
)
_WORD = re.compile(r"[\u4e00-\u9fff]{2,}|[a-z0-9]+")
MIN_SCORE = 1.2  # one distinctive word, or two common ones


def words(text: str) -> list[str]:
    """The content words of ``text``."""
    import jieba

    jieba.setLogLevel(logging.WARNING)
    return [w for w in jieba.lcut(text, HMM=False) if w not in _STOP and _WORD.fullmatch(w)]


def _question_words(text: str, cues: Sequence[str]) -> set[str]:
    found = set(words(text))
    for cue in cues:
        for part in re.split(r"[*|]", cue):
            found.update(words(part) or ([part] if len(part) >= 2 else []))
    return found - _STOP


class QuestionMatcher:
    """Scores a sentence against each question's words (IDF-weighted overlap)."""

    def __init__(self, questions: Mapping[str, tuple[str, Sequence[str]]]) -> None:
        self._bags = {qid: _question_words(text, cues) for qid, (text, cues) in questions.items()}
        counts = Counter(word for bag in self._bags.values() for word in bag)
        n = len(self._bags) or 1
        self._idf = {word: math.log(1 + n / count) for word, count in counts.items()}

    def rank(self, sentence: str, candidates: list[str]) -> str | None:
        """Of ``candidates``, the question ``sentence`` shares most words with (None if tied)."""
        said = set(words(sentence))
        scored = sorted(
            ((sum(self._idf[w] for w in said & self._bags.get(q, set())), q) for q in candidates),
            reverse=True,
        )
        if len(scored) > 1 and scored[0][0] == scored[1][0]:
            return None
        return scored[0][1] if scored else None

    def best(self, sentence: str) -> str | None:
        """The question ``sentence`` most likely asks, or None when nothing stands out."""
        said = set(words(sentence))
        if not said:
            return None
        scored = sorted(
            ((sum(self._idf[w] for w in said & bag), qid) for qid, bag in self._bags.items()),
            reverse=True,
        )
        (top, qid), runner_up = scored[0], (scored[1][0] if len(scored) > 1 else 0.0)
        if top >= MIN_SCORE and top > runner_up * 1.25:
            return qid
        return None
