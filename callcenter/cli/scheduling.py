"""``callcenter schedule``: create due callbacks and flag overdue ones."""

from __future__ import annotations

from datetime import datetime

import click
from sqlalchemy import select

from callcenter.cli.context import AppContext, pass_app
from callcenter.config import ConfigError
from callcenter.models import Dealership
from callcenter.schedule import schedule_callbacks
from callcenter.schedule.calendar import zone


def _parse_now(value: str, timezone: str) -> datetime:
    """``"2026-11-23 10:00"`` in local time (or with an explicit offset) → aware datetime."""
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise click.BadParameter(
            f"时间 {value!r} 格式错误,应为 YYYY-MM-DD HH:MM(本地时间)", param_hint="--now"
        ) from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone(timezone))
    return parsed


@click.command("schedule")
@click.option("--now", "now_text", metavar="时间", help="按此本地时间排程,如 2026-11-23 10:00")
@pass_app
def schedule_command(app: AppContext, now_text: str | None) -> None:
    """按回访规则生成到期回访,并标记逾期回访。"""
    try:
        with app.sessions() as session:
            now = None
            if now_text is not None:
                first_zone = session.scalar(
                    select(Dealership.timezone).order_by(Dealership.id).limit(1)
                )
                now = _parse_now(now_text, first_zone or app.settings.timezone)
            result = schedule_callbacks(session, app.settings, now=now)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(result.format())


COMMANDS: list[click.Command] = [schedule_command]
