"""Scoring: a call transcript and a script template in, a CONTRACTS.md score out.

Pure: no database, no web, no global state beyond templates loaded once per process.

    >>> from callcenter.scoring import score_transcript
    >>> score = score_transcript(transcript_dict, "service_3dc", call_time=when)
    >>> score.to_dict()["ratings"]
"""

from callcenter.scoring.scorer import qa_score, score_transcript
from callcenter.scoring.template import TemplateError, load_template, parse_template, template_ids
from callcenter.scoring.types import Score, Transcript, TranscriptFormatError

__all__ = [
    "Score",
    "TemplateError",
    "Transcript",
    "TranscriptFormatError",
    "load_template",
    "parse_template",
    "qa_score",
    "score_transcript",
    "template_ids",
]
