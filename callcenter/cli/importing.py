"""``callcenter import``: load a DMS export and report every bad row."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

import click
from sqlalchemy.exc import OperationalError, ProgrammingError

from callcenter import accounts
from callcenter.cli.context import AppContext, pass_app
from callcenter.config import ConfigError
from callcenter.importer import ImportFileError, ImportReport, import_file

EXIT_UNREADABLE = 2


def default_report_path(instance_dir: Path, source: Path) -> Path:
    """``<instance>/import-reports/<file stem>-<timestamp>.csv``."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    return instance_dir / "import-reports" / f"{source.stem}-{stamp}.csv"


def _run(app: AppContext, source: Path, dealership_code: str | None) -> ImportReport:
    try:
        with app.sessions() as session:
            dealer = accounts.find_dealership(session, dealership_code)
            return import_file(
                session,
                source,
                dealership_id=dealer.id,
                settings=app.settings,
                progress=sys.stderr.isatty(),
            )
    except (accounts.AccountError, ConfigError) as exc:
        raise click.ClickException(str(exc)) from exc
    except (OperationalError, ProgrammingError) as exc:
        raise click.ClickException(
            f"数据库不可用或尚未初始化(请先运行 callcenter init-db): {exc.orig}"
        ) from exc


@click.command("import")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--dealership", "dealership_code", help="经销商代码(只有一个经销商时可省略)")
@click.option(
    "--report",
    "report_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="问题行报告 CSV 的保存位置(默认在实例目录的 import-reports 下)",
)
@pass_app
def import_command(
    app: AppContext, file: Path, dealership_code: str | None, report_path: Path | None
) -> None:
    """从 DMS 导出的 CSV 或 Excel (.xlsx) 文件导入客户、车辆、维修工单和新车销售。

    有问题的行不导入,逐行列出行号、字段和原因;其余行照常导入。重复导入同一文件不会产生重复数据。
    """
    try:
        report = _run(app, file, dealership_code)
    except ImportFileError as exc:
        click.echo(f"无法导入: {exc}", err=True)
        raise click.exceptions.Exit(EXIT_UNREADABLE) from exc
    click.echo(report.format())
    target = report_path or default_report_path(app.settings.instance_dir, file)
    try:
        report.write(target)
    except OSError as exc:
        raise click.ClickException(f"无法写入问题行报告 {target}: {exc.strerror}") from exc
    click.echo(f"问题行报告: {target}")


COMMANDS: list[click.Command] = [import_command]
