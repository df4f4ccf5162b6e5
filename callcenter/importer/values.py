"""Cell values of a DMS export: text, dates and times, money and mileage, with Chinese reasons."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, date, datetime, time, tzinfo
from decimal import Decimal, InvalidOperation

from openpyxl.utils.datetime import from_excel

CENT = Decimal("0.01")
FIRST_YEAR, LAST_YEAR = 1980, 2100
DATE_PATTERN = re.compile(
    r"(?P<y>\d{4})\s*[-/.年]\s*(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})\s*日?"
    r"(?:(?:\s+|T)(?P<H>\d{1,2})\s*[:时]\s*(?P<M>\d{1,2})\s*分?"
    r"(?:\s*[:]?\s*(?P<S>\d{1,2})(?:\.\d+)?\s*秒?)?)?"
)
COMPACT_DATE = re.compile(r"(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})")
DATE_HINT = "应为日期,如 2026-11-20、2026/11/20 或 2026年11月20日(可带时间 14:30)"


def cell_text(cell: object) -> str:
    """The cell as a person reads it: stripped text, whole numbers without ``.0``."""
    if cell is None:
        return ""
    if isinstance(cell, bool):
        return str(cell)
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    if isinstance(cell, datetime):
        return cell.isoformat(sep=" ", timespec="minutes" if cell.second == 0 else "seconds")
    if isinstance(cell, date):
        return cell.isoformat()
    text = unicodedata.normalize("NFKC", str(cell)).strip()
    # Excel CSV tricks that keep long numbers as text: ="013800000000" and a leading apostrophe
    if text.startswith('="') and text.endswith('"'):
        text = text[2:-1].strip()
    return text.removeprefix("'").strip()


def parse_when(cell: object) -> datetime:
    """A date or date-time cell as a datetime (naive = local time), or ``ValueError``."""
    if isinstance(cell, datetime):
        value = cell
    elif isinstance(cell, date):
        value = datetime.combine(cell, time())
    elif isinstance(cell, int | float) and not isinstance(cell, bool):
        value = _from_number(cell)
    else:
        value = _from_text(cell_text(cell))
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise ValueError(f"日期超出合理范围({FIRST_YEAR}–{LAST_YEAR}年)")
    return value


def _from_number(number: float) -> datetime:
    if isinstance(number, int) and COMPACT_DATE.fullmatch(str(number)):
        return _from_text(str(number))
    if 1 <= number < 2958466:  # an Excel serial day number (cell not formatted as a date)
        result = from_excel(number)
        if isinstance(result, datetime):
            return result
    raise ValueError(DATE_HINT)


def _from_text(text: str) -> datetime:
    if not text:
        raise ValueError("缺少日期")
    match = DATE_PATTERN.fullmatch(text) or COMPACT_DATE.fullmatch(text)
    if match is None:
        try:
            return datetime.fromisoformat(text)  # ISO 8601 with a zone offset
        except ValueError:
            raise ValueError(DATE_HINT) from None
    parts = match.groupdict()
    try:
        return datetime(
            int(parts["y"]),
            int(parts["m"]),
            int(parts["d"]),
            int(parts.get("H") or 0),
            int(parts.get("M") or 0),
            int(parts.get("S") or 0),
        )
    except ValueError:
        raise ValueError(f"日期或时间不存在;{DATE_HINT}") from None


def to_utc(value: datetime, zone: tzinfo) -> datetime:
    """``value`` in UTC; a naive value is a local time of ``zone``."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone)
    return value.astimezone(UTC)


def to_local_date(value: datetime, zone: tzinfo) -> date:
    """The calendar date of ``value`` at the dealership."""
    return value.date() if value.tzinfo is None else value.astimezone(zone).date()


def _number_text(cell: object, units: tuple[str, ...]) -> str:
    text = cell_text(cell).replace(",", "").replace(" ", "")
    for unit in units:
        text = text.removeprefix(unit).removesuffix(unit)
    return text


def parse_amount(cell: object) -> Decimal:
    """A money amount in yuan, two decimals, not negative, or ``ValueError``."""
    if isinstance(cell, float):
        cell = round(cell, 2)
    text = _number_text(cell, ("¥", "元", "RMB"))
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise ValueError("金额应为数字,如 1280.50") from None
    if not amount.is_finite():
        raise ValueError("金额应为数字,如 1280.50")
    if amount < 0:
        raise ValueError("金额不能为负数")
    return amount.quantize(CENT)


def parse_mileage(cell: object) -> int:
    """An odometer reading in whole kilometres, not negative, or ``ValueError``."""
    text = _number_text(cell, ("km", "KM", "Km", "公里"))
    try:
        kilometres = Decimal(text)
    except InvalidOperation:
        raise ValueError("里程应为公里数,如 12500") from None
    if not kilometres.is_finite():
        raise ValueError("里程应为公里数,如 12500")
    if kilometres < 0:
        raise ValueError("里程不能为负数")
    return int(kilometres.to_integral_value())
