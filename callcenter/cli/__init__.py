"""The ``callcenter`` command."""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence

import click

from callcenter.cli.context import AppContext, pass_app
from callcenter.config import ConfigError, load_settings


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False),
    envvar="CALLCENTER_CONFIG",
    help="配置文件 (TOML)",
)
@click.option("--instance", "instance_path", help="实例目录(数据库、录音、队列)")
@click.option("-v", "--verbose", is_flag=True, help="输出调试日志")
@click.pass_context
def cli(
    ctx: click.Context, config_file: str | None, instance_path: str | None, verbose: bool
) -> None:
    """4S店客服回访中心。"""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if not verbose:  # the recogniser's own progress lines are for debugging
        logging.getLogger("faster_whisper").setLevel(logging.WARNING)
    try:
        if instance_path:
            settings = load_settings(config_file, instance_path=instance_path)
        else:
            settings = load_settings(config_file)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    ctx.obj = AppContext(settings)
    ctx.call_on_close(ctx.obj.close)


@cli.command("init-db")
@pass_app
def init_db_command(app: AppContext) -> None:
    """创建或升级数据库。"""
    from callcenter.db import init_db

    url = init_db(app.settings)
    click.echo(f"数据库已就绪: {url}")


def _register() -> None:
    from callcenter.cli import (
        importing,
        jobs,
        scheduling,
        scoring,
        serve,
        speech,
        telephony,
        users,
    )

    for module in (importing, scheduling, scoring, speech, jobs, serve, users, telephony):
        for command in module.COMMANDS:
            cli.add_command(command)


_register()


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``callcenter`` console script."""
    try:
        cli.main(args=list(argv) if argv is not None else None, prog_name="callcenter")
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
