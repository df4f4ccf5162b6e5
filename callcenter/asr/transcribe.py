"""A call recording in, the CONTRACTS.md transcript out: each channel on its own, one segment per
utterance, simplified Chinese."""

from __future__ import annotations

import logging
from bisect import bisect_right
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
    turn_pause_s: float = 0.4
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
    # a longer stretch without a pause is cut, so that each piece fits the model's window
    longest = _WINDOW_S - 2 * options.speech_pad_s - 0.1
    spans = get_speech_timestamps(
        audio,
        VadOptions(
            threshold=options.vad_threshold,
            min_speech_duration_ms=150,
            min_silence_duration_ms=int(options.turn_pause_s * 1000),
            speech_pad_ms=int(options.speech_pad_s * 1000),
            max_speech_duration_s=longest,
        ),
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
class _Piece:
    """One utterance's audio, placed in the packed audio the model hears."""

    speaker: str
    utterance: Utterance
    at: float  # where it starts in the packed audio (seconds)
    length: float


def _pack(
    channels: Sequence[np.ndarray], speakers: Sequence[str], options: TranscribeOptions
) -> tuple[np.ndarray, list[dict[str, float]], list[_Piece]]:
    """Each channel's utterances packed, silence left out, into windows of at most 30 seconds
    (the model's input) laid end to end. A window never holds two channels: the model tends to
    stop writing part-way through a window that changes speaker."""
    parts: list[np.ndarray] = []
    windows: list[dict[str, float]] = []
    pieces: list[_Piece] = []
    at = 0.0
    for audio, speaker in zip(channels, speakers, strict=True):
        window_start = at
        for u in speech_spans(audio, options):
            clip = audio[int(u.start * SAMPLE_RATE) : int(u.end * SAMPLE_RATE)]
            length = len(clip) / SAMPLE_RATE
            if at + length - window_start > _WINDOW_S and at > window_start:
                windows.append({"start": window_start, "end": at})
                window_start = at
            parts.append(clip)
            pieces.append(_Piece(speaker, u, at, length))
            at += length
        if at > window_start:
            windows.append({"start": window_start, "end": at})
    packed = np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)
    return packed, windows, pieces


def recognise(
    channels: Sequence[np.ndarray], speakers: Sequence[str], options: TranscribeOptions
) -> list[Segment]:
    """Every channel's utterances, one segment each: all windows recognised in batches, each
    recognised word returned to the utterance it was said in. Faint, looping and echoed text
    is dropped."""
    from faster_whisper import BatchedInferencePipeline

    packed, windows, pieces = _pack(channels, speakers, options)
    if not pieces:
        return []
    pipeline = BatchedInferencePipeline(load_model(options.model))
    results, _info = pipeline.transcribe(
        packed,
        language=options.language,
        clip_timestamps=windows,
        vad_filter=False,
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
    starts = [p.at for p in pieces]
    heard: dict[int, list[str]] = {}
    for result in results:
        if _untrustworthy(result, options):
            log.debug("丢弃低置信度片段 %.2f–%.2f: %s", result.start, result.end, result.text)
            continue
        if _hallucinated(clean_text(result.text), result, options):
            log.debug("丢弃疑似幻觉片段 %.2f–%.2f: %s", result.start, result.end, result.text)
            continue
        for word in result.words or ():
            index = max(bisect_right(starts, (word.start + word.end) / 2) - 1, 0)
            heard.setdefault(index, []).append(word.word)
    segments: list[Segment] = []
    for index, words in sorted(heard.items()):
        # a turn cut from a window often ends on the comma that joined it to the next one
        text = clean_text("".join(words)).rstrip("，、")
        if not text or echoes_prompt(text, options.prompt):
            continue
        piece = pieces[index]
        u = piece.utterance
        segments.append(Segment(piece.speaker, round(u.said_from, 2), round(u.said_to, 2), text))
    return segments


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
