"""DMS import: file formats, header mapping, row checks, idempotent upsert, CLI, sample export."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from click.testing import CliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from callcenter.cli import cli
from callcenter.config import Settings
from callcenter.demo.sample_dms import sample_rows, write_sample_export
from callcenter.ids import CallbackKind, VisitKind
from callcenter.importer import (
    ImportFileError,
    ImportReport,
    MappingError,
    check_digit,
    import_file,
    normalise_phone,
    normalise_vin,
)
from callcenter.importer.values import parse_when
from callcenter.models import Customer, Dealership, ImportRun, Sale, ServiceVisit, Vehicle
from callcenter.schedule.scheduler import schedule_callbacks

HEADER = (
    "客户编号",
    "客户姓名",
    "联系电话",
    "车牌号",
    "车架号",
    "车型",
    "交车日期",
    "销售顾问",
    "工单号",
    "维修类型",
    "服务顾问",
    "结算日期",
    "行驶里程",
    "结算金额",
)
MODELS = (Customer, Vehicle, ServiceVisit, Sale)


def vin(serial: int) -> str:
    """A well-formed VIN with a correct check digit."""
    body = f"LFV2A21K0S3{serial:06d}"
    return body[:8] + check_digit(body) + body[9:]


def bad_check_digit(good: str) -> str:
    return good[:8] + ("0" if good[8] != "0" else "1") + good[9:]


def write_csv(path: Path, rows: Sequence[Sequence[str]], *, encoding: str = "utf-8") -> Path:
    with path.open("w", encoding=encoding, newline="") as handle:
        csv.writer(handle).writerows(rows)
    return path


def row(**cells: str) -> list[str]:
    """A data row under HEADER; cells named by header."""
    return [cells.get(name, "") for name in HEADER]


def good_rows() -> list[list[str]]:
    return [
        row(
            客户编号="C001",
            客户姓名="张伟",
            联系电话="138 1234 5678",
            车牌号="粤B12345",
            车架号=vin(1),
            车型="迈腾",
            工单号="WX001",
            维修类型="保养",
            服务顾问="刘洋",
            结算日期="2026-11-20 10:00",
            行驶里程="12,500",
            结算金额="¥680.50",
        ),
        row(
            客户编号="C002",
            客户姓名="李娜",
            联系电话="+86 139-1234-5678",
            车架号=vin(2),
            交车日期="2026年11月18日",
            销售顾问="周杰",
        ),
        row(客户编号="C003", 客户姓名="王芳", 联系电话="010-12345678", 车架号=vin(3)),
    ]


def counts(session: Session) -> dict[str, int]:
    return {m.__name__: session.scalar(select(func.count()).select_from(m)) or 0 for m in MODELS}


def run(session: Session, path: Path, dealership: Dealership, settings: Settings) -> ImportReport:
    return import_file(session, path, dealership_id=dealership.id, settings=settings)


# --- file formats ------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_csv_encodings_import_the_same_rows(
    session: Session, dealership: Dealership, settings: Settings, tmp_path: Path, encoding: str
) -> None:
    path = write_csv(tmp_path / "dms.csv", [HEADER, *good_rows()], encoding=encoding)
    report = run(session, path, dealership, settings)

    assert report.errors == []
    assert (report.rows_total, report.rows_imported) == (3, 3)
    names = set(session.scalars(select(Customer.name)))
    assert names == {"张伟", "李娜", "王芳"}  # decoded, not mojibake
    visit = session.scalars(select(ServiceVisit)).one()
    assert visit.repair_order_no == "WX001"
    assert visit.kind == VisitKind.MAINTENANCE
    assert visit.service_advisor == "刘洋"
    # a local time in Asia/Shanghai is stored as UTC
    assert visit.delivered_at == datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
    assert visit.amount_yuan == Decimal("680.50")
    assert visit.mileage_km == 12500
    sale = session.scalars(select(Sale)).one()
    assert sale.sales_consultant == "周杰"
    assert sale.delivered_at == datetime(2026, 11, 17, 16, 0, tzinfo=UTC)
    vehicle = session.scalars(select(Vehicle).where(Vehicle.vin == vin(2))).one()
    assert vehicle.delivery_date == date(2026, 11, 18)


def test_xlsx_with_excel_cell_types(
    session: Session, dealership: Dealership, settings: Settings, tmp_path: Path
) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["DMS 维修工单导出"])  # a title line above the header, as exports often have
    sheet.append(["客户姓名", "手机号", "VIN", "车型", "工单号", "维修类型", "交车时间", "金额"])
    sheet.append(
        [
            "赵磊",
            13812345678,
            vin(10),
            "速腾",
            "WX100",
            "维修",
            datetime(2026, 11, 19, 15, 30),
            1280.5,
        ]
    )
    sheet.append([None] * 8)  # a blank row between records
    sheet.append(["孙婷", "0755 1234567", vin(11), "宝来", "WX101", "事故", date(2026, 11, 18), 0])
    path = tmp_path / "dms.xlsx"
    workbook.save(path)

    report = run(session, path, dealership, settings)

    assert report.errors == []
    assert report.rows_total == 2
    phones = {name: phone for name, phone in session.execute(select(Customer.name, Customer.phone))}
    assert phones == {"赵磊": "13812345678", "孙婷": "07551234567"}
    visits = {v.repair_order_no: v for v in session.scalars(select(ServiceVisit))}
    assert visits["WX100"].delivered_at == datetime(2026, 11, 19, 7, 30, tzinfo=UTC)
    assert visits["WX100"].amount_yuan == Decimal("1280.50")
    assert visits["WX101"].kind == VisitKind.INSURANCE
    assert visits["WX101"].delivered_at == datetime(2026, 11, 17, 16, 0, tzinfo=UTC)


def test_xlsx_error_rows_use_sheet_row_numbers(
    session: Session, dealership: Dealership, settings: Settings, tmp_path: Path
) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["客户姓名", "联系电话", "车架号"])
    sheet.append(["赵磊", "13812345678", vin(20)])
    sheet.append([None, None, None])
    sheet.append(["孙婷", "12345", vin(21)])
    path = tmp_path / "dms.xlsx"
    workbook.save(path)

    report = run(session, path, dealership, settings)

    assert [(e.row, e.field) for e in report.errors] == [(4, "联系电话")]


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("dms.json", b"{}", "格式不支持"),
        ("dms.xls", b"\xd0\xcf\x11\xe0", ".xls"),
        ("dms.xlsx", b"not a zip", "不是有效的 Excel"),
        ("dms.csv", b"", "没有数据"),
        ("dms.csv", "姓名,车牌号\n张三,粤B1\n".encode(), "缺少必需的列"),
    ],
)
def test_unreadable_files_raise_a_clear_error(
    session: Session,
    dealership: Dealership,
    settings: Settings,
    tmp_path: Path,
    name: str,
    content: bytes,
    expected: str,
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ImportFileError) as caught:
        run(session, path, dealership, settings)
    assert expected in str(caught.value)
    assert name in str(caught.value)
    assert session.scalar(select(func.count()).select_from(ImportRun)) == 0


def test_missing_headers_are_named(
    session: Session, dealership: Dealership, settings: Settings, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "dms.csv", [["姓名", "工单号", "备注"], ["张三", "WX1", ""]])
    with pytest.raises(ImportFileError) as caught:
        run(session, path, dealership, settings)
    message = str(caught.value)
    # always needed, and needed because the file has repair orders
    for label in ("联系电话", "车架号", "结算日期", "维修类型"):
        assert label in message
    assert "客户姓名" not in message


# --- row checks --------------------------------------------------------------------------


def test_bad_rows_are_named_and_good_rows_imported(
    session: Session, dealership: Dealership, settings: Settings, tmp_path: Path
) -> None:
    visit = {
        "客户编号": "C100",
        "客户姓名": "周敏",
        "联系电话": "13600000001",
        "车架号": vin(100),
        "工单号": "WX100",
        "维修类型": "保养",
        "结算日期": "2026/11/19 09:30",
    }
    rows = [
        HEADER,
        row(**visit),  # 2: good
        row(**(visit | {"客户姓名": "", "工单号": "WX102"})),  # 3: missing name
        row(**(visit | {"联系电话": "", "工单号": "WX103"})),  # 4: missing phone
        row(**(visit | {"联系电话": "1360000", "工单号": "WX104"})),  # 5: bad phone
        row(**(visit | {"结算日期": "2026-02-30", "工单号": "WX105"})),  # 6: bad date
        row(**(visit | {"车架号": bad_check_digit(vin(106)), "工单号": "WX106"})),  # 7
        row(**(visit | {"维修类型": "洗车", "工单号": "WX107"})),  # 8: unknown kind
        row(**(visit | {"结算金额": "-50", "工单号": "WX108"})),  # 9: negative amount
        row(**visit),  # 10: duplicate repair order of row 2
        row(**(visit | {"车架号": "LFV2A21K0S3O00001", "工单号": "WX111"})),  # 11: letter O
        row(**(visit | {"工单号": "WX112", "结算日期": "2026/11/18 16:00"})),  # 12: good
    ]
    path = write_csv(tmp_path / "dms.csv", rows)

    report = run(session, path, dealership, settings)

    found = {(e.row, e.field): e for e in report.errors}
    assert set(found) == {
        (3, "客户姓名"),
        (4, "联系电话"),
        (5, "联系电话"),
        (6, "结算日期"),
        (7, "车架号"),
        (8, "维修类型"),
        (9, "结算金额"),
        (10, "工单号"),
        (11, "车架号"),
    }
    assert "缺少客户姓名" in found[(3, "客户姓名")].reason
    assert "缺少联系电话" in found[(4, "联系电话")].reason
    assert found[(5, "联系电话")].value == "1360000"
    assert "不存在" in found[(6, "结算日期")].reason
    assert "校验位" in found[(7, "车架号")].reason
    assert "未知的维修类型" in found[(8, "维修类型")].reason
    assert found[(9, "结算金额")].reason == "金额不能为负数"
    assert found[(10, "工单号")].reason == "工单号与第 2 行重复"
    assert "I、O、Q" in found[(11, "车架号")].reason
    assert (report.rows_total, report.rows_imported) == (11, 2)
    assert set(session.scalars(select(ServiceVisit.repair_order_no))) == {"WX100", "WX112"}
    assert report.counts["service_visit"]["created"] == 2
    assert report.counts["customer"]["created"] == 1

    stored = session.get(ImportRun, report.import_run_id)
    assert stored is not None
    assert (stored.rows_total, stored.rows_imported, stored.rows_failed) == (11, 2, 9)
    assert {(e["row"], e["field"]) for e in stored.errors} == set(found)
    assert stored.summary["counts"] == report.counts
    assert len(stored.sha256) == 64

    text = report.format()
    assert "第 10 行" in text and "工单号与第 2 行重复" in text


def test_duplicate_sale_of_one_vehicle_in_a_file(
    session: Session, dealership: Dealership, settings: Settings, tmp_path: Path
) -> None:
    sale = {"客户姓名": "李娜", "联系电话": "13900000000", "车架号": vin(7)}
    sale |= {"交车日期": "2026-11-10", "销售顾问": "周杰"}
    path = write_csv(tmp_path / "dms.csv", [HEADER, row(**sale), row(**sale)])

    report = run(session, path, dealership, settings)

    assert [(e.row, e.field, e.reason) for e in report.errors] == [
        (3, "车架号", "同一车辆的新车销售记录与第 2 行重复")
    ]
    assert session.scalar(select(func.count()).select_from(Sale)) == 1


def test_row_kinds_visit_sale_or_only_customer_and_vehicle(
    session: Session, dealership: Dealership, settings: Settings, tmp_path: Path
) -> None:
    base = {"客户姓名": "王芳", "联系电话": "13700000000"}
    rows = [
        HEADER,
        # a repair order makes a visit even when the delivery date and consultant are filled in
        row(
            **base,
            车架号=vin(1),
            工单号="WX1",
            维修类型="维修",
            结算日期="2026-11-01",
            交车日期="2025-01-01",
            销售顾问="周杰",
        ),
        row(**base, 车架号=vin(2), 交车日期="2026-11-02", 销售顾问="周杰"),  # sale
        row(**base, 车架号=vin(3), 交车日期="2026-11-03"),  # no consultant: vehicle only
    ]
    path = write_csv(tmp_path / "dms.csv", rows)

    report = run(session, path, dealership, settings)

    assert report.errors == []
    assert counts(session) == {"Customer": 3, "Vehicle": 3, "ServiceVisit": 1, "Sale": 1}
    sale = session.scalars(select(Sale)).one()
    assert session.get(Vehicle, sale.vehicle_id).vin == vin(2)  # type: ignore[union-attr]


def test_unknown_headers_are_listed_once(
    session: Session, dealership: Dealership, settings: Settings, tmp_path: Path
) -> None:
    rows = [
        ["客户姓名", "联系电话", "车架号", "备注", "积分"],
        ["张三", "13800000000", vin(1), "老客户", "100"],
        ["李四", "13800000001", vin(2), "", "20"],
    ]
    report = run(session, write_csv(tmp_path / "dms.csv", rows), dealership, settings)
    assert report.ignored_headers == ["备注", "积分"]
    assert report.format().count("备注") == 1


# --- upsert ------------------------------------------------------------------------------


def test_reimport_changes_nothing(
    session: Session, dealership: Dealership, settings: Settings, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "dms.csv", [HEADER, *good_rows()])
    first = run(session, path, dealership, settings)
    before = counts(session)

    second = run(session, path, dealership, settings)

    assert counts(session) == before == {"Customer": 3, "Vehicle": 3, "ServiceVisit": 1, "Sale": 1}
    for entity, expected in (("customer", 3), ("vehicle", 3), ("service_visit", 1), ("sale", 1)):
        assert first.counts[entity] == {"created": expected, "updated": 0, "unchanged": 0}
        assert second.counts[entity] == {"created": 0, "updated": 0, "unchanged": expected}
    assert session.scalar(select(func.count()).select_from(ImportRun)) == 2


def test_updated_phone_updates_the_customer(
    session: Session, dealership: Dealership, settings: Settings, tmp_path: Path
) -> None:
    rows = [list(HEADER), *good_rows()]
    run(session, write_csv(tmp_path / "v1.csv", rows), dealership, settings)
    customer = session.scalars(select(Customer).where(Customer.dms_customer_id == "C001")).one()
    customer.wrong_number_at = datetime(2026, 11, 21, tzinfo=UTC)
    session.commit()

    rows[1][HEADER.index("联系电话")] = "0086 186 0000 1111"
    report = run(session, write_csv(tmp_path / "v2.csv", rows), dealership, settings)

    assert report.counts["customer"] == {"created": 0, "updated": 1, "unchanged": 2}
    assert report.counts["vehicle"]["unchanged"] == 3
    session.refresh(customer)
    assert customer.phone == "18600001111"
    assert customer.wrong_number_at is None  # the new number has not been proven wrong
    assert counts(session)["Customer"] == 3


def test_vehicle_owner_is_the_customer_key_without_a_customer_number(
    session: Session, dealership: Dealership, settings: Settings, tmp_path: Path
) -> None:
    first = [["客户姓名", "联系电话", "车架号"], ["陈晓", "13500000000", vin(5)]]
    run(session, write_csv(tmp_path / "a.csv", first), dealership, settings)
    later = [
        ["客户编号", "客户姓名", "联系电话", "车架号", "工单号", "维修类型", "结算日期"],
        ["C900", "陈晓", "13500000000", vin(5), "WX9", "保养", "2026-11-19"],
        ["", "陈晓", "13500000000", vin(5), "WX10", "维修", "2026-11-20"],
    ]

    report = run(session, write_csv(tmp_path / "b.csv", later), dealership, settings)

    assert report.errors == []
    customer = session.scalars(select(Customer)).one()  # adopted the number, no second customer
    assert customer.dms_customer_id == "C900"
    assert report.counts["customer"] == {"created": 0, "updated": 1, "unchanged": 0}
    visits = session.scalars(select(ServiceVisit)).all()
    assert {v.customer_id for v in visits} == {customer.id}


def test_vehicle_moves_to_its_new_owner(
    session: Session, dealership: Dealership, settings: Settings, tmp_path: Path
) -> None:
    header = ["客户编号", "客户姓名", "联系电话", "车架号"]
    run(
        session,
        write_csv(tmp_path / "a.csv", [header, ["C1", "甲", "13500000000", vin(8)]]),
        dealership,
        settings,
    )
    rows = [header, ["C2", "乙", "13500000001", vin(8)]]

    report = run(session, write_csv(tmp_path / "b.csv", rows), dealership, settings)

    assert report.counts["vehicle"] == {"created": 0, "updated": 1, "unchanged": 0}
    vehicle = session.scalars(select(Vehicle)).one()
    owner = session.get(Customer, vehicle.customer_id)
    assert owner is not None and owner.dms_customer_id == "C2"


def test_a_vin_of_another_dealership_is_refused(
    session: Session, dealership: Dealership, settings: Settings, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "dms.csv", [HEADER, *good_rows()])
    run(session, path, dealership, settings)
    other = Dealership(code="other", name="另一家店", timezone="Asia/Shanghai")
    session.add(other)
    session.commit()

    report = run(session, path, other, settings)

    assert report.rows_imported == 0
    assert {(e.row, e.field) for e in report.errors} == {
        (2, "工单号"),
        (2, "车架号"),
        (3, "车架号"),
        (4, "车架号"),
    }
    assert counts(session)["Customer"] == 3


def test_configured_header_alias(
    session: Session, dealership: Dealership, settings: Settings, tmp_path: Path
) -> None:
    rows = [["车主", "移动电话", "车辆识别代号"], ["刘洋", "13912345678", vin(3)]]
    path = write_csv(tmp_path / "dms.csv", rows)
    with pytest.raises(ImportFileError, match="缺少必需的列"):
        run(session, path, dealership, settings)

    settings.import_mapping = {"name": ["车主"], "phone": ["移动电话"], "vin": ["车辆识别代号"]}
    report = run(session, path, dealership, settings)

    assert report.rows_imported == 1
    assert session.scalars(select(Customer.phone)).one() == "13912345678"


def test_mapping_to_an_unknown_field_is_a_config_error(
    session: Session, dealership: Dealership, settings: Settings, tmp_path: Path
) -> None:
    settings.import_mapping = {"telephone": ["移动电话"]}
    path = write_csv(tmp_path / "dms.csv", [HEADER, *good_rows()])
    with pytest.raises(MappingError, match="telephone"):
        run(session, path, dealership, settings)


def test_report_csv(
    session: Session, dealership: Dealership, settings: Settings, tmp_path: Path
) -> None:
    rows = [HEADER, row(客户姓名="张三", 联系电话="12345", 车架号=vin(1))]
    report = run(session, write_csv(tmp_path / "dms.csv", rows), dealership, settings)

    written = report.write(tmp_path / "out" / "report.csv")

    with written.open(encoding="utf-8-sig", newline="") as handle:
        lines = list(csv.reader(handle))
    assert lines[0] == ["行号", "字段", "值", "原因"]
    assert lines[1][:3] == ["2", "联系电话", "12345"]
    assert lines[1][3] == "手机号应为11位,实际为5位"


# --- phone numbers and VINs --------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("13812345678", "13812345678"),
        ("138 1234 5678", "13812345678"),
        ("138-1234-5678", "13812345678"),
        ("+86 138 1234 5678", "13812345678"),
        ("+8613812345678", "13812345678"),
        ("0086 13812345678", "13812345678"),
        ("8613812345678", "13812345678"),
        ("19912345678", "19912345678"),
        ("１３８１２３４５６７８", "13812345678"),  # full-width digits
        ("010-12345678", "01012345678"),
        ("(010) 1234 5678", "01012345678"),
        ("+86 10 1234 5678", "01012345678"),
        ("021 6666 8888", "02166668888"),
        ("0755 1234567", "07551234567"),
        ("0755-12345678", "075512345678"),
        ("0086 571 8888 8888", "057188888888"),
    ],
)
def test_normalise_phone(raw: str, expected: str) -> None:
    assert normalise_phone(raw) == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "缺少联系电话"),
        ("12345678", "缺少区号"),
        ("11234567890", "13–19"),
        ("1381234567", "11位"),
        ("138123456789", "位"),
        ("1.38123E+10", "科学计数法"),
        ("138-1234-abcd", "只能包含数字"),
        ("+1 650 253 0000", "不是中国大陆号码"),
        ("010-12345678-8001", "位数"),
    ],
)
def test_bad_phone_numbers(raw: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        normalise_phone(raw)


@pytest.mark.parametrize(
    ("good", "digit"),
    [("1M8GDM9AXKP042788", "X"), ("11111111111111111", "1"), ("5GZCZ43D13S812715", "1")],
)
def test_vin_check_digit(good: str, digit: str) -> None:
    assert check_digit(good) == digit
    assert normalise_vin(good.lower()) == good
    with pytest.raises(ValueError, match="校验位"):
        normalise_vin(bad_check_digit(good))


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("LFV2A21K", "17位"),
        ("LFV2A21K5E30187261", "17位"),
        ("LFV2A21K5E3O18726", "I、O、Q"),
        ("LFV2A21K5E3-18726", "数字和大写字母"),
    ],
)
def test_bad_vins(raw: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        normalise_vin(raw)


# --- command line ------------------------------------------------------------------------


def test_cli_imports_and_writes_the_report(
    session: Session, dealership: Dealership, settings: Settings, tmp_path: Path
) -> None:
    rows = [HEADER, *good_rows(), row(客户姓名="钱七", 联系电话="", 车架号=vin(9))]
    path = write_csv(tmp_path / "导出.csv", rows, encoding="gb18030")
    report_path = tmp_path / "report.csv"
    instance = ["--instance", str(settings.instance_dir)]

    result = CliRunner().invoke(cli, [*instance, "import", str(path), "--report", str(report_path)])

    assert result.exit_code == 0, result.output
    assert "导入 3 行,有问题 1 行" in result.output
    assert "第 5 行" in result.output and "缺少联系电话" in result.output
    assert str(report_path) in result.output
    assert "5" in report_path.read_text(encoding="utf-8-sig")
    assert counts(session)["Customer"] == 3

    again = CliRunner().invoke(cli, [*instance, "import", str(path), "--dealership", "demo"])
    assert again.exit_code == 0, again.output
    assert "新增 0,更新 0,未变 3" in again.output
    reports = list((settings.instance_dir / "import-reports").glob("导出-*.csv"))
    assert len(reports) == 1 and str(reports[0]) in again.output
    assert counts(session)["Customer"] == 3


def test_cli_unreadable_file_exits_2_without_traceback(
    dealership: Dealership, settings: Settings, tmp_path: Path
) -> None:
    instance = ["--instance", str(settings.instance_dir)]
    for path in (tmp_path / "missing.csv", tmp_path / "dms.pdf"):
        if path.suffix == ".pdf":
            path.write_bytes(b"%PDF")
        result = CliRunner().invoke(cli, [*instance, "import", str(path)])
        assert result.exit_code == 2
        assert path.name in result.output
        assert "Traceback" not in result.output
        assert result.exception is None or isinstance(result.exception, SystemExit)


def test_cli_needs_a_known_dealership(
    session: Session, dealership: Dealership, settings: Settings, tmp_path: Path
) -> None:
    session.add(Dealership(code="second", name="第二家店", timezone="Asia/Shanghai"))
    session.commit()
    path = write_csv(tmp_path / "dms.csv", [HEADER, *good_rows()])
    instance = ["--instance", str(settings.instance_dir)]

    several = CliRunner().invoke(cli, [*instance, "import", str(path)])
    unknown = CliRunner().invoke(cli, [*instance, "import", str(path), "--dealership", "nope"])
    chosen = CliRunner().invoke(cli, [*instance, "import", str(path), "--dealership", "second"])

    assert several.exit_code == 1 and "--dealership" in several.output
    assert unknown.exit_code == 1 and "nope" in unknown.output
    assert chosen.exit_code == 0, chosen.output
    owners = set(session.scalars(select(Customer.dealership_id)))
    assert owners == {session.scalar(select(Dealership.id).where(Dealership.code == "second"))}


# --- the demo's sample export ------------------------------------------------------------


def test_sample_export_imports_with_exactly_the_planted_bad_rows(
    session: Session, dealership: Dealership, settings: Settings, tmp_path: Path
) -> None:
    today = date(2026, 11, 20)
    path = write_sample_export(tmp_path / "sample.csv", today=today)
    planted = {
        (number, sample.planted)
        for number, sample in enumerate(sample_rows(today=today), start=2)
        if sample.planted
    }

    report = run(session, path, dealership, settings)

    assert path.read_bytes().decode("gb18030").startswith("客户编号,客户姓名")
    assert {(e.row, e.field) for e in report.errors} == planted
    assert {field for _, field in planted} == {
        "联系电话",
        "结算日期",
        "车架号",
        "工单号",
        "客户姓名",
    }
    assert report.rows_total == 60
    assert report.rows_imported == 55
    assert report.ignored_headers == ["备注"]
    assert (
        write_sample_export(tmp_path / "again.csv", today=today).read_bytes() == path.read_bytes()
    )


def test_sample_export_is_dated_relative_to_today() -> None:
    for today in (date(2026, 3, 2), date(2027, 12, 31)):
        rows = sample_rows(today=today)
        handed_back = [
            parse_when(r.cells["结算日期"]).date() for r in rows if r.purpose == "service_3dc"
        ]
        delivered = [
            parse_when(r.cells["交车日期"]).date() for r in rows if r.purpose == "sales_7dc"
        ]
        assert len(handed_back) >= 10 and all(1 <= (today - d).days <= 10 for d in handed_back)
        assert len(delivered) >= 5 and all(1 <= (today - d).days <= 7 for d in delivered)


def test_sample_export_reaches_every_scheduled_callback_kind(
    session: Session, dealership: Dealership, settings: Settings, tmp_path: Path
) -> None:
    today = date(2026, 11, 20)
    run(session, write_sample_export(tmp_path / "sample.csv", today=today), dealership, settings)

    now = datetime.combine(today, time(9), ZoneInfo("Asia/Shanghai"))
    result = schedule_callbacks(session, settings, now=now)

    scheduled = {kind for kind, n in result.created.items() if n}
    assert scheduled == {kind.value for kind in CallbackKind} - {"complaint_followup"}


def test_sample_export_scales_for_benchmarks() -> None:
    rows = sample_rows(today=date(2026, 11, 20), rows=2000)
    assert len(rows) == 2000
    assert sum(1 for r in rows if r.planted) == 5
    orders = [r.cells["工单号"] for r in rows if r.cells["工单号"] and not r.planted]
    assert len(orders) == len(set(orders))


def test_progress_bar_on_request(
    session: Session,
    dealership: Dealership,
    settings: Settings,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = write_csv(tmp_path / "dms.csv", [HEADER, *good_rows()])
    import_file(session, path, dealership_id=dealership.id, settings=settings)
    assert "导入 dms.csv" not in capsys.readouterr().err

    import_file(session, path, dealership_id=dealership.id, settings=settings, progress=True)
    assert "导入 dms.csv" in capsys.readouterr().err
