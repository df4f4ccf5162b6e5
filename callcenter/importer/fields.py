"""Which column of a DMS export holds which field: the header alias table and header matching."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from callcenter.config import ConfigError
from callcenter.ids import VisitKind

# field → header names seen in DMS exports (Chinese and English). Extend it with
# ``import_mapping`` in the settings rather than here when one dealer's DMS uses other names.
FIELD_ALIASES: dict[str, tuple[str, ...]] = {
    "customer_id": ("客户编号", "客户代码", "客户ID", "customer_id", "customer_no"),
    "name": ("客户姓名", "姓名", "客户名称", "车主姓名", "name", "customer_name"),
    "phone": ("联系电话", "手机", "手机号", "手机号码", "电话", "联系方式", "phone", "mobile"),
    "plate": ("车牌号", "车牌", "车牌号码", "plate", "license_plate"),
    "vin": ("VIN", "车架号", "VIN码", "底盘号", "vin"),
    "model": ("车型", "model"),
    "purchase_date": ("购车日期", "purchase_date"),
    "delivery_date": ("交车日期", "新车交车日期", "delivery_date"),
    "repair_order_no": ("工单号", "维修工单号", "委托书号", "repair_order_no", "ro_no"),
    "service_advisor": ("服务顾问", "接待员", "service_advisor"),
    "handed_back_at": ("结算日期", "结算时间", "交车时间", "handed_back_at", "settled_at"),
    "kind": ("维修类型", "kind", "visit_kind"),
    "amount": ("金额", "结算金额", "amount", "amount_yuan"),
    "mileage": ("里程", "行驶里程", "进厂里程", "mileage", "mileage_km"),
    "sales_consultant": ("销售顾问", "sales_consultant"),
    "order_no": ("订单号", "销售订单号", "order_no"),
}

# how a field is named to a person when its column is missing
FIELD_LABELS: dict[str, str] = {
    "customer_id": "客户编号",
    "name": "客户姓名",
    "phone": "联系电话",
    "plate": "车牌号",
    "vin": "车架号(VIN)",
    "model": "车型",
    "purchase_date": "购车日期",
    "delivery_date": "交车日期",
    "repair_order_no": "工单号",
    "service_advisor": "服务顾问",
    "handed_back_at": "结算日期",
    "kind": "维修类型",
    "amount": "结算金额",
    "mileage": "行驶里程",
    "sales_consultant": "销售顾问",
    "order_no": "订单号",
}

REQUIRED_FIELDS = ("name", "phone", "vin")
# a file that has one of these columns also needs the others it lists
DEPENDENT_FIELDS: dict[str, tuple[str, ...]] = {
    "repair_order_no": ("handed_back_at", "kind"),
    "sales_consultant": ("delivery_date",),
}

VISIT_KIND_ALIASES: dict[str, VisitKind] = {
    "保养": VisitKind.MAINTENANCE,
    "首保": VisitKind.MAINTENANCE,
    "定保": VisitKind.MAINTENANCE,
    "常规保养": VisitKind.MAINTENANCE,
    "定期保养": VisitKind.MAINTENANCE,
    "维修": VisitKind.REPAIR,
    "一般维修": VisitKind.REPAIR,
    "机修": VisitKind.REPAIR,
    "钣喷": VisitKind.REPAIR,
    "索赔": VisitKind.REPAIR,
    "质保": VisitKind.REPAIR,
    "事故": VisitKind.INSURANCE,
    "事故车": VisitKind.INSURANCE,
    "保险": VisitKind.INSURANCE,
    "保险理赔": VisitKind.INSURANCE,
    "事故/保险": VisitKind.INSURANCE,
    **{kind.value: kind for kind in VisitKind},
}

HEADER_SCAN_ROWS = 10  # exports often put a title line or two above the header row


class MappingError(ConfigError):
    """The configured header mapping names a field that does not exist."""


def header_key(header: str) -> str:
    """How headers are compared: full-width folded, no spaces or ``*`` marks, any case."""
    text = unicodedata.normalize("NFKC", header)
    return "".join(text.split()).strip("*").casefold()


def alias_table(extra: Mapping[str, Sequence[str]] | None = None) -> dict[str, str]:
    """Header key → field: the built-in aliases plus ``extra`` (field → more header names)."""
    table = {
        header_key(alias): name for name, aliases in FIELD_ALIASES.items() for alias in aliases
    }
    for name, aliases in (extra or {}).items():
        if name not in FIELD_ALIASES:
            known = "、".join(FIELD_ALIASES)
            raise MappingError(f"设置项 import_mapping 中的字段 {name!r} 不存在;可用字段: {known}")
        for alias in [aliases] if isinstance(aliases, str) else aliases:
            table[header_key(str(alias))] = name
    return table


@dataclass
class ColumnMap:
    """Where each known field sits in the rows, and the headers nobody asked for."""

    columns: dict[str, int] = field(default_factory=dict)  # field → column index
    headers: dict[str, str] = field(default_factory=dict)  # field → header as written in the file
    ignored: list[str] = field(default_factory=list)

    def missing(self) -> list[str]:
        """Required fields (and fields required by the columns present) that have no column."""
        needed = list(REQUIRED_FIELDS)
        for present, dependants in DEPENDENT_FIELDS.items():
            if present in self.columns:
                needed.extend(dependants)
        return [name for name in dict.fromkeys(needed) if name not in self.columns]

    def label(self, name: str) -> str:
        """The header a person sees for ``name`` (the file's own when it has the column)."""
        return self.headers.get(name, FIELD_LABELS[name])


def map_columns(header_row: Sequence[object], table: Mapping[str, str]) -> ColumnMap:
    """Match a header row against the alias table; the first column of a field wins."""
    result = ColumnMap()
    for index, cell in enumerate(header_row):
        header = "" if cell is None else str(cell).strip()
        if not header:
            continue
        name = table.get(header_key(header))
        if name is None or name in result.columns:
            result.ignored.append(header)
            continue
        result.columns[name] = index
        result.headers[name] = header
    return result


def find_header(
    rows: Sequence[Sequence[object]], table: Mapping[str, str]
) -> tuple[int, ColumnMap]:
    """The index of the header row among the first rows (the one naming most fields) and its map."""
    best_index, best = 0, ColumnMap()
    for index, row in enumerate(rows[:HEADER_SCAN_ROWS]):
        candidate = map_columns(row, table)
        if len(candidate.columns) > len(best.columns):
            best_index, best = index, candidate
    return best_index, best


def missing_message(filename: str, column_map: ColumnMap, table: Mapping[str, str]) -> str:
    """A message naming the required columns ``filename`` lacks and the header names accepted."""
    parts = []
    for name in column_map.missing():
        builtin = FIELD_ALIASES[name]
        builtin_keys = {header_key(alias) for alias in builtin}
        extra = [key for key, target in table.items() if target == name and key not in builtin_keys]
        names = [*builtin, *extra]
        parts.append(f"{FIELD_LABELS[name]}(可用列名: {'/'.join(names)})")
    return f"文件 {filename} 缺少必需的列: {';'.join(parts)}"
