"""Pipeline commands: ``worker``, ``retry``, ``pipeline-status``."""

from __future__ import annotations

import click

from callcenter.cli.context import AppContext, pass_app
from callcenter.config import ConfigError


@click.command("worker")
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="处理线程数(默认取设置项 pipeline.workers)",
)
@pass_app
def worker_command(app: AppContext, workers: int | None) -> None:
    """处理录音队列:转写、评分(Ctrl-C 等当前步骤做完后退出)。"""
    from callcenter.pipeline import run_worker

    try:
        run_worker(app.settings, workers)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc


@click.command("retry")
@click.argument("call_id")
@pass_app
def retry_command(app: AppContext, call_id: str) -> None:
    """把处理失败的通话 CALL_ID 放回队列,从失败的步骤重新开始。"""
    from callcenter.pipeline import STEPS, PipelineError, retry_call

    if not call_id.isdigit():
        raise click.ClickException(f"通话编号应为正整数,收到 {call_id!r}")
    try:
        state = retry_call(app.sessions, app.settings, int(call_id))
    except PipelineError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"通话 {call_id} 已重新排队,将从 {STEPS[state].name} 步骤(状态 {state})开始。")


@click.command("pipeline-status")
@click.option("--limit", type=click.IntRange(min=1), default=20, help="最多列出几个失败的通话")
@pass_app
def pipeline_status_command(app: AppContext, limit: int) -> None:
    """各处理状态的通话数,以及失败的通话和错误原因。"""
    from callcenter.pipeline import PIPELINE_STATE_LABELS, failed_calls, state_counts

    with app.sessions() as session:
        counts = state_counts(session)
        failed = failed_calls(session, limit)
    click.echo("通话处理状态:")
    for state, count in counts.items():
        click.echo(f"  {state:<12} {PIPELINE_STATE_LABELS.get(state, ''):<4} {count}")
    if not failed:
        click.echo("没有失败的通话。")
        return
    click.echo(f"失败的通话(最近 {len(failed)} 个,可用 callcenter retry 通话编号 重试):")
    for call in failed:
        click.echo(f"  通话 {call.id}: {call.pipeline_error or '(没有记录错误)'}")


COMMANDS: list[click.Command] = [worker_command, retry_command, pipeline_status_command]
