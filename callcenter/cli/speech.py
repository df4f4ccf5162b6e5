"""``callcenter transcribe``, ``callcenter answer`` and ``callcenter speech-model``."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import click

from callcenter.cli.context import AppContext, pass_app

_SPEAKER_NAMES = {"agent": "客服", "customer": "客户", "unknown": "未知"}


def _clock(seconds: float) -> str:
    minutes, rest = divmod(seconds, 60)
    return f"{int(minutes):02d}:{rest:05.2f}"


@click.command("transcribe")
@click.argument("audio", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="输出 CONTRACTS.md 格式的 JSON")
@click.option("--template", "template_id", help="回访模板 id,选用该模板的领域提示语")
@pass_app
def transcribe_command(
    app: AppContext, audio: Path, as_json: bool, template_id: str | None
) -> None:
    """把通话录音转写成文字(双声道:左客服、右客户;单声道:未知说话人)。"""
    from callcenter.asr import AudioError, ModelError, transcribe

    def progress(speakers: Sequence[str]) -> None:
        if not as_json:
            names = "、".join(_SPEAKER_NAMES[s] for s in speakers)
            click.echo(f"正在识别({names})…", err=True)

    try:
        transcript = transcribe(audio, app.settings.asr.options(template_id), progress=progress)
    except (AudioError, ModelError) as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        click.echo(json.dumps(transcript.to_dict(), ensure_ascii=False, indent=2))
        return
    click.echo(f"{transcript.audio}  时长 {_clock(transcript.duration)}")
    for s in transcript.segments:
        click.echo(f"[{_clock(s.start)}–{_clock(s.end)}] {_SPEAKER_NAMES[s.speaker]}: {s.text}")
    if not transcript.segments:
        click.echo("(没有听到说话)")


@click.command("answer")
@click.argument("audio", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--type",
    "answer_type",
    type=click.Choice(["scale", "yes_no"]),
    required=True,
    help="题型:scale(非常满意/满意/一般/不满意)或 yes_no(是/否)",
)
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
@pass_app
def answer_command(app: AppContext, audio: Path, answer_type: str, as_json: bool) -> None:
    """听一段简短的客户回答,判断是哪个选项(听不清时为 none)。"""
    from callcenter.asr import AudioError, ModelError, recognise_answer_file

    try:
        guess = recognise_answer_file(audio, answer_type, model=app.settings.asr.options().model)
    except (AudioError, ModelError) as exc:
        raise click.ClickException(str(exc)) from exc
    result = {
        "answer": guess.label or "none",
        "confidence": guess.confidence,
        "fit": guess.fit,
        "heard": guess.heard,
    }
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False))
    else:
        click.echo(
            f"回答: {result['answer']}(把握 {guess.confidence:.0%};自由转写: {guess.heard or '—'})"
        )


@click.command("speech-model")
@pass_app
def speech_model_command(app: AppContext) -> None:
    """准备语音模型(首次运行时由安装包拼合并校验),并显示其位置。"""
    from callcenter.asr import ModelError, load_model
    from callcenter.asr.model import model_dir

    spec = app.settings.asr.options().model
    try:
        path = model_dir(spec)
        load_model(spec)
    except ModelError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"语音模型就绪: {path} ({spec.device}, {spec.compute_type})")


COMMANDS: list[click.Command] = [transcribe_command, answer_command, speech_model_command]
