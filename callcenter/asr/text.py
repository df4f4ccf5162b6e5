"""Cleaning what the model wrote: simplified characters, no stray spaces, no loops, no echo."""

from __future__ import annotations

import re
import unicodedata
from difflib import SequenceMatcher
from functools import cache

_CJK = r"\u3400-\u9fff"
_SPACE_BETWEEN_CJK = re.compile(rf"(?<=[{_CJK}，。？！、,.?!])\s+(?=[{_CJK}])|(?<=[{_CJK}])\s+")
# the same 1–8 characters said four or more times in a row: a decoding loop, not speech
_LOOP = re.compile(r"(.{1,8}?)\1{3,}")
_HALF_WIDTH = str.maketrans({",": "，", "?": "？", "!": "！", ";": "；", ":": "："})
_PUNCT = re.compile(r"[\s，。？！、；：,.?!;:…\"'“”‘’()（）《》\-—]")


@cache
def _t2s() -> object:
    import opencc

    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    return str(_t2s().convert(text))  # type: ignore[attr-defined]


def clean_text(text: str) -> str:
    """Simplified Chinese, full-width punctuation between Chinese words, loops cut to one."""
    text = unicodedata.normalize("NFKC", text).replace("\ufffd", "").strip()  # broken bytes
    text = to_simplified(text)
    text = _SPACE_BETWEEN_CJK.sub("", text)
    text = _LOOP.sub(r"\1", text)
    if re.search(rf"[{_CJK}]", text):
        text = text.translate(_HALF_WIDTH)
    return text.strip()


def prompt_text(prompt: str) -> str:
    """A prompt as the model should see it: half-width punctuation. Full-width marks are
    several byte tokens each, and with them in the prompt the model wrote "１" for "，"."""
    return unicodedata.normalize("NFKC", prompt).translate(_PROMPT_MARKS).strip()


_PROMPT_MARKS = str.maketrans({"。": ".", "、": ",", "“": '"', "”": '"'})


def bare(text: str) -> str:
    """Only the words: no punctuation or spaces (for comparing texts and computing CER)."""
    return _PUNCT.sub("", unicodedata.normalize("NFKC", text))


def echoes_prompt(text: str, prompt: str) -> bool:
    """Most of ``text`` is a stretch of the prompt (the model repeats its prompt on noise)."""
    words, said = bare(text), bare(prompt)
    if not said or len(words) < 8:
        return False  # short answers ("非常满意") are often in the prompt and really said
    match = SequenceMatcher(None, words, said, autojunk=False).find_longest_match()
    return match.size >= 0.8 * len(words)
