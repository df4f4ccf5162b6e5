"""Offline Mandarin transcription of call recordings (CONTRACTS.md transcript), on CPU by default.

    >>> from callcenter.asr import transcribe
    >>> transcribe("call-000123.wav").to_dict()["segments"][0]
    {'speaker': 'agent', 'start': 0.52, 'end': 3.1, 'text': '您好,请问是张先生吗?'}

Pure: audio in, plain data out; no database, no web. The model is loaded once per process.
"""

from callcenter.asr.answers import ANSWER_SETS, AnswerGuess, recognise_answer, recognise_answer_file
from callcenter.asr.audio import AudioError, load_recording
from callcenter.asr.model import ModelError, ModelSpec, base_model_dir, load_model
from callcenter.asr.transcribe import TranscribeOptions, transcribe

__all__ = [
    "ANSWER_SETS",
    "AnswerGuess",
    "AudioError",
    "ModelError",
    "ModelSpec",
    "TranscribeOptions",
    "base_model_dir",
    "load_model",
    "load_recording",
    "recognise_answer",
    "recognise_answer_file",
    "transcribe",
]
