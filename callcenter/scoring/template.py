"""Script templates: YAML data files, validated, compiled into lexicons once.

A template names the compliance items of a callback kind (phrases the agent must say, where,
and their weight in the QA score) and its question bank (cues that show a question was asked,
the answer type, the MOT code, question-specific answer phrases). The shared way people talk
(scale and yes/no answers, apologies, outcome and complaint wording) is in ``lexicon.yaml``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from callcenter.ids import CallbackKind
from callcenter.scoring.similar import QuestionMatcher
from callcenter.scoring.text import Lexicon

TEMPLATES_DIR = Path(__file__).with_name("templates")
LEXICON_FILE = Path(__file__).with_name("lexicon.yaml")

# the callbacks that put the survey questions
SURVEY_KINDS = (CallbackKind.SERVICE_3DC, CallbackKind.SALES_7DC)
# CONTRACTS.md: the compliance items every survey template reports
SURVEY_ITEMS = (
    "greeting",
    "self_intro",
    "convenience_check",
    "visit_confirm",
    "apology_after_negative",
    "invite_feedback",
    "complaint_record_promise",
    "closing",
    "forbidden_phrase",
)


class TemplateError(ValueError):
    """A template file is missing or wrong; the message names the file and the key."""


Phrases = list[str]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ItemSpec(_Strict):
    weight: float = Field(ge=0)
    kind: Literal["phrase", "apology", "promise", "forbidden"] = "phrase"
    where: Literal["opening", "anywhere", "closing"] = "anywhere"
    scope: Literal["clause", "turn"] = "clause"  # turn: the agent's utterances run together
    question: bool = False  # the phrase must be in a question
    not_in_questions: bool = False  # words inside a rated survey question do not count
    whole_words: bool = False  # a phrase must not cut through a word (您好久没来 greets nobody)
    phrases: Phrases = []
    record: Phrases = []  # kind promise: what recording the complaint sounds like
    promise: Phrases = []  # kind promise: what promising a follow-up sounds like

    @model_validator(mode="after")
    def _phrases_for_kind(self) -> ItemSpec:
        if self.kind in ("phrase", "forbidden") and not self.phrases:
            raise ValueError("需要 phrases(至少一个说法)")
        if self.kind == "promise" and not (self.record and self.promise):
            raise ValueError("kind 为 promise 时需要 record 和 promise 两组说法")
        return self


class QuestionSpec(_Strict):
    text: str
    type: Literal["scale", "yes_no", "yes_no_scale", "open"]
    cues: Phrases = Field(min_length=1)
    mot: str | None = None
    negative_no: bool = False  # a "no" is a negative answer (a quality question)
    inverted_cues: Phrases = []  # asked the other way round ("有没有重复维修"): yes/no flip
    yes_words: Phrases = []  # question-specific ways of saying yes ("yes:" would be a YAML boolean)
    no_words: Phrases = []

    @field_validator("mot", mode="before")
    @classmethod
    def _mot_as_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int | float) else value


class TemplateSpec(_Strict):
    id: str
    kind: CallbackKind
    name: str
    compliance: dict[str, ItemSpec] = Field(min_length=1)
    questions: dict[str, QuestionSpec] = {}
    forbidden_note: str | None = None

    @model_validator(mode="after")
    def _survey_items(self) -> TemplateSpec:
        if self.kind in SURVEY_KINDS:
            missing = [item for item in SURVEY_ITEMS if item not in self.compliance]
            if missing:
                raise ValueError(f"回访问卷模板缺少合规项: {', '.join(missing)}")
        return self


class LexiconSpec(_Strict):
    scale: dict[
        Literal["very_satisfied", "satisfied", "neutral", "dissatisfied", "unknown"], Phrases
    ]
    yes_no: dict[Literal["yes_words", "no_words"], Phrases]
    evaluative: dict[Literal["satisfied", "dissatisfied"], Phrases]
    scale_offer: Phrases
    apology: Phrases
    backchannel: Phrases
    outcome: dict[
        Literal[
            "wrong_number",
            "refused",
            "refused_anywhere",
            "busy",
            "callback_anywhere",
            "agent_reschedule",
            "dropped",
        ],
        Phrases,
    ]
    complaints: dict[str, Phrases]
    not_a_problem: Phrases


def _read_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise TemplateError(f"找不到模板文件 {path}") from exc
    except yaml.YAMLError as exc:
        raise TemplateError(f"模板文件 {path.name} 不是有效的 YAML: {exc}") from exc


def _explain(path: Path, exc: ValidationError) -> TemplateError:
    problems = []
    for error in exc.errors():
        loc = error["loc"]
        if error["type"] == "invalid_key" and isinstance(error.get("input"), bool):
            key = ".".join(str(part) for part in loc[:-1])
            word = "yes" if error["input"] else "no"
            problems.append(
                f"{key}: 键 {word}: 被 YAML 读成了布尔值,请改用 {word}_words(或给键加引号)"
            )
            continue
        key = ".".join(str(part) for part in loc) or "(整个文件)"
        problems.append(f"{key}: {error['msg']}")
    return TemplateError(f"模板文件 {path.name} 有误 — " + "; ".join(problems))


@dataclass(frozen=True)
class Question:
    id: str
    spec: QuestionSpec
    inverted: Lexicon[bool]
    answers: Lexicon[str]  # question-specific yes/no phrases first, then the shared ones
    own_answers: Lexicon[str]  # the question-specific ones alone (they carry their meaning)

    @property
    def type(self) -> str:
        return self.spec.type

    @property
    def rated(self) -> bool:
        return self.spec.type != "open"


@dataclass(frozen=True)
class Template:
    """A validated template with its phrases compiled."""

    spec: TemplateSpec
    items: dict[str, Lexicon[str]]  # item → lexicon of its phrases (kind phrase/forbidden)
    promises: dict[str, tuple[Lexicon[bool], Lexicon[bool]]]  # kind promise: record, promise
    questions: dict[str, Question]
    cues: Lexicon[str]  # every question cue → question id
    similar: QuestionMatcher  # for wordings that name no cue

    @property
    def id(self) -> str:
        return self.spec.id


@dataclass(frozen=True)
class Language:
    """The shared lexicons of ``lexicon.yaml``, compiled."""

    scale: Lexicon[str]
    yes_no: Lexicon[str]
    yes_no_entries: tuple[tuple[str, str], ...]  # for questions that add their own phrases
    evaluative: Lexicon[str]
    scale_offer: Lexicon[bool]
    apology: Lexicon[bool]
    backchannel: frozenset[str]
    outcome: Lexicon[str]
    # words that end a call part-way; apart from ``outcome`` because many of them ("挂了啊")
    # also refuse the survey when said before it starts
    call_ended: Lexicon[bool]
    complaints: Lexicon[str]
    not_a_problem: Lexicon[bool]


def _flat(groups: Mapping[Any, Phrases]) -> list[tuple[str, str]]:
    return [(phrase, str(label)) for label, phrases in groups.items() for phrase in phrases]


@cache
def language() -> Language:
    """The shared lexicons (loaded once per process)."""
    try:
        spec = LexiconSpec.model_validate(_read_yaml(LEXICON_FILE))
    except ValidationError as exc:
        raise _explain(LEXICON_FILE, exc) from exc
    yes_no = tuple(
        [(p, "yes") for p in spec.yes_no["yes_words"]]
        + [(p, "no") for p in spec.yes_no["no_words"]]
    )
    return Language(
        scale=Lexicon(_flat(spec.scale)),
        yes_no=Lexicon(yes_no),
        yes_no_entries=yes_no,
        evaluative=Lexicon(_flat(spec.evaluative)),
        scale_offer=Lexicon.of(spec.scale_offer),
        apology=Lexicon.of(spec.apology),
        backchannel=frozenset(spec.backchannel),
        # "买了" and "卖了" differ only in tone: short outcome words must be heard as written
        outcome=Lexicon(
            [(p, label) for p, label in _flat(spec.outcome) if label != "dropped"], min_misheard=3
        ),
        call_ended=Lexicon(dict.fromkeys(spec.outcome["dropped"], True), min_misheard=3),
        # complaint words are short and everyday: "送了" is not "松了", "忙得很" not "慢得很"
        complaints=Lexicon(_flat(spec.complaints), min_misheard=3),
        not_a_problem=Lexicon.of(spec.not_a_problem),
    )


def compile_template(spec: TemplateSpec) -> Template:
    """Compile a validated template's phrases into lexicons."""
    shared = language()
    items = {
        name: Lexicon(dict.fromkeys(item.phrases, name), whole_words=item.whole_words)
        for name, item in spec.compliance.items()
        if item.phrases
    }
    promises = {
        name: (
            Lexicon.of(item.record),
            Lexicon.of(item.promise),
        )
        for name, item in spec.compliance.items()
        if item.kind == "promise"
    }
    questions = {}
    for qid, q in spec.questions.items():
        own = [(p, "yes") for p in q.yes_words] + [(p, "no") for p in q.no_words]
        questions[qid] = Question(
            id=qid,
            spec=q,
            inverted=Lexicon.of(q.inverted_cues),
            answers=Lexicon(own + list(shared.yes_no_entries)) if own else shared.yes_no,
            own_answers=Lexicon(own),
        )
    cues = Lexicon([(cue, qid) for qid, q in spec.questions.items() for cue in q.cues])
    similar = QuestionMatcher(
        {qid: (q.text, q.cues) for qid, q in spec.questions.items() if q.type != "open"}
    )
    return Template(
        spec=spec, items=items, promises=promises, questions=questions, cues=cues, similar=similar
    )


def parse_template(data: Any, name: str = "<template>") -> Template:
    """Validate and compile template data; raises TemplateError naming the key."""
    try:
        spec = TemplateSpec.model_validate(data)
    except ValidationError as exc:
        raise _explain(Path(name), exc) from exc
    return compile_template(spec)


def template_ids() -> list[str]:
    """The ids of the bundled templates."""
    return sorted(p.stem for p in TEMPLATES_DIR.glob("*.yaml"))


@cache
def load_template(template_id: str) -> Template:
    """A bundled template by id (``service_3dc`` …), loaded once per process."""
    path = TEMPLATES_DIR / f"{template_id}.yaml"
    if not path.is_file():
        known = "、".join(template_ids())
        raise TemplateError(f"未知的模板 {template_id!r}(可用: {known})")
    template = parse_template(_read_yaml(path), path.name)
    if template.id != template_id:
        raise TemplateError(f"模板文件 {path.name} 的 id 为 {template.id!r},应与文件名一致")
    return template
