"""``callcenter score``: score a transcript against a script template."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import click

from callcenter.cli.context import AppContext, pass_app
from callcenter.ids import (
    CALLBACK_KIND_LABELS,
    COMPLAINT_CATEGORY_LABELS,
)

OUTCOME_LABELS = {
    "completed": "完成回访",
    "reschedule": "改约时间",
    "refused": "拒绝回访",
    "wrong_number": "号码错误",
    "incomplete": "中途结束",
}
ITEM_LABELS = {
    "greeting": "问候客户",
    "self_intro": "自我介绍(姓名与店名)",
    "convenience_check": "确认是否方便接听",
    "visit_confirm": "确认到店/购车",
    "apology_after_negative": "负面回答后致歉",
    "invite_feedback": "征询意见和建议",
    "complaint_record_promise": "记录意见并承诺跟进",
    "closing": "结束语",
    "forbidden_phrase": "未诱导厂家调查评分",
}
VALUE_LABELS = {
    "very_satisfied": "非常满意",
    "satisfied": "满意",
    "neutral": "一般",
    "dissatisfied": "不满意",
    "yes": "是",
    "no": "否",
    "unknown": "未明确",
}


def _read_transcript(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise click.ClickException(f"找不到转写文件: {path}") from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise click.ClickException(f"{path} 不是有效的 JSON 转写文件: {exc}") from exc
    except OSError as exc:
        raise click.ClickException(f"无法读取 {path}: {exc.strerror}") from exc


def _summary(score: dict[str, Any], questions: dict[str, Any]) -> str:
    lines = [
        f"模板: {CALLBACK_KIND_LABELS.get(score['template'], score['template'])}",
        f"结果: {OUTCOME_LABELS.get(score['outcome'], score['outcome'])}"
        + (f"(约定回电 {score['reschedule_at']})" if score.get("reschedule_at") else ""),
        f"质检得分: {score['qa_score']:.1f}    CSI: "
        + ("—" if score["csi"] is None else f"{score['csi']:.1f}"),
        "",
        "话术合规:",
    ]
    marks = {True: "✔", False: "✘", None: "—"}
    for item, result in score["compliance"].items():
        evidence = result["evidence"]
        where = f"  [{evidence['start']:.1f}s] {evidence['text']}" if evidence else ""
        lines.append(f"  {marks[result['passed']]} {ITEM_LABELS.get(item, item)}{where}")
    lines += ["", "问卷回答:"]
    for qid, value in score["ratings"].items():
        question = questions.get(qid)
        text = question.spec.text if question else qid
        mot = f" (MOT {question.spec.mot})" if question and question.spec.mot else ""
        lines.append(f"  {qid} {text}{mot}: {VALUE_LABELS.get(value, value)}")
    if not score["ratings"]:
        lines.append("  (无)")
    lines += ["", "投诉/抱怨:"]
    for complaint in score["complaints"]:
        label = COMPLAINT_CATEGORY_LABELS.get(complaint["category"], complaint["category"])
        lines.append(f"  [{complaint['start']:.1f}s] {label}: {complaint['text']}")
    if not score["complaints"]:
        lines.append("  (无)")
    return "\n".join(lines)


@click.command("score")
@click.argument("transcript", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--template", "template_id", required=True, help="模板 id,如 service_3dc、sales_7dc")
@click.option("--json", "as_json", is_flag=True, help="输出 CONTRACTS.md 格式的 JSON")
@click.option(
    "--call-time",
    help="通话时间(如 2026-11-20T10:15:00+08:00),用于换算客户约定的回电时间;默认现在",
)
@pass_app
def score_command(
    app: AppContext, transcript: Path, template_id: str, as_json: bool, call_time: str | None
) -> None:
    """给通话转写打分:话术合规、问卷回答、投诉、结果、质检分和 CSI。"""
    from callcenter.scoring import TemplateError, TranscriptFormatError, score_transcript
    from callcenter.scoring.template import load_template

    zone = ZoneInfo(app.settings.timezone)
    try:
        when = datetime.fromisoformat(call_time) if call_time else datetime.now(zone)
    except ValueError as exc:
        raise click.ClickException(f"--call-time 格式不对: {call_time!r}") from exc
    if when.tzinfo is None:
        when = when.replace(tzinfo=zone)
    data = _read_transcript(transcript)
    try:
        template = load_template(template_id)
        score = score_transcript(data, template, call_time=when).to_dict()
    except TemplateError as exc:
        raise click.ClickException(str(exc)) from exc
    except TranscriptFormatError as exc:
        raise click.ClickException(f"{transcript} 不是规定格式的转写: {exc}") from exc
    if as_json:
        click.echo(json.dumps(score, ensure_ascii=False, indent=2))
    else:
        click.echo(_summary(score, template.questions))


COMMANDS: list[click.Command] = [score_command]
