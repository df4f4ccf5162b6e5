"""A realistic DMS export for the demo and benchmarks, dated relative to a given day.

The rows are what a Chinese dealer management system exports to Excel and saves as CSV
(GB18030, Chinese headers, mixed date and phone formats): service visits handed back in the
last days, older history, new-car deliveries, a lost customer, cars nearing their first or next
service, and a handful of bad rows an import must name.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from pathlib import Path

from callcenter.importer.vin import check_digit

HEADERS = (
    "客户编号",
    "客户姓名",
    "联系电话",
    "车牌号",
    "车架号",
    "车型",
    "购车日期",
    "交车日期",
    "销售顾问",
    "订单号",
    "工单号",
    "维修类型",
    "服务顾问",
    "结算日期",
    "行驶里程",
    "结算金额",
    "备注",
)
DEFAULT_ROWS = 60
ENCODING = "gb18030"

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾萧田董潘袁蔡蒋余于杜叶程"
)
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍鹏辉建国文斌志红海波宁欣怡浩然子轩雨涵"
)
MOBILE_PREFIXES = (
    "130 131 132 133 135 136 137 138 139 150 151 152 155 156 158 159 "
    "166 176 177 180 181 182 186 187 188 189 191 199"
).split()
MODELS = (
    "迈腾 2024款 330TSI 豪华型",
    "速腾 2025款 300TSI 超越版",
    "宝来 2024款 1.5L 自动悦行版",
    "探岳 2025款 330TSI 两驱豪华型",
    "揽境 2024款 380TSI 四驱豪华佳境版",
    "ID.4 CROZZ 2024款 PRO",
    "CC 2024款 380TSI 夺目版",
    "高尔夫 2024款 280TSI 尊享版",
    "探歌 2024款 280TSI 两驱舒适型",
    "探影 2024款 1.5L 自动悦智联版",
)
SERVICE_ADVISORS = ("刘洋", "陈晓东", "王佳", "赵磊", "孙婷")
SALES_CONSULTANTS = ("李娜", "周杰", "吴倩", "郑浩", "黄敏")
KINDS = {"保养": (350, 1600), "维修": (300, 6000), "事故": (2000, 18000), "保险": (1500, 12000)}
NOTES = ("", "", "", "", "客户要求洗车", "下次保养提醒", "已预约下次保养", "客户自带机油")
VIN_VDS = ("2A21K", "3A28H", "6A13C", "5F21T", "8C36B")
VIN_YEARS = "GHJKLMNPRSTVWXY"  # model years 2016 … 2030
PLATE_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"
PLATE_CHARS = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"


@dataclass(frozen=True)
class SampleRow:
    """One exported row; ``planted`` names the header of the field made bad on purpose."""

    cells: dict[str, str]
    purpose: str  # which scenario the row serves (callback kind, "history", "bad: …")
    planted: str | None = None
    reason: str | None = None


@dataclass
class _Car:
    vin: str
    plate: str
    model: str
    purchased: date | None
    delivered: date | None
    km_per_day: float


@dataclass
class _Customer:
    dms_id: str
    name: str
    phone: str
    cars: list[_Car] = field(default_factory=list)


@dataclass
class _Event:
    """A row before it is formatted: sorted by ``at`` so the export reads like a DMS one."""

    at: datetime
    cells: dict[str, str]
    purpose: str


class _Generator:
    def __init__(self, today: date, seed: int) -> None:
        self.today = today
        self.rng = random.Random(seed)  # noqa: S311 - sample data, reproducible by design
        self.customer_seq = 0
        self.vin_seq = self.rng.randrange(100000, 400000)
        self.order_seq = 0
        self.sale_seq = 0
        self.phones: set[str] = set()
        self.plates: set[str] = set()
        self.events: list[_Event] = []

    # people and cars ----------------------------------------------------------------------
    def customer(self) -> _Customer:
        self.customer_seq += 1
        rng = self.rng
        name = rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.choice((1, 2, 2))))
        return _Customer(f"C{202000 + self.customer_seq:06d}", name, self._phone())

    def _phone(self) -> str:
        rng = self.rng
        while True:
            if rng.random() < 0.08:
                digits = "0755" + str(rng.randrange(2, 9)) + f"{rng.randrange(10**7):07d}"
                shown = f"{digits[:4]}-{digits[4:]}"
            else:
                digits = rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"
                shown = rng.choice(
                    (
                        digits,
                        digits,
                        digits,
                        f"{digits[:3]} {digits[3:7]} {digits[7:]}",
                        f"+86 {digits}",
                        f"{digits[:3]}-{digits[3:7]}-{digits[7:]}",
                    )
                )
            if digits not in self.phones:
                self.phones.add(digits)
                return shown

    def vin(self) -> str:
        self.vin_seq += 1
        rng = self.rng
        body = (
            "LFV"
            + rng.choice(VIN_VDS)
            + "0"
            + rng.choice(VIN_YEARS[6:11])
            + rng.choice("356")
            + f"{self.vin_seq:06d}"
        )
        return body[:8] + check_digit(body) + body[9:]

    def _plate(self) -> str:
        while True:
            plate = "粤B" + self.rng.choice(PLATE_LETTERS)
            plate += "".join(self.rng.choices(PLATE_CHARS, k=4))
            if plate not in self.plates:
                self.plates.add(plate)
                return plate

    def car(self, owner: _Customer, delivered_days_ago: int | None, km_per_day: float) -> _Car:
        delivered = None if delivered_days_ago is None else self.days_ago(delivered_days_ago)
        purchased = None if delivered is None else delivered - timedelta(self.rng.randint(2, 20))
        car = _Car(
            self.vin(), self._plate(), self.rng.choice(MODELS), purchased, delivered, km_per_day
        )
        owner.cars.append(car)
        return car

    def age_days(self, car: _Car) -> int:
        """Days since the car was delivered (old cars of unknown delivery count as old)."""
        return (self.today - car.delivered).days if car.delivered else 2000

    def days_ago(self, days: int) -> date:
        return self.today - timedelta(days=days)

    # rows ---------------------------------------------------------------------------------
    def _base(self, owner: _Customer, car: _Car, *, with_id: bool = True) -> dict[str, str]:
        return {
            "客户编号": owner.dms_id if with_id else "",
            "客户姓名": owner.name,
            "联系电话": owner.phone,
            "车牌号": car.plate,
            "车架号": car.vin,
            "车型": car.model,
            "购车日期": _date_text(car.purchased, self.rng),
            "备注": self.rng.choice(NOTES),
        }

    def visit(
        self,
        owner: _Customer,
        car: _Car,
        days_ago: int,
        purpose: str,
        *,
        kind: str | None = None,
        km: int | None = None,
        with_id: bool = True,
    ) -> _Event:
        """A repair order handed back ``days_ago`` days before today, during working hours."""
        rng = self.rng
        day = self.days_ago(days_ago)
        handed_back = datetime.combine(day, time(rng.randint(9, 17), rng.choice((0, 10, 25, 40))))
        kind = kind or rng.choices(list(KINDS), weights=(6, 3, 1, 1))[0]
        low, high = KINDS[kind]
        if km is None:
            since = (day - car.delivered).days if car.delivered else rng.randint(300, 1500)
            km = max(30, int(since * car.km_per_day) + rng.randint(-300, 300))
        self.order_seq += 1
        cells = self._base(owner, car, with_id=with_id) | {
            "工单号": f"WX{day:%Y%m%d}{self.order_seq:04d}",
            "维修类型": kind,
            "服务顾问": rng.choice(SERVICE_ADVISORS),
            "结算日期": _datetime_text(handed_back, rng),
            "行驶里程": f"{km:,}" if rng.random() < 0.3 else str(km),
            "结算金额": f"{rng.randint(low, high)}.{rng.choice(('00', '50', '80'))}",
        }
        event = _Event(handed_back, cells, purpose)
        self.events.append(event)
        return event

    def sale(self, owner: _Customer, car: _Car, purpose: str) -> _Event:
        """A new-car delivery on the car's delivery date."""
        assert car.delivered is not None  # noqa: S101 - sale cars are made with a delivery date
        self.sale_seq += 1
        cells = self._base(owner, car) | {
            "交车日期": _date_text(car.delivered, self.rng),
            "销售顾问": self.rng.choice(SALES_CONSULTANTS),
            "订单号": f"XS{car.delivered:%Y%m}{self.sale_seq:04d}",
        }
        event = _Event(datetime.combine(car.delivered, time(10)), cells, purpose)
        self.events.append(event)
        return event


def _date_text(day: date | None, rng: random.Random) -> str:
    if day is None:
        return ""
    return rng.choice((f"{day:%Y-%m-%d}", f"{day:%Y/%m/%d}", f"{day.year}/{day.month}/{day.day}"))


def _datetime_text(moment: datetime, rng: random.Random) -> str:
    day = moment.date()
    return rng.choice(
        (
            f"{moment:%Y-%m-%d %H:%M}",
            f"{moment:%Y/%m/%d %H:%M}",
            f"{moment:%Y-%m-%d %H:%M:%S}",
            f"{day.year}年{day.month}月{day.day}日 {moment:%H:%M}",
        )
    )


def _scenarios(gen: _Generator) -> None:
    """The rows every demo needs: one or more per callback kind the scheduler creates."""
    rng = gen.rng
    # service_3dc: cars handed back in the last 1–10 days, some with an older visit on record
    for n in range(18):
        owner = gen.customer()
        car = gen.car(owner, rng.randint(200, 1400), rng.uniform(25, 60))
        if n % 3 == 0:
            gen.visit(owner, car, rng.randint(120, 170), "history", kind="保养")
        gen.visit(owner, car, rng.randint(1, 10), "service_3dc", with_id=n % 7 != 5)
    # sales_7dc: new cars delivered in the last week
    for _ in range(8):
        owner = gen.customer()
        gen.sale(owner, gen.car(owner, rng.randint(1, 6), 40), "sales_7dc")
    # lost_customer: the last visit was more than seven months ago
    for days in (230, 270):
        owner = gen.customer()
        car = gen.car(owner, rng.randint(900, 1500), 35)
        gen.visit(owner, car, days, "lost_customer", kind="保养")
    # first_service_reminder: new cars about two weeks before their first service (3 months)
    for days in (80, 85):
        owner = gen.customer()
        gen.sale(owner, gen.car(owner, days, 40), "first_service_reminder")
    # service_reminder by distance: 40 km a day, last service 115 days ago → 5000 km in 10 days
    owner = gen.customer()
    car = gen.car(owner, None, 40)
    gen.visit(owner, car, 300, "history", kind="保养", km=18000)
    gen.visit(owner, car, 115, "service_reminder", kind="保养", km=18000 + 40 * 185)
    # service_reminder by time: 20 km a day, last service 172 days ago → 6 months in ~10 days
    owner = gen.customer()
    car = gen.car(owner, None, 20)
    gen.visit(owner, car, 400, "history", kind="保养", km=26000)
    gen.visit(owner, car, 172, "service_reminder", kind="保养", km=26000 + 20 * 228)
    # older sales whose cars have been in since, so they are neither lost nor due a 7DC
    for _ in range(5):
        owner = gen.customer()
        car = gen.car(owner, rng.randint(60, 160), rng.uniform(30, 50))
        gen.sale(owner, car, "history")
        gen.visit(owner, car, rng.randint(35, 55), "history")


def _filler(gen: _Generator) -> Iterator[None]:
    """Endless ordinary history: repeat visits of known cars and new customers' cars."""
    rng = gen.rng
    pool: list[tuple[_Customer, _Car]] = []
    while True:
        if pool and rng.random() < 0.55:
            owner, car = rng.choice(pool)
            # a car comes in for service only after it was delivered
            oldest = min(700, gen.age_days(car) - 7)
            if oldest >= 35:
                gen.visit(owner, car, rng.randint(35, oldest), "history")
                yield None
                continue
        owner = gen.customer()
        if rng.random() < 0.25:
            car = gen.car(owner, rng.randint(35, 700), rng.uniform(25, 60))
            gen.sale(owner, car, "history")
        else:
            car = gen.car(owner, rng.randint(300, 2000), rng.uniform(25, 60))
            gen.visit(owner, car, rng.randint(35, 290), "history")
        pool.append((owner, car))
        yield None


def _bad_rows(gen: _Generator, rows: list[SampleRow]) -> list[tuple[int, SampleRow]]:
    """Five rows with one planted mistake each, and where they go among the good rows."""
    rng = gen.rng
    made: list[SampleRow] = []

    def fresh_visit() -> dict[str, str]:
        owner = gen.customer()
        car = gen.car(owner, rng.randint(300, 1200), 40)
        event = gen.visit(owner, car, rng.randint(2, 9), "bad")
        gen.events.remove(event)  # placed by hand below, not sorted in with the good rows
        return dict(event.cells)

    cells = fresh_visit()
    cells["联系电话"] = ""
    made.append(SampleRow(cells, "bad: missing phone", "联系电话", "缺少联系电话"))

    cells = fresh_visit()
    cells["结算日期"] = f"{gen.today.year}/13/{rng.randint(1, 28):02d} 10:30"
    made.append(SampleRow(cells, "bad: date", "结算日期", "日期或时间不存在"))

    cells = fresh_visit()
    vin = cells["车架号"]
    wrong = "X" if vin[8] != "X" else "0"
    cells["车架号"] = vin[:8] + wrong + vin[9:]
    made.append(SampleRow(cells, "bad: VIN", "车架号", "校验位"))

    owner = gen.customer()
    car = gen.car(owner, rng.randint(1, 6), 40)
    event = gen.sale(owner, car, "bad: missing name")
    gen.events.remove(event)
    cells = dict(event.cells)
    cells["客户姓名"] = ""
    made.append(SampleRow(cells, "bad: missing name", "客户姓名", "缺少客户姓名"))

    # a repair order exported twice, the second time with a corrected amount
    originals = [i for i, row in enumerate(rows) if row.purpose == "service_3dc"]
    original = originals[len(originals) // 2]
    cells = dict(rows[original].cells)
    cells["结算金额"] = f"{float(cells['结算金额']) + 120:.2f}"
    duplicate = SampleRow(cells, "bad: duplicate repair order", "工单号", "重复")

    positions = sorted(rng.sample(range(2, len(rows)), len(made)))
    placed = list(zip(positions, made, strict=True))
    placed.append((min(original + 3, len(rows)), duplicate))
    return placed


def sample_rows(*, today: date, seed: int = 7, rows: int = DEFAULT_ROWS) -> list[SampleRow]:
    """The rows of the sample export, in file order (the header is row 1, these start at 2)."""
    gen = _Generator(today, seed)
    _scenarios(gen)
    filler = _filler(gen)
    bad_count = 5
    while len(gen.events) + bad_count < rows:
        next(filler)
    ordered = sorted(gen.events, key=lambda event: event.at)
    result = [SampleRow({h: e.cells.get(h, "") for h in HEADERS}, e.purpose) for e in ordered]
    # inserting from the end keeps the earlier positions valid
    for position, row in sorted(_bad_rows(gen, result), key=lambda p: p[0], reverse=True):
        result.insert(position, replace(row, cells={h: row.cells.get(h, "") for h in HEADERS}))
    return result


def write_sample_export(
    path: str | Path, *, today: date, seed: int = 7, rows: int = DEFAULT_ROWS
) -> Path:
    """Write the sample DMS export as a GB18030 CSV (like a Chinese Excel export); returns it."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("w", encoding=ENCODING, newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(HEADERS)
        for row in sample_rows(today=today, seed=seed, rows=rows):
            writer.writerow([row.cells[h] for h in HEADERS])
    return target
