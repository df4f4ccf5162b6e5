"""Check a labelled scoring set (calls/ + labels/) against CONTRACTS.md and LABELLING.md.

Usage: python benchmarks/data/scoring/validate_set.py benchmarks/data/scoring/dev
Prints one line per problem (file, field, what was expected) and exits non-zero if any.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any, TypeGuard

from callcenter.ids import ComplaintCategory, Outcome
from callcenter.scoring.compliance import EARLY_END as COMPLIANCE_EARLY_END
from callcenter.scoring.template import SURVEY_ITEMS, SURVEY_KINDS
from callcenter.transcript import SPEAKERS

TEMPLATES = tuple(SURVEY_KINDS)
OUTCOMES = tuple(Outcome)
EARLY_END = tuple(COMPLIANCE_EARLY_END)
STYLES = ("clean", "asr")
COMPLIANCE = SURVEY_ITEMS
CATEGORIES = tuple(ComplaintCategory)
LABEL_KEYS = {
    "template",
    "call_time",
    "style",
    "source",
    "notes",
    "outcome",
    "reschedule_at",
    "compliance",
    "ratings",
    "complaints",
}
SCALE = {"very_satisfied", "satisfied", "neutral", "dissatisfied", "unknown"}
YES_NO = {"yes", "no", "unknown"}
YES_NO_SCALE = SCALE | YES_NO

# Answer type of every rated question per template; open questions (q17, s07) are never rated.
BANKS: dict[str, dict[str, set[str]]] = {
    "service_3dc": {
        "q01_self_visit": YES_NO,
        "q02_appointment": YES_NO_SCALE,
        "q03_work_explanation": SCALE,
        "q04_walkaround": YES_NO,
        "q05_sa_listening": YES_NO_SCALE,
        "q06_cost_estimate": YES_NO,
        "q07_cost_match": YES_NO,
        "q08_fixed_right": YES_NO,
        "q09_cleanliness": SCALE,
        "q10_value": SCALE,
        "q11_invoice_explanation": YES_NO_SCALE,
        "q12_wait_time": SCALE,
        "q13_joint_inspection": YES_NO,
        "q14_sa_friendliness": SCALE,
        "q15_repair_duration": SCALE,
        "q16_waiting_area": SCALE,
    },
    "sales_7dc": {
        "s01_feature_explanation": SCALE,
        "s02_paperwork_explanation": SCALE,
        "s03_test_drive": YES_NO,
        "s04_on_time_delivery": YES_NO,
        "s05_delivery_explanation": SCALE,
        "s06_after_delivery_care": SCALE,
    },
}
# A "no" to these is a negative answer that needs the apology (LABELLING.md).
NO_IS_NEGATIVE = {
    "q04_walkaround",
    "q05_sa_listening",
    "q06_cost_estimate",
    "q07_cost_match",
    "q08_fixed_right",
    "q11_invoice_explanation",
    "q13_joint_inspection",
    "s03_test_drive",
    "s04_on_time_delivery",
}


class Problems:
    """Collects problems as '<file>: <field>: <message>' lines."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def add(self, where: str, field: str, message: str) -> None:
        """Record one problem."""
        self.lines.append(f"{where}: {field}: {message}")


def load_json(path: Path, problems: Problems) -> Any:
    """Read a JSON file, recording a problem instead of raising."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        problems.add(str(path), "-", f"不是有效的 JSON 文件({exc})")
        return None


def is_number(value: object) -> TypeGuard[float]:
    """True for int/float but not bool."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def parse_time(value: object) -> datetime | None:
    """Parse an ISO 8601 time that carries a UTC offset, else None."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def check_transcript(where: str, call: Any, problems: Problems) -> list[dict[str, Any]]:
    """Check one transcript against CONTRACTS.md; return its usable segments."""
    if not isinstance(call, dict):
        problems.add(where, "-", "应为 JSON 对象")
        return []
    if not isinstance(call.get("audio"), str) or not call["audio"]:
        problems.add(where, "audio", "应为非空字符串")
    duration = call.get("duration")
    if not is_number(duration) or duration <= 0:
        problems.add(where, "duration", "应为大于 0 的秒数")
        duration = None
    if call.get("language") != "zh":
        problems.add(where, "language", '应为 "zh"')
    segments = call.get("segments")
    if not isinstance(segments, list) or not segments:
        problems.add(where, "segments", "应为非空列表")
        return []
    good: list[dict[str, Any]] = []
    previous_start = -1.0
    for i, seg in enumerate(segments):
        field = f"segments[{i}]"
        if not isinstance(seg, dict) or set(seg) < {"speaker", "start", "end", "text"}:
            problems.add(where, field, "应含 speaker、start、end、text")
            continue
        if seg["speaker"] not in SPEAKERS:
            problems.add(where, f"{field}.speaker", f"应为 {'/'.join(SPEAKERS)}")
        if not isinstance(seg["text"], str) or not seg["text"].strip():
            problems.add(where, f"{field}.text", "应为非空字符串")
        start, end = seg["start"], seg["end"]
        if not (is_number(start) and is_number(end)) or not 0 <= start <= end:
            problems.add(where, f"{field}.start/end", "应为 0 ≤ start ≤ end 的秒数")
            continue
        if duration is not None and end > duration + 0.05:
            problems.add(where, f"{field}.end", f"超出了通话时长 {duration}")
        if start < previous_start:
            problems.add(where, f"{field}.start", "片段应按 start 排序")
        previous_start = start
        good.append(seg)
    return good


def negative_answers(ratings: dict[str, str]) -> list[str]:
    """Questions whose answer needs the apology under LABELLING.md."""
    return [
        q
        for q, v in ratings.items()
        if v in ("neutral", "dissatisfied") or (v == "no" and q in NO_IS_NEGATIVE)
    ]


def check_compliance(where: str, label: dict[str, Any], problems: Problems) -> None:
    """Nine items with true/false/null, and the null rules of CONTRACTS.md."""
    compliance = label.get("compliance")
    if not isinstance(compliance, dict):
        problems.add(where, "compliance", "应为对象")
        return
    missing = [k for k in COMPLIANCE if k not in compliance]
    extra = [k for k in compliance if k not in COMPLIANCE]
    if missing:
        problems.add(where, "compliance", f"缺少 {', '.join(missing)}")
    if extra:
        problems.add(where, "compliance", f"未知的项 {', '.join(extra)}")
    for key, value in compliance.items():
        if value not in (True, False, None):
            problems.add(where, f"compliance.{key}", "应为 true、false 或 null")
    outcome = label.get("outcome")
    if compliance.get("forbidden_phrase") is None:
        problems.add(where, "compliance.forbidden_phrase", "每通电话都应为 true 或 false")
    if outcome in EARLY_END:
        for key in ("apology_after_negative", "invite_feedback", "complaint_record_promise"):
            if compliance.get(key) is not None:
                problems.add(where, f"compliance.{key}", f"{outcome} 的电话应为 null")
        if compliance.get("closing") is not None:
            problems.add(where, "compliance.closing", f"{outcome} 的电话应为 null")
        return
    raw_ratings = label.get("ratings")
    ratings: dict[str, str] = raw_ratings if isinstance(raw_ratings, dict) else {}
    negatives = negative_answers(ratings)
    apology = compliance.get("apology_after_negative")
    if negatives and apology is None:
        problems.add(
            where, "compliance.apology_after_negative", f"有负面答案({negatives[0]}),不应为 null"
        )
    if not negatives and apology is not None:
        problems.add(where, "compliance.apology_after_negative", "没有负面答案,应为 null")
    complaints = label.get("complaints") or []
    promise = compliance.get("complaint_record_promise")
    if not complaints and promise is not None:
        problems.add(where, "compliance.complaint_record_promise", "没有投诉,应为 null")
    if outcome == "completed":
        if complaints and promise is None:
            problems.add(where, "compliance.complaint_record_promise", "有投诉,不应为 null")
        for key in ("greeting", "self_intro", "convenience_check", "visit_confirm"):
            if compliance.get(key) is None:
                problems.add(where, f"compliance.{key}", "完成的电话应为 true 或 false")
        for key in ("invite_feedback", "closing"):
            if compliance.get(key) is None:
                problems.add(where, f"compliance.{key}", "完成的电话应为 true 或 false")


def check_ratings(where: str, label: dict[str, Any], problems: Problems) -> None:
    """Rated questions belong to the template's bank and carry a value of their answer type."""
    ratings = label.get("ratings")
    if not isinstance(ratings, dict):
        problems.add(where, "ratings", "应为对象")
        return
    bank = BANKS.get(label.get("template", ""), {})
    for question, value in ratings.items():
        if question not in bank:
            problems.add(where, f"ratings.{question}", f"不是 {label.get('template')} 题库里的题号")
        elif value not in bank[question]:
            problems.add(where, f"ratings.{question}", f"取值 {value!r} 不合这道题的答案类型")


def check_complaints(
    where: str, label: dict[str, Any], segments: list[dict[str, Any]], problems: Problems
) -> None:
    """Category from the list; text found in a customer segment that starts at `start`."""
    complaints = label.get("complaints")
    if not isinstance(complaints, list):
        problems.add(where, "complaints", "应为列表")
        return
    starts = {round(float(s["start"]), 2) for s in segments}
    for i, complaint in enumerate(complaints):
        field = f"complaints[{i}]"
        if not isinstance(complaint, dict):
            problems.add(where, field, "应为对象")
            continue
        if complaint.get("category") not in CATEGORIES:
            problems.add(where, f"{field}.category", f"应为 {'/'.join(CATEGORIES)} 之一")
        text, start = complaint.get("text"), complaint.get("start")
        if not isinstance(text, str) or not text:
            problems.add(where, f"{field}.text", "应为非空字符串")
            continue
        if not is_number(start):
            problems.add(where, f"{field}.start", "应为秒数")
            continue
        if label.get("style") == "clean":
            hits = [
                s
                for s in segments
                if s["speaker"] == "customer"
                and text in s["text"]
                and abs(s["start"] - start) < 0.01
            ]
            if not hits:
                problems.add(
                    where, f"{field}.text", f"在 start={start} 的客户片段里找不到 {text!r}"
                )
        elif round(start, 2) not in starts:
            problems.add(where, f"{field}.start", f"没有从 {start} 开始的片段")


def check_label(where: str, label: Any, segments: list[dict[str, Any]], problems: Problems) -> None:
    """Check one label file against LABELLING.md."""
    if not isinstance(label, dict):
        problems.add(where, "-", "应为 JSON 对象")
        return
    for key in sorted(LABEL_KEYS - {"notes"} - set(label)):
        problems.add(where, key, "缺少这个键")
    for key in sorted(set(label) - LABEL_KEYS):
        problems.add(where, key, "未知的键")
    if label.get("template") not in TEMPLATES:
        problems.add(where, "template", f"应为 {'/'.join(TEMPLATES)}")
    if label.get("style") not in STYLES:
        problems.add(where, "style", "应为 clean 或 asr")
    if label.get("outcome") not in OUTCOMES:
        problems.add(where, "outcome", f"应为 {'/'.join(OUTCOMES)}")
    if "notes" in label and not isinstance(label["notes"], str):
        problems.add(where, "notes", "应为字符串")
    call_time = parse_time(label.get("call_time"))
    if call_time is None:
        problems.add(where, "call_time", "应为带时区的 ISO 时间,如 2026-11-20T10:15:00+08:00")
    reschedule_at = label.get("reschedule_at")
    if reschedule_at is not None:
        when = parse_time(reschedule_at)
        if label.get("outcome") != "reschedule":
            problems.add(where, "reschedule_at", "只有 outcome 为 reschedule 时才填")
        elif when is None:
            problems.add(where, "reschedule_at", "应为带时区的 ISO 时间或 null")
        elif call_time is not None and when <= call_time:
            problems.add(where, "reschedule_at", "应晚于 call_time")
    check_compliance(where, label, problems)
    check_ratings(where, label, problems)
    check_complaints(where, label, segments, problems)


def check_asr_copy(
    where: str, label: dict[str, Any], labels: dict[str, Any], problems: Problems
) -> None:
    """An asr copy names an existing clean call and keeps its labels (start times aside)."""
    source = label.get("source")
    if label.get("style") == "clean":
        if source is not None:
            problems.add(where, "source", "clean 的电话 source 应为 null")
        return
    if source not in labels:
        problems.add(where, "source", f"找不到源电话 {source!r}")
        return
    original = labels[source]
    if not isinstance(original, dict) or original.get("style") != "clean":
        problems.add(where, "source", f"源电话 {source} 应为 clean")
        return
    for key in ("template", "call_time", "outcome", "reschedule_at", "compliance", "ratings"):
        if label.get(key) != original.get(key):
            problems.add(where, key, f"应与源电话 {source} 相同")
    ours = [(c.get("category"), c.get("text")) for c in label.get("complaints") or []]
    theirs = [(c.get("category"), c.get("text")) for c in original.get("complaints") or []]
    if ours != theirs:
        problems.add(where, "complaints", f"类别和原话应与源电话 {source} 相同")


def validate(root: Path) -> tuple[list[str], Counter[str]]:
    """Validate every call of a set; return the problems and a few counts."""
    problems = Problems()
    counts: Counter[str] = Counter()
    calls_dir, labels_dir = root / "calls", root / "labels"
    call_ids = {p.stem for p in calls_dir.glob("*.json")}
    label_ids = {p.stem for p in labels_dir.glob("*.json")}
    for missing in sorted(call_ids - label_ids):
        problems.add(str(labels_dir / f"{missing}.json"), "-", "有通话文件却没有标注文件")
    for missing in sorted(label_ids - call_ids):
        problems.add(str(calls_dir / f"{missing}.json"), "-", "有标注文件却没有通话文件")
    labels = {cid: load_json(labels_dir / f"{cid}.json", problems) for cid in sorted(label_ids)}
    for cid in sorted(call_ids & label_ids):
        call = load_json(calls_dir / f"{cid}.json", problems)
        segments = check_transcript(str(calls_dir / f"{cid}.json"), call, problems)
        where = str(labels_dir / f"{cid}.json")
        label = labels[cid]
        check_label(where, label, segments, problems)
        if isinstance(label, dict):
            check_asr_copy(where, label, labels, problems)
            counts[f"{label.get('style')}"] += 1
            counts[f"{label.get('template')}/{label.get('outcome')}"] += 1
    counts["calls"] = len(call_ids & label_ids)
    return problems.lines, counts


def main(argv: list[str]) -> int:
    """Validate the set directories given on the command line."""
    if len(argv) < 2:
        print("用法: python validate_set.py 数据集目录 [数据集目录 ...]", file=sys.stderr)
        return 2
    failed = False
    for arg in argv[1:]:
        root = Path(arg)
        if not (root / "calls").is_dir() or not (root / "labels").is_dir():
            print(f"{root}: 应包含 calls/ 和 labels/ 两个目录", file=sys.stderr)
            failed = True
            continue
        lines, counts = validate(root)
        for line in lines:
            print(line)
        summary = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()) if k != "calls")
        status = "通过" if not lines else f"发现 {len(lines)} 个问题"
        print(f"{root}: 共 {counts['calls']} 通电话({summary}),{status}")
        failed = failed or bool(lines)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
