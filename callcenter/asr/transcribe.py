"""A call recording in, the CONTRACTS.md transcript out: each channel on its own, one segment per
utterance, simplified Chinese."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from callcenter.asr.audio import SAMPLE_RATE, load_recording
from callcenter.asr.model import ModelSpec, load_model
from callcenter.asr.text import bare, clean_text, echoes_prompt, prompt_text
from callcenter.transcript import Segment, Transcript

log = logging.getLogger(__name__)

_WINDOW_S = 30  # what the model hears at once
STEREO_SPEAKERS = ("agent", "customer")  # CONTRACTS.md: left is the agent, right the customer


@dataclass(frozen=True, slots=True)
class TranscribeOptions:
    """How to listen. The defaults suit 8 kHz telephone calls on a CPU."""

    model: ModelSpec = field(default_factory=ModelSpec)
    language: str = "zh"
    prompt: str = ""  # a natural sentence in the calls' vocabulary
    hotwords: str = ""
    beam_size: int = 5
    batch_size: int = 8
    max_duration_s: float = 3600.0
    # a pause this long ends an utterance (a turn): one segment each
    turn_pause_s: float = 0.5
    vad_threshold: float = 0.35  # telephone speech starts softly: a higher one clips onsets
    speech_pad_s: float = 0.3  # context the model hears around each utterance
    # what is heard too faintly to trust is dropped (Whisper's own thresholds)
    no_speech_max: float = 0.6
    logprob_min: float = -1.0
    logprob_floor: float = -1.6  # below this even a "speech" segment is noise
    compression_max: float = 2.4
    max_chars_per_s: float = 12.0  # faster than anyone speaks Mandarin


@dataclass(frozen=True, slots=True)
class Utterance:
    start: float  # seconds: what the model hears, with a little context either side
    end: float
    said_from: float  # where the speech itself begins and ends: the segment's times
    said_to: float


def speech_spans(audio: np.ndarray, options: TranscribeOptions) -> list[Utterance]:
    """Where someone speaks in one channel, split at pauses long enough to be a turn."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    if not len(audio) or float(np.max(np.abs(audio))) < 1e-4:
        return []  # digital silence: nothing to hear
    # the same options the recogniser's own VAD pass uses (it cuts at 30 s, its window)
    spans = get_speech_timestamps(
        audio, VadOptions(**_vad_options(options), max_speech_duration_s=_WINDOW_S)
    )
    pad, total = options.speech_pad_s, len(audio) / SAMPLE_RATE
    utterances = []
    for span in spans:
        start, end = span["start"] / SAMPLE_RATE, span["end"] / SAMPLE_RATE
        said_from = min(start + pad, end) if start > 0 else start
        said_to = max(end - pad, said_from) if end < total else end
        utterances.append(Utterance(start, end, said_from, said_to))
    return utterances


@dataclass(frozen=True, slots=True)
class _Clip:
    speaker: str
    offset: float  # where its channel starts in the joined audio
    utterance: Utterance

    @property
    def start(self) -> float:
        return self.offset + self.utterance.start

    @property
    def end(self) -> float:
        return self.offset + self.utterance.end


def recognise(
    channels: Sequence[np.ndarray], speakers: Sequence[str], options: TranscribeOptions
) -> list[Segment]:
    """Every channel's utterances, one segment each.

    The channels are joined end to end and their speech packed into 30-second windows (the
    model's input size), so a batch holds many short turns of both speakers; each recognised
    word goes back to the utterance it was said in. Faint, looping and echoed text is dropped."""
    from faster_whisper import BatchedInferencePipeline

    clips: list[_Clip] = []
    offset = 0.0
    for audio, speaker in zip(channels, speakers, strict=True):
        clips += [_Clip(speaker, offset, u) for u in speech_spans(audio, options)]
        offset += len(audio) / SAMPLE_RATE
    if not clips:
        return []
    joined = np.concatenate(channels) if len(channels) > 1 else channels[0]
    pipeline = BatchedInferencePipeline(load_model(options.model))
    results, _info = pipeline.transcribe(
        joined,
        language=options.language,
        vad_filter=True,
        vad_parameters=_vad_options(options),
        batch_size=options.batch_size,
        beam_size=options.beam_size,
        initial_prompt=prompt_text(options.prompt) or None,
        hotwords=options.hotwords or None,
        condition_on_previous_text=False,
        word_timestamps=True,
        compression_ratio_threshold=options.compression_max,
        log_prob_threshold=options.logprob_min,
        no_speech_threshold=options.no_speech_max,
    )
    heard: dict[int, list[str]] = {}
    for result in results:
        if _untrustworthy(result, options):
            log.debug("丢弃低置信度片段 %.2f–%.2f: %s", result.start, result.end, result.text)
            continue
        if _hallucinated(clean_text(result.text), result, options):
            log.debug("丢弃疑似幻觉片段 %.2f–%.2f: %s", result.start, result.end, result.text)
            continue
        for word in result.words or ():
            heard.setdefault(_clip_of(word.start, word.end, clips), []).append(word.word)
    segments: list[Segment] = []
    for index, words in sorted(heard.items()):
        text = clean_text("".join(words))
        if not text or (len(bare(text)) >= 8 and echoes_prompt(text, options.prompt)):
            continue
        clip = clips[index]
        u = clip.utterance
        segments.append(Segment(clip.speaker, round(u.said_from, 2), round(u.said_to, 2), text))
    return segments


def _vad_options(options: TranscribeOptions) -> dict[str, float]:
    return {
        "threshold": options.vad_threshold,
        "min_speech_duration_ms": 150,
        "min_silence_duration_ms": int(options.turn_pause_s * 1000),
        "speech_pad_ms": int(options.speech_pad_s * 1000),
    }


def _untrustworthy(result: object, options: TranscribeOptions) -> bool:
    no_speech = float(getattr(result, "no_speech_prob", 0.0))
    logprob = float(getattr(result, "avg_logprob", 0.0))
    compression = float(getattr(result, "compression_ratio", 0.0))
    if no_speech > options.no_speech_max and logprob < options.logprob_min:
        return True  # Whisper's own "this was silence" rule
    return logprob < options.logprob_floor or compression > options.compression_max


def _hallucinated(text: str, result: object, options: TranscribeOptions) -> bool:
    """Text the audio cannot hold: faster than anyone speaks, or the prompt said back on a
    stretch that is probably not speech."""
    seconds = max(float(getattr(result, "end", 0.0)) - float(getattr(result, "start", 0.0)), 0.1)
    rate = len(bare(text)) / seconds
    if rate > options.max_chars_per_s:
        return True
    doubtful = float(getattr(result, "no_speech_prob", 0.0)) > 0.2 or rate > 7
    return doubtful and echoes_prompt(text, options.prompt)


def _clip_of(start: float, end: float, clips: list[_Clip]) -> int:
    """The index of the clip a word was said in (its middle lies inside it, or nearest)."""
    middle = (start + end) / 2
    return min(
        range(len(clips)),
        key=lambda i: 0.0 if clips[i].start <= middle <= clips[i].end else _gap(clips[i], middle),
    )


def _gap(clip: _Clip, at: float) -> float:
    return min(abs(clip.start - at), abs(clip.end - at))


def transcribe(
    path: str | Path,
    options: TranscribeOptions | None = None,
    progress: Callable[[Sequence[str]], None] | None = None,
) -> Transcript:
    """Transcribe a recording: stereo as agent (left) and customer (right), mono as unknown."""
    options = options or TranscribeOptions()
    recording = load_recording(path, options.max_duration_s)
    speakers = STEREO_SPEAKERS if len(recording.channels) == 2 else ("unknown",)
    if progress is not None:
        progress(speakers)
    segments = recognise(recording.channels, speakers, options)
    segments.sort(key=lambda s: (s.start, s.end))
    return Transcript(
        segments=tuple(segments),
        duration=round(recording.duration, 2),
        audio=Path(path).name,
        language=options.language,
    )
