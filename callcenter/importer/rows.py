"""One row of a DMS export checked and turned into customer, vehicle, visit and sale values."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from decimal import Decimal
from functools import lru_cache
from typing import TypeVar

from callcenter.ids import VisitKind
from callcenter.importer.fields import VISIT_KIND_ALIASES, ColumnMap
from callcenter.importer.report import RowError
from callcenter.importer.values import (
    cell_text,
    parse_amount,
    parse_mileage,
    parse_when,
    to_local_date,
    to_utc,
)
from callcenter.importer.vin import normalise_vin
from callcenter.phone import normalise_phone

T = TypeVar("T")
# a customer's number repeats on every row of theirs; parsing it is the slowest check
_normalise_phone = lru_cache(maxsize=1 << 16)(normalise_phone)
MAX_TEXT = {"customer_id": 64, "name": 64, "plate": 16, "model": 64, "repair_order_no": 64}
MAX_TEXT_DEFAULT = 64


@dataclass(frozen=True)
class VisitValues:
    repair_order_no: str
    kind: VisitKind
    service_advisor: str | None
    delivered_at: datetime  # UTC
    amount_yuan: Decimal | None
    mileage_km: int | None


@dataclass(frozen=True)
class SaleValues:
    delivered_at: datetime  # UTC
    sales_consultant: str
    order_no: str | None


@dataclass(frozen=True)
class ParsedRow:
    """A row that passed every check; ``None`` fields were empty in the file."""

    row: int
    dms_customer_id: str | None
    name: str
    phone: str
    vin: str
    plate: str | None
    model: str | None
    purchase_date: date | None
    delivery_date: date | None
    mileage_km: int | None
    visit: VisitValues | None
    sale: SaleValues | None


class RowParser:
    """Checks rows against one file's column map, collecting every problem of a row at once."""

    def __init__(self, column_map: ColumnMap, zone: tzinfo) -> None:
        self.column_map = column_map
        self.zone = zone

    def parse(
        self, number: int, cells: Sequence[object]
    ) -> tuple[ParsedRow | None, list[RowError]]:
        """The row's values, or ``None`` and the row's errors when anything is wrong."""
        row = _RowReader(number, cells, self.column_map)
        customer_id = row.text("customer_id")
        name = row.text("name", required="缺少客户姓名")
        phone = row.check("phone", _as_text(_normalise_phone), required="缺少联系电话")
        vin = row.check("vin", _as_text(normalise_vin), required="缺少车架号(VIN)")
        delivered = row.check("delivery_date", parse_when)
        purchased = row.check("purchase_date", parse_when)
        mileage = row.check("mileage", parse_mileage)
        plate, model = row.text("plate"), row.text("model")
        order_no = row.text("repair_order_no")
        visit = None if order_no is None else self._visit(row, order_no, mileage)
        sale = self._sale(row, delivered) if order_no is None else None
        if row.errors or name is None or phone is None or vin is None:
            return None, row.errors
        return (
            ParsedRow(
                row=number,
                dms_customer_id=customer_id,
                name=name,
                phone=phone,
                vin=vin,
                plate=plate,
                model=model,
                purchase_date=None if purchased is None else to_local_date(purchased, self.zone),
                delivery_date=None if delivered is None else to_local_date(delivered, self.zone),
                mileage_km=mileage,
                visit=visit,
                sale=sale,
            ),
            [],
        )

    def _visit(self, row: _RowReader, order_no: str, mileage: int | None) -> VisitValues | None:
        """A row with a repair-order number is a service visit."""
        handed_back = row.check("handed_back_at", parse_when, required="缺少结算日期(交车时间)")
        kind = row.check("kind", _visit_kind, required="缺少维修类型")
        advisor = row.text("service_advisor")
        amount = row.check("amount", parse_amount)
        if handed_back is None or kind is None:
            return None
        return VisitValues(
            repair_order_no=order_no,
            kind=kind,
            service_advisor=advisor,
            delivered_at=to_utc(handed_back, self.zone),
            amount_yuan=amount,
            mileage_km=mileage,
        )

    def _sale(self, row: _RowReader, delivered: datetime | None) -> SaleValues | None:
        """A row with a delivery date and a sales consultant (and no repair order) is a sale."""
        consultant = row.text("sales_consultant")
        if consultant is None or delivered is None:
            return None
        return SaleValues(
            delivered_at=to_utc(delivered, self.zone),
            sales_consultant=consultant,
            order_no=row.text("order_no"),
        )


def _as_text(convert: Callable[[str], T]) -> Callable[[object], T]:
    return lambda cell: convert(cell_text(cell))


def _visit_kind(cell: object) -> VisitKind:
    text = cell_text(cell)
    kind = VISIT_KIND_ALIASES.get(text) or VISIT_KIND_ALIASES.get(text.casefold())
    if kind is None:
        raise ValueError("未知的维修类型,应为 保养、维修、事故 或 保险")
    return kind


class _RowReader:
    """Reads one row's cells by field name and records a RowError for each bad one."""

    def __init__(self, number: int, cells: Sequence[object], column_map: ColumnMap) -> None:
        self.number = number
        self.cells = cells
        self.column_map = column_map
        self.errors: list[RowError] = []

    def cell(self, name: str) -> object:
        index = self.column_map.columns.get(name)
        if index is None or index >= len(self.cells):
            return None
        return self.cells[index]

    def error(self, name: str, cell: object, reason: str) -> None:
        self.errors.append(
            RowError(self.number, self.column_map.label(name), cell_text(cell), reason)
        )

    def text(self, name: str, *, required: str | None = None) -> str | None:
        """The field's text, ``None`` when empty (an error when ``required`` says why)."""
        cell = self.cell(name)
        text = cell_text(cell)
        if not text:
            if required:
                self.error(name, cell, required)
            return None
        limit = MAX_TEXT.get(name, MAX_TEXT_DEFAULT)
        if len(text) > limit:
            self.error(name, cell, f"内容过长(最多 {limit} 个字符)")
            return None
        return text

    def check(
        self, name: str, convert: Callable[[object], T], *, required: str | None = None
    ) -> T | None:
        """The field converted by ``convert``; ``None`` when empty or bad (bad → RowError)."""
        cell = self.cell(name)
        if not cell_text(cell):
            if required:
                self.error(name, cell, required)
            return None
        try:
            return convert(cell)
        except ValueError as exc:
            self.error(name, cell, str(exc))
            return None
