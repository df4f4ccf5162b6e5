"""Import one DMS export: read, check every row, upsert the good ones, record the run."""

from __future__ import annotations

import hashlib
import logging
import os
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.orm import Session
from tqdm import tqdm

from callcenter.config import ConfigError, Settings
from callcenter.importer.fields import alias_table, find_header, missing_message
from callcenter.importer.reader import ImportFileError, read_table
from callcenter.importer.report import ImportReport, RowError
from callcenter.importer.rows import ParsedRow, RowParser
from callcenter.importer.store import Upserter
from callcenter.models import Dealership, ImportRun, utcnow

log = logging.getLogger(__name__)
T = TypeVar("T")


def import_file(
    session: Session,
    path: str | os.PathLike[str],
    *,
    dealership_id: int,
    settings: Settings,
    progress: bool = False,
    user_id: int | None = None,
) -> ImportReport:
    """Import a DMS export into a dealership and commit; bad rows are reported, not imported."""
    source = Path(path)
    started_at = utcnow()
    dealership = session.get(Dealership, dealership_id)
    if dealership is None:
        raise ValueError(f"找不到经销店(id={dealership_id})")
    zone = _zone(dealership.timezone or settings.timezone)
    aliases = alias_table(settings.import_mapping)
    table = read_table(source)
    if not table.rows:
        raise ImportFileError(f"文件 {source.name} 里没有数据")
    header_index, column_map = find_header(table.rows, aliases)
    if column_map.missing():
        raise ImportFileError(missing_message(source.name, column_map, aliases))

    report = ImportReport(filename=source.name, ignored_headers=column_map.ignored)
    labels = {name: column_map.label(name) for name in ("vin", "repair_order_no")}
    body = range(header_index + 1, len(table.rows))
    report.rows_total = len(body)
    rows = ((table.numbers[i], table.rows[i]) for i in _progress(body, progress, source.name))
    checked = _check(rows, RowParser(column_map, zone), labels, report)
    try:
        upserter = Upserter(session, dealership.id)
        with session.no_autoflush:
            upserter.preload(checked)
            for row in checked:
                errors = upserter.apply(row, labels)
                report.errors.extend(errors)
                report.rows_imported += not errors
            upserter.finish()
        report.counts = upserter.counts()
        run = ImportRun(
            dealership_id=dealership.id,
            filename=source.name,
            sha256=hashlib.sha256(source.read_bytes()).hexdigest(),
            started_at=started_at,
            finished_at=utcnow(),
            rows_total=report.rows_total,
            rows_imported=report.rows_imported,
            rows_failed=len(report.bad_rows),
            summary={**report.summary(), "source_format": table.source_format},
            errors=[error.as_dict() for error in report.errors],
            user_id=user_id,
        )
        session.add(run)
        session.commit()
    except BaseException:
        session.rollback()  # all or nothing: a failed import leaves the database as it was
        raise
    report.import_run_id = run.id
    log.info(
        "import %s (run %s): %d rows, %d imported, %d bad",
        source.name,
        run.id,
        report.rows_total,
        report.rows_imported,
        len(report.bad_rows),
    )
    return report


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"经销店时区 {name!r} 无法识别,应如 Asia/Shanghai") from exc


def _check(
    rows: Iterable[tuple[int, Sequence[object]]],
    parser: RowParser,
    labels: dict[str, str],
    report: ImportReport,
) -> list[ParsedRow]:
    """The rows that pass every check; the others' errors go into ``report``."""
    checked: list[ParsedRow] = []
    first_order: dict[str, int] = {}  # repair-order number → first row that had it
    first_sale: dict[str, int] = {}  # VIN → first sale row
    for number, cells in rows:
        parsed, errors = parser.parse(number, cells)
        if parsed is not None:
            errors = _duplicates(parsed, labels, first_order, first_sale)
        if errors:
            report.errors.extend(errors)
        elif parsed is not None:
            checked.append(parsed)
    return checked


def _duplicates(
    row: ParsedRow,
    labels: dict[str, str],
    first_order: dict[str, int],
    first_sale: dict[str, int],
) -> list[RowError]:
    """Keys seen in an earlier good row of the same file: the first one wins."""
    if row.visit is not None:
        order_no = row.visit.repair_order_no
        first = first_order.setdefault(order_no, row.row)
        if first != row.row:
            reason = f"工单号与第 {first} 行重复"
            return [RowError(row.row, labels["repair_order_no"], order_no, reason)]
    if row.sale is not None:
        first = first_sale.setdefault(row.vin, row.row)
        if first != row.row:
            reason = f"同一车辆的新车销售记录与第 {first} 行重复"
            return [RowError(row.row, labels["vin"], row.vin, reason)]
    return []


def _progress(rows: Sequence[T], enabled: bool, name: str) -> Iterable[T]:
    if not enabled:
        return rows
    return tqdm(rows, desc=f"导入 {name}", unit="行", file=sys.stderr, leave=False)
