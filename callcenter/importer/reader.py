"""Reading a DMS export (CSV in UTF-8 or GB18030, or .xlsx) into numbered rows of cells."""

from __future__ import annotations

import codecs
import csv
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

import openpyxl
from openpyxl.utils.exceptions import InvalidFileException

CSV_SUFFIXES = frozenset({".csv", ".txt", ".tsv"})
XLSX_SUFFIXES = frozenset({".xlsx", ".xlsm"})
DELIMITERS = ",\t;"

Cell = object  # str from CSV; str, int, float, datetime, date, time or None from .xlsx


class ImportFileError(Exception):
    """The file cannot be read at all; the message names the file and what was expected."""


@dataclass(frozen=True)
class Table:
    """The rows of the file's first sheet; ``numbers[i]`` is the row number a person sees."""

    rows: list[list[Cell]]
    numbers: list[int]
    source_format: str  # the CSV encoding, or "xlsx"


def read_table(path: Path) -> Table:
    """Read ``path`` by its suffix, or raise ``ImportFileError`` saying why it cannot be read."""
    if not path.is_file():
        raise ImportFileError(f"找不到文件 {path}")
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES:
        return _read_csv(path)
    if suffix in XLSX_SUFFIXES:
        return _read_xlsx(path)
    if suffix == ".xls":
        raise ImportFileError(
            f"文件 {path.name} 是旧版 Excel (.xls) 格式,请另存为 .xlsx 或 CSV 后再导入"
        )
    raise ImportFileError(f"文件 {path.name} 的格式不支持:请导入 CSV (.csv) 或 Excel (.xlsx) 文件")


def decode(data: bytes, filename: str) -> tuple[str, str]:
    """The text of a CSV file and its encoding (UTF-8 with or without BOM, UTF-16, GB18030)."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        # Excel's "Unicode text" export
        candidates: tuple[str, ...] = ("utf-16",)
    else:
        candidates = ("utf-8-sig", "gb18030")
    for encoding in candidates:
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise ImportFileError(f"文件 {filename} 的编码无法识别:应为 UTF-8 或 GBK/GB18030 编码的 CSV")


def _delimiter(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _read_csv(path: Path) -> Table:
    data = path.read_bytes()
    if data.startswith(b"PK\x03\x04"):
        raise ImportFileError(f"文件 {path.name} 实际是 Excel 文件,请把扩展名改为 .xlsx")
    text, encoding = decode(data, path.name)
    if "\x00" in text:
        raise ImportFileError(f"文件 {path.name} 不是文本格式的 CSV 文件")
    first_line = text.split("\n", 1)[0]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(first_line))
    rows: list[list[Cell]] = []
    numbers: list[int] = []
    try:
        # counting records, not lines: a quoted cell spanning lines is still one spreadsheet row
        for number, record in enumerate(reader, start=1):
            if any(cell.strip() for cell in record):
                rows.append(list(record))
                numbers.append(number)
    except csv.Error as exc:
        raise ImportFileError(f"文件 {path.name} 第 {reader.line_num} 行无法解析: {exc}") from exc
    return Table(rows, numbers, encoding)


def _read_xlsx(path: Path) -> Table:
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError) as exc:
        raise ImportFileError(f"文件 {path.name} 不是有效的 Excel (.xlsx) 文件: {exc}") from exc
    try:
        sheet = workbook.worksheets[0]
        # some writers leave wrong dimensions behind, which would make read-only mode stop early
        sheet.reset_dimensions()
        rows: list[list[Cell]] = []
        numbers: list[int] = []
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            if any(_filled(value) for value in values):
                rows.append(list(values))
                numbers.append(number)
    finally:
        workbook.close()
    return Table(rows, numbers, "xlsx")


def _filled(value: object) -> bool:
    return value is not None and (not isinstance(value, str) or bool(value.strip()))
