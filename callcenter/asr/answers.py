"""Closed-set answers: which of a question's expected answers a short reply is, scored by the
model against the audio itself rather than trusted to free transcription ("非常满意" alone often
comes back as "非常白衣")."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from callcenter.asr.audio import SAMPLE_RATE, load_recording
from callcenter.asr.model import ModelSpec, load_model
from callcenter.asr.text import bare, clean_text

# the expected answers of the survey's two answer types (BRIEF.md values), several wordings each
SCALE_ANSWERS: dict[str, tuple[str, ...]] = {
    "very_satisfied": ("非常满意", "很满意", "特别满意", "非常非常满意", "十分满意", "非常好"),
    "satisfied": ("满意", "满意的", "挺满意的", "比较满意", "还挺满意", "挺好的", "还不错"),
    "neutral": ("一般", "一般般", "还行", "还行吧", "马马虎虎", "还可以吧", "凑合"),
    "dissatisfied": ("不满意", "不太满意", "很不满意", "非常不满意", "不怎么样", "太差了"),
}
YES_NO_ANSWERS: dict[str, tuple[str, ...]] = {
    "yes": ("是的", "是", "对", "对的", "有", "有的", "有啊", "嗯", "是啊", "当然", "做了"),
    "no": ("没有", "不是", "没", "没有啊", "不对", "没做", "好像没有", "这个倒没有", "不是的"),
}
ANSWER_SETS = {"scale": SCALE_ANSWERS, "yes_no": YES_NO_ANSWERS}
# what people say instead of answering; scored beside the options, so a reply that sounds more
# like one of these than like any option is "none" (a re-prompt) rather than a forced guess
NOT_AN_ANSWER = (
    "喂",
    "喂你好",
    "你好",
    "什么",
    "你说什么",
    "再说一遍",
    "听不清",
    "等一下",
    "稍等",
    "不知道",
    "我不知道",
    "不清楚",
    "说不好",
    "我想想",
    "哪个",
)

MAX_ANSWER_S = 15.0  # a longer reply is a sentence to transcribe, not a choice


@dataclass(frozen=True, slots=True)
class AnswerGuess:
    """The best option (None: none fits well enough) and how sure.

    ``confidence``: the option's share of the likelihood among the options; ``fit``: how much
    less likely its best wording is than what the model would write freely (log-probability;
    near 0 when the reply is one of the wordings, very negative for another reply)."""

    label: str | None
    confidence: float
    fit: float
    heard: str  # the model's own free transcription of the reply, for the record
    scores: Mapping[str, float]  # option → log-likelihood of its best wording


def recognise_answer(
    audio: np.ndarray,
    options: Mapping[str, Sequence[str]],
    *,
    model: ModelSpec | None = None,
    min_confidence: float = 0.6,
    min_fit: float = -8.0,
    margin: float = 2.0,
) -> AnswerGuess:
    """Score every wording of every option against ``audio`` (16 kHz mono float32)."""
    from faster_whisper.audio import pad_or_trim
    from faster_whisper.tokenizer import Tokenizer

    audio = np.asarray(audio, dtype=np.float32)[: int(MAX_ANSWER_S * SAMPLE_RATE)]
    if not len(audio) or float(np.max(np.abs(audio))) < 1e-4:
        return AnswerGuess(None, 0.0, -math.inf, "", {})
    whisper = load_model(model)
    tokenizer = Tokenizer(whisper.hf_tokenizer, True, task="transcribe", language="zh")
    features = whisper.feature_extractor(audio)[..., :-1]
    num_frames = int(features.shape[-1])
    encoded = whisper.encode(pad_or_trim(features))
    start = [*tokenizer.sot_sequence, tokenizer.no_timestamps]

    def likelihood(tokens: list[int]) -> float:
        """log P(tokens, end | audio): the whole reply, not a prefix of something longer."""
        if not tokens:
            return -math.inf
        result = whisper.model.align(encoded, start, [[*tokens, tokenizer.eot]], num_frames)
        return sum(math.log(max(p, 1e-12)) for p in result[0].text_token_probs)

    free = whisper.model.generate(encoded, [start], beam_size=1, max_length=48)[0]
    free_tokens = [t for t in free.sequences_ids[0] if t < tokenizer.eot]
    heard = clean_text(tokenizer.decode(free_tokens))
    said = bare(heard)
    for label, texts in options.items():  # the model's own reading is one of the wordings
        if said and any(bare(text) == said for text in texts):
            return AnswerGuess(label, 1.0, 0.0, heard, {label: likelihood(free_tokens)})
    scores: dict[str, float] = {}
    for label, texts in options.items():
        scores[label] = max(likelihood(tokenizer.encode(text)) for text in texts)
    best = max(scores, key=scores.__getitem__)
    top = scores[best]
    confidence = 1.0 / sum(math.exp(v - top) for v in scores.values())
    fit = top - max(likelihood(free_tokens), top)
    wordings = {bare(t) for texts in options.values() for t in texts}
    elsewhere = max(
        (likelihood(tokenizer.encode(t)) for t in NOT_AN_ANSWER if bare(t) not in wordings),
        default=-math.inf,
    )
    sure = confidence >= min_confidence and fit >= min_fit and top > elsewhere - margin
    return AnswerGuess(
        best if sure else None,
        round(confidence, 3),
        round(fit, 2),
        heard,
        {**scores, "none": elsewhere},
    )


def recognise_answer_file(
    path: str | Path, answer_type: str, *, model: ModelSpec | None = None
) -> AnswerGuess:
    """A recorded short answer (mono, or the customer's right channel) against an answer type's
    expected answers (``scale`` or ``yes_no``)."""
    recording = load_recording(path, max_duration_s=MAX_ANSWER_S * 4)
    return recognise_answer(recording.channels[-1], ANSWER_SETS[answer_type], model=model)
