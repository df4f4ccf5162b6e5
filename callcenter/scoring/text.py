"""Chinese text as the scorer reads it: clauses, a sound-alike form, and phrase lexicons.

Recognised speech carries homophones (满意→满易, 保养→报养, 接车→街车). Every clause therefore
has a *sound form*: each Chinese character replaced by one symbol for its toneless, "fuzzy"
syllable (zh/z, ch/c, sh/s and l/n merged, as many southern speakers and recognisers do).
The sound form has exactly one symbol per character of the text, so a phrase is found when its
sound form occurs in the clause's sound form, and positions map straight back to the text.
"""

from __future__ import annotations

import logging
import re
import unicodedata
import weakref
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any, Generic, TypeVar

from pypinyin import Style, lazy_pinyin

T = TypeVar("T")

# clause boundaries: punctuation and spaces (recognisers often give spaces instead); not 、,
# which lists the options of one question (非常满意、满意、一般)
_BOUNDARY = re.compile(r"[\s,.?!;:~，。？！；：…“”\"'‘’()（）【】\[\]<>《》—]+")
# a question particle ends a clause even without punctuation ("满意吗非常满意")
_PARTICLE_SPLIT = re.compile(r"(?<=[吗呢嘛])(?=[^吗呢嘛啊呀吧的了么])")
_QUESTION_END = re.compile(r"[?？]\s*$")
# recognised speech often has no punctuation at all: a long run is also split before the words
# that start a new thought ("满意就是等得有点久" → "满意" | "就是等得有点久")
_LONG_RUN = 12
_DISCOURSE_SPLIT = re.compile(
    r"(?<=.{2})(?=就是|但是|不过|然后|而且|还有就是|结果|所以|因为|后来|另外|对了|说是|我觉得|总的来说)"
)
_QUESTION_WORDS = re.compile(
    r"[吗呢嘛么]$|吧$|[了过]没有?$|没有$|咋样|咋的|啥样|咋说|有没有|是不是|对不对|好不好|行不行|可不可以|能不能|方不方便|满不满意|"
    r"怎么样|如何|多少|什么|哪|几|还是|是否|有无|[吗呢]|(.)[不没]\1|(..)[不没]\2"
)


@cache
def _syllable(char: str) -> str:
    if not ("\u4e00" <= char <= "\u9fff" or "\u3400" <= char <= "\u4dbf"):
        return char
    syllable = lazy_pinyin(char, style=Style.NORMAL)[0]
    for hard, soft in (("zh", "z"), ("ch", "c"), ("sh", "s")):
        if syllable.startswith(hard):
            syllable = soft + syllable[2:]
            break
    if syllable.startswith("n") and not syllable.startswith("ng"):
        syllable = "l" + syllable[1:]
    return syllable


_SYMBOLS: dict[str, str] = {}


@cache
def _sound_char(char: str) -> str:
    syllable = _syllable(char)
    if syllable == char:  # not Chinese: itself (digits, latin letters)
        return char
    symbol = _SYMBOLS.get(syllable)
    if symbol is None:  # one private-use code point per syllable
        symbol = _SYMBOLS[syllable] = chr(0xE000 + len(_SYMBOLS))
    return symbol


def normalise(text: str) -> str:
    """Full-width to half-width, lower case, no spaces inside."""
    return unicodedata.normalize("NFKC", text).lower()


# "干不干净", "有没有", "满不满意": a question form; its 不/没 negates nothing
_A_NOT_A = re.compile(r"(.)([不没冇是])\1")  # also "修是修……" (granted, but —)
NEUTRAL_SYMBOL = "\u2205"


def sound(text: str, *, mask_questions: bool = True) -> str:
    """The sound form of ``text`` (same length, one symbol per character); A-not-A question
    forms are masked unless ``mask_questions`` is off (the topic of a question is wanted)."""
    form = "".join(map(_sound_char, text))
    return _masked(text, form) if mask_questions else form


def _masked(text: str, form: str) -> str:
    """``form`` with the 不/没 and the repeat of A-not-A forms neutralised."""
    if any(word in text for word in "不没冇是"):
        for m in _A_NOT_A.finditer(text):
            at = m.start(2)  # the 不 and the repeat: "干不干净" holds no "干净", no "不干净"
            form = form[:at] + NEUTRAL_SYMBOL * 2 + form[at + 2 :]
    return form


@dataclass(frozen=True, slots=True)
class Clause:
    """A piece of one utterance between punctuation, with who said it and when."""

    text: str
    sound: str
    speaker: str
    start: float
    end: float
    segment: int  # index of the segment it came from
    question: bool  # ends in a question mark or carries a question particle/pattern
    said: str = ""  # the words as written in the transcript (case and 、 kept)
    topic_sound: str = ""  # the sound form with A-not-A forms kept ("干不干净" names cleanliness)
    utterance_start: float = 0.0  # start of the whole segment (where a player seeks to)


def topic_clause(text: str) -> Clause:
    """Words run together from several clauses, for finding which question they name."""
    text = normalise(text)
    form = sound(text, mask_questions=False)
    return Clause(
        text=text,
        sound=form,
        speaker="agent",
        start=0.0,
        end=0.0,
        segment=-1,
        question=False,
        said=text,
        topic_sound=form,
    )


_PIECE = re.compile(_BOUNDARY.pattern.replace("[", "[^", 1).rstrip("+") + "+")


def split_clauses(text: str, speaker: str, start: float, end: float, segment: int) -> list[Clause]:
    """Split an utterance into clauses; times are spread over the utterance by length."""
    original = unicodedata.normalize("NFKC", text)
    lowered = original.lower().replace("、", "/")  # "/" is no boundary: 非常满意/满意/一般
    if len(lowered) != len(original):  # a rare letter whose lower case is longer
        original = lowered
    pieces: list[tuple[int, int, bool]] = []
    for run in _PIECE.finditer(lowered):
        marked = "?" in lowered[run.end() : run.end() + 3]
        at = run.start()
        subs = _PARTICLE_SPLIT.split(run.group())
        if len(run.group()) > _LONG_RUN:
            subs = [piece for sub in subs for piece in _DISCOURSE_SPLIT.split(sub)]
        for sub in subs:
            if sub:
                pieces.append((at, at + len(sub), marked and at + len(sub) == run.end()))
            at += len(sub)
    total = sum(b - a for a, b, _ in pieces) or 1
    clauses, done = [], 0
    span = max(end - start, 0.0)
    for begin, stop, marked in pieces:
        piece = lowered[begin:stop]
        plain = "".join(map(_sound_char, piece))
        at_s = start + span * done / total
        done += stop - begin
        clauses.append(
            Clause(
                text=piece,
                sound=_masked(piece, plain),
                speaker=speaker,
                start=round(at_s, 2),
                end=round(start + span * done / total, 2),
                segment=segment,
                question=marked or bool(_QUESTION_WORDS.search(piece)),
                said=original[begin:stop],
                topic_sound=plain,
                utterance_start=start,
            )
        )
    return clauses


_MEMO_SIZE = 20_000  # clauses remembered per lexicon before the memo starts afresh
_LEXICONS: weakref.WeakSet[Lexicon[Any]] = weakref.WeakSet()


def forget_matches() -> None:
    """Empty every lexicon's memo of clauses it has seen (benchmarks start each run cold)."""
    for lexicon in list(_LEXICONS):
        lexicon._memo.clear()


# a word this common is what the speaker said, not a mishearing of a phrase that sounds alike
_COMMON_WORD = 100


@lru_cache(maxsize=4096)
def _word_bounds(text: str) -> frozenset[int]:
    import jieba  # loaded on the first sound-alike match only (its dictionary takes a moment)

    jieba.setLogLevel(logging.WARNING)
    bounds, at = {0}, 0
    for word in jieba.lcut(text, HMM=False):
        at += len(word)
        bounds.add(at)
    return frozenset(bounds)


def misheard(text: str, begin: int, end: int) -> bool:
    """Could ``text[begin:end]`` be a recogniser's homophone of a phrase that sounds the same?

    Not when it is a single character ("油" for "有"), a common word in its own right ("之前" is
    not "致歉"), or cuts through a word ("不太满意" holds no "太慢").
    """
    if end - begin < 2:
        return False
    import jieba

    if jieba.dt.FREQ.get(text[begin:end], 0) >= _COMMON_WORD:
        return False
    bounds = _word_bounds(text)
    return begin in bounds and end in bounds


@dataclass(frozen=True, slots=True)
class Match(Generic[T]):
    label: T
    begin: int
    end: int
    text: str
    # a pattern's matched parts, without its gaps ("结账…跟…说的": 结账, 跟, 说的)
    parts: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True)
class _Pattern(Generic[T]):
    """A phrase with gaps or alternatives, and the symbols its first and last parts start
    with: a clause holding none of either cannot match, and is skipped cheaply (Lexicon)."""

    regex: re.Pattern[str]
    label: T
    first: frozenset[str]
    last: frozenset[str]
    # per part, its options as written: a part heard as a sound-alike must be a plausible
    # mishearing, and a one-character part must match exactly ("又" ≠ "油", "话了" ≠ "划了")
    written: tuple[frozenset[str], ...] = ()

    def spelled_right(
        self, text: str, parts: tuple[tuple[int, int], ...], min_misheard: int = 2
    ) -> bool:
        for (begin, end), options in zip(parts, self.written, strict=False):
            if text[begin:end] in options:
                continue
            if end - begin < max(2, min_misheard) or not misheard(text, begin, end):
                return False
        return True


def _pattern(phrase: str, label: T) -> _Pattern[T]:
    """A phrase's regex over sound forms: ``*`` is up to 12 characters, ``a|b`` either."""
    parts, written = [], []
    for part in phrase.split("*"):
        options = [normalise(o) for o in part.split("|") if o]
        parts.append(sorted((sound(o) for o in options), key=len, reverse=True))
        written.append(frozenset(options))
    regex = ".{0,12}?".join("(" + "|".join(map(re.escape, o)) + ")" for o in parts)
    return _Pattern(
        re.compile(regex),
        label,
        frozenset(o[0] for o in parts[0] if o),
        frozenset(o[0] for o in parts[-1] if o),
        tuple(written),
    )


class Lexicon(Generic[T]):
    """Phrases with labels, found by sound in clauses, leftmost-longest and non-overlapping."""

    def __init__(
        self,
        entries: Mapping[str, T] | Iterable[tuple[str, T]],
        *,
        min_misheard: int = 2,
        whole_words: bool = False,
    ) -> None:
        """``min_misheard``: shortest phrase that may match a homophone rather than its letters;
        ``whole_words``: a match must begin and end where words do."""
        self._min_misheard = min_misheard
        self._whole_words = whole_words
        self._memo: dict[tuple[str, str], list[tuple[Match[T], bool]]] = {}
        _LEXICONS.add(self)
        items = list(entries.items()) if isinstance(entries, Mapping) else list(entries)
        self._labels: dict[str, T] = {}
        self._spelled: dict[str, set[str]] = {}  # sound form → the phrases as written
        self._patterns: list[_Pattern[T]] = []
        literals: list[str] = []
        for phrase, label in items:
            if not phrase:
                continue
            if "*" in phrase or "|" in phrase:
                self._patterns.append(_pattern(phrase, label))
                continue
            key = sound(normalise(phrase))
            self._spelled.setdefault(key, set()).add(normalise(phrase))
            if key not in self._labels:  # the first label given for a sound wins
                self._labels[key] = label
                literals.append(key)
        # the patterns that can start with each symbol: a clause looks up only its own symbols
        self._by_first: dict[str, list[int]] = {}
        for n, pattern in enumerate(self._patterns):
            for symbol in pattern.first:
                self._by_first.setdefault(symbol, []).append(n)
        self._first_symbols = frozenset(self._by_first)
        literals.sort(key=len, reverse=True)  # alternation tries longer phrases first
        self._regex = re.compile("|".join(map(re.escape, literals))) if literals else None

    @classmethod
    def of(cls, phrases: Iterable[str]) -> Lexicon[bool]:
        """A lexicon that only says whether one of ``phrases`` is there."""
        return Lexicon(dict.fromkeys(phrases, True))

    def __bool__(self) -> bool:
        return bool(self._labels or self._patterns)

    def find(self, clause: Clause | str) -> list[Match[T]]:
        """Every match in ``clause``, in order, longest first where they overlap."""
        found = [match for match, _plain in self.find_all(clause)]
        if self._patterns and len(found) > 1:
            found = _leftmost_longest(found)
        if self._whole_words and found:
            text = clause.text if isinstance(clause, Clause) else normalise(clause)
            bounds = _word_bounds(text)
            found = [m for m in found if m.begin in bounds and m.end in bounds]
        return found

    def find_all(self, clause: Clause | str) -> list[tuple[Match[T], bool]]:
        """Every match, overlapping ones too, each with whether it is a plain phrase (True) or
        a pattern with gaps/alternatives (False) — for callers that weigh them themselves."""
        text = clause.text if isinstance(clause, Clause) else normalise(clause)
        form = clause.sound if isinstance(clause, Clause) else sound(text)
        return self.find_all_in(text, form)

    def find_all_in(self, text: str, form: str) -> list[tuple[Match[T], bool]]:
        """``find_all`` on a text whose sound form the caller already has."""
        # a clause is looked up by the same lexicon several times while a call is scored
        key = (text, form)
        cached = self._memo.get(key)
        if cached is None:
            if len(self._memo) > _MEMO_SIZE:
                self._memo.clear()
            cached = self._memo[key] = self._find_all(text, form)
        return cached

    def _find_all(self, text: str, form: str) -> list[tuple[Match[T], bool]]:
        found: list[tuple[Match[T], bool]] = []
        if self._regex is not None:
            for m in self._regex.finditer(form):
                key, said = m.group(), text[m.start() : m.end()]
                if said not in self._spelled[key] and (
                    len(key) < self._min_misheard or not misheard(text, m.start(), m.end())
                ):
                    continue
                found.append((Match(self._labels[key], m.start(), m.end(), said), True))
        if not self._patterns:
            return found
        present = self._first_symbols.intersection(form)
        if not present:
            return found
        symbols = set(form)
        candidates = sorted({n for symbol in present for n in self._by_first[symbol]})
        where: dict[str, list[int]] | None = None  # symbol → positions, built when needed
        for pattern in (self._patterns[n] for n in candidates):
            if pattern.last.isdisjoint(symbols):
                continue
            if where is None:
                where = {}
                for i, symbol in enumerate(form):
                    where.setdefault(symbol, []).append(i)
            # from every place the pattern can start, not only the leftmost: "最后结账跟这个
            # 差不多" also matches from 结账, which holds the cue 结账 in the pattern's own parts
            starts = sorted(i for symbol in pattern.first & where.keys() for i in where[symbol])
            for at in starts:
                hit = pattern.regex.match(form, at)
                if hit is None:
                    continue
                parts = tuple(hit.span(g) for g in range(1, (hit.lastindex or 0) + 1))
                if pattern.spelled_right(text, parts, self._min_misheard):
                    found.append(
                        (
                            Match(
                                pattern.label,
                                hit.start(),
                                hit.end(),
                                text[hit.start() : hit.end()],
                                parts,
                            ),
                            False,
                        )
                    )
        return found

    def search(self, clause: Clause | str) -> Match[T] | None:
        found = self.find(clause)
        return found[0] if found else None

    def last(self, clause: Clause | str) -> Match[T] | None:
        found = self.find(clause)
        return found[-1] if found else None


def _leftmost_longest(found: list[Match[T]]) -> list[Match[T]]:
    found.sort(key=lambda m: (m.begin, -(m.end - m.begin)))
    kept: list[Match[T]] = []
    for match in found:
        if not kept or match.begin >= kept[-1].end:
            kept.append(match)
    return kept
