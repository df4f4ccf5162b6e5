"""What an import did: per-entity counts, bad rows, as text for people and CSV for Excel."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ENTITIES = ("customer", "vehicle", "service_visit", "sale")
ENTITY_LABELS = {
    "customer": "客户",
    "vehicle": "车辆",
    "service_visit": "维修工单",
    "sale": "新车销售",
}
OUTCOMES = ("created", "updated", "unchanged")
REPORT_HEADER = ("行号", "字段", "值", "原因")


@dataclass(frozen=True)
class RowError:
    """One problem in one row; ``row`` is the spreadsheet row number (the header is row 1)."""

    row: int
    field: str
    value: str
    reason: str

    def as_dict(self) -> dict[str, Any]:
        """The error as a JSON-ready dict."""
        return {"row": self.row, "field": self.field, "value": self.value, "reason": self.reason}


def empty_counts() -> dict[str, dict[str, int]]:
    """Zero created/updated/unchanged for every entity."""
    return {entity: dict.fromkeys(OUTCOMES, 0) for entity in ENTITIES}


@dataclass
class ImportReport:
    """The outcome of one import: rows seen and imported, every row error, per-entity counts."""

    filename: str = ""
    rows_total: int = 0
    rows_imported: int = 0
    errors: list[RowError] = field(default_factory=list)
    counts: dict[str, dict[str, int]] = field(default_factory=empty_counts)
    ignored_headers: list[str] = field(default_factory=list)
    import_run_id: int | None = None

    @property
    def bad_rows(self) -> list[int]:
        """The numbers of the rows that were not imported, in order."""
        return sorted({error.row for error in self.errors})

    def summary(self) -> dict[str, Any]:
        """The JSON summary stored with the import run."""
        return {
            "rows_total": self.rows_total,
            "rows_imported": self.rows_imported,
            "rows_failed": len(self.bad_rows),
            "counts": self.counts,
            "ignored_headers": self.ignored_headers,
        }

    def format(self) -> str:
        """A Chinese report for people: the totals, the counts and every bad row."""
        lines = [
            f"导入文件: {self.filename}",
            f"共 {self.rows_total} 行数据,导入 {self.rows_imported} 行,"
            f"有问题 {len(self.bad_rows)} 行(未导入)。",
        ]
        for entity in ENTITIES:
            c = self.counts[entity]
            lines.append(
                f"  {ENTITY_LABELS[entity]}: 新增 {c['created']},更新 {c['updated']},"
                f"未变 {c['unchanged']}"
            )
        if self.ignored_headers:
            lines.append(f"已忽略无法识别的列: {'、'.join(self.ignored_headers)}")
        if self.errors:
            lines.append("有问题的行:")
            for error in sorted(self.errors, key=lambda e: e.row):
                value = f"“{error.value}”" if error.value else "(空)"
                lines.append(f"  第 {error.row} 行  {error.field} {value}: {error.reason}")
        return "\n".join(lines)

    def write(self, path: str | Path) -> Path:
        """Write the bad rows as CSV (行号, 字段, 值, 原因), UTF-8 with BOM so Excel opens it."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(REPORT_HEADER)
            for error in sorted(self.errors, key=lambda e: e.row):
                writer.writerow((error.row, error.field, error.value, error.reason))
        return target
