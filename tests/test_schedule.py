"""Callback scheduling: working days, each callback kind, DNC, re-runs, overdue and the CLI."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from itertools import count
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, event, func, select
from sqlalchemy.orm import Session

from callcenter.cli import cli
from callcenter.config import ConfigError, ScheduleSettings, Settings
from callcenter.ids import CallbackKind, CallbackStatus, VisitKind
from callcenter.models import (
    Call,
    Callback,
    Complaint,
    Customer,
    Dealership,
    DncEntry,
    Sale,
    ServiceVisit,
    Ticket,
    Vehicle,
)
from callcenter.schedule import (
    WorkingCalendar,
    create_complaint_followup,
    is_dnc,
    phone_key,
    schedule_callbacks,
)
from callcenter.schedule.calendar import working_day_end
from callcenter.schedule.rules import estimate_km_per_day, next_service_due, reminder_sequence

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(text: str, tz: ZoneInfo = SHANGHAI) -> datetime:
    """A local wall-clock time, e.g. ``at("2026-11-20 15:00")``."""
    return datetime.fromisoformat(text).replace(tzinfo=tz)


class Shop:
    """Makes customers, cars, visits and sales of one dealership, as the importer would."""

    def __init__(self, session: Session, dealership: Dealership) -> None:
        self.session = session
        self.dealership = dealership
        self.numbers = count(1)

    def _add(self, row: Any) -> Any:
        self.session.add(row)
        self.session.flush()
        return row

    def customer(self, phone: str | None = None, **fields: Any) -> Customer:
        n = next(self.numbers)
        return self._add(
            Customer(
                dealership_id=self.dealership.id,
                dms_customer_id=f"C{n:05d}",
                name=f"客户{n}",
                phone=phone or f"1380013{n:04d}",
                **fields,
            )
        )

    def vehicle(self, customer: Customer) -> Vehicle:
        n = next(self.numbers)
        return self._add(Vehicle(customer_id=customer.id, vin=f"LSVAM4187C2{n:06d}"))

    def visit(
        self,
        customer: Customer,
        delivered_at: datetime,
        *,
        vehicle: Vehicle | None = None,
        kind: VisitKind = VisitKind.MAINTENANCE,
        km: int | None = None,
    ) -> ServiceVisit:
        vehicle = vehicle or self.vehicle(customer)
        return self._add(
            ServiceVisit(
                customer_id=customer.id,
                vehicle_id=vehicle.id,
                repair_order_no=f"RO{next(self.numbers):06d}",
                kind=kind,
                delivered_at=delivered_at,
                mileage_km=km,
            )
        )

    def sale(
        self, customer: Customer, delivered_at: datetime, vehicle: Vehicle | None = None
    ) -> Sale:
        vehicle = vehicle or self.vehicle(customer)
        return self._add(
            Sale(customer_id=customer.id, vehicle_id=vehicle.id, delivered_at=delivered_at)
        )


@pytest.fixture
def shop(session: Session, dealership: Dealership) -> Shop:
    return Shop(session, dealership)


def callbacks(session: Session) -> dict[str, Callback]:
    return {cb.dedupe_key: cb for cb in session.scalars(select(Callback))}


def keys_of(session: Session, kind: CallbackKind) -> set[str]:
    return {key for key, cb in callbacks(session).items() if cb.kind == kind}


# --- working-day calendar ---------------------------------------------------------------------


def test_working_days_skip_the_weekend() -> None:
    calendar = WorkingCalendar(holidays=[], extra_workdays=[])
    friday = date(2026, 11, 20)
    assert not calendar.is_working_day(date(2026, 11, 21))  # Saturday
    assert calendar.add_working_days(friday, 1) == date(2026, 11, 23)  # Monday
    assert calendar.add_working_days(friday, 3) == date(2026, 11, 25)  # Wednesday
    assert calendar.add_working_days(friday, 0) == friday


def test_working_days_skip_holidays_and_count_make_up_workdays() -> None:
    golden_week = [date(2026, 10, 1) + timedelta(days=i) for i in range(7)]
    without_make_up = WorkingCalendar(holidays=golden_week, extra_workdays=[])
    with_make_up = WorkingCalendar(holidays=golden_week, extra_workdays=[date(2026, 10, 10)])
    wednesday = date(2026, 9, 30)
    assert not with_make_up.is_working_day(date(2026, 10, 5))  # a Monday inside the holiday
    assert with_make_up.is_working_day(date(2026, 10, 10))  # a Saturday made a workday
    assert without_make_up.add_working_days(wednesday, 3) == date(2026, 10, 12)
    assert with_make_up.add_working_days(wednesday, 3) == date(2026, 10, 10)


def test_calendar_from_settings_parses_dates_and_names_a_bad_one() -> None:
    rules = ScheduleSettings(holidays=["2026-11-24"], extra_workdays=["2026-11-28"])
    calendar = WorkingCalendar.from_settings(rules)
    assert not calendar.is_working_day(date(2026, 11, 24))
    assert calendar.is_working_day(date(2026, 11, 28))
    with pytest.raises(ConfigError, match="schedule.holidays.*2026/10/01"):
        WorkingCalendar.from_settings(ScheduleSettings(holidays=["2026/10/01"]))


def test_callbacks_fall_due_at_the_end_of_working_hours() -> None:
    assert working_day_end(["08:30", "17:45"]) == time(17, 45)
    with pytest.raises(ConfigError, match="working_hours"):
        working_day_end(["18:30"])


# --- pure reminder rules ----------------------------------------------------------------------


def test_distance_per_day_comes_from_the_odometer_history() -> None:
    readings = [(date(2026, 6, 2), 4000), (date(2026, 8, 1), 10000)]
    assert estimate_km_per_day(readings, default=40.0) == pytest.approx(100.0)
    assert estimate_km_per_day(readings[:1], default=40.0) == 40.0
    # two readings a week apart say too little
    assert estimate_km_per_day([(date(2026, 8, 1), 1), (date(2026, 8, 8), 900)], 40.0) == 40.0


def test_next_service_is_the_earlier_of_time_and_distance() -> None:
    since = date(2026, 8, 1)
    assert next_service_due(since, months=6, km=5000, km_per_day=40.0) == date(2026, 12, 4)
    assert next_service_due(since, months=6, km=50000, km_per_day=40.0) == date(2027, 2, 1)


def test_reminder_sequence_opens_windows_in_order_and_expires() -> None:
    due = date(2026, 12, 4)
    assert reminder_sequence(due, date(2026, 11, 19), [14, 3], 7) is None
    assert reminder_sequence(due, date(2026, 11, 20), [14, 3], 7) == 1
    assert reminder_sequence(due, date(2026, 12, 1), [3, 14], 7) == 2
    assert reminder_sequence(due, date(2026, 12, 11), [14, 3], 7) == 2
    assert reminder_sequence(due, date(2026, 12, 12), [14, 3], 7) is None


# --- service_3dc ------------------------------------------------------------------------------


def test_service_3dc_due_three_working_days_after_handback_across_weekend(
    session: Session, settings: Settings, shop: Shop
) -> None:
    customer = shop.customer()
    visit = shop.visit(customer, at("2026-11-20 15:00"))  # Friday afternoon
    result = schedule_callbacks(session, settings, at("2026-11-20 16:00"))
    callback = callbacks(session)[f"service_3dc:visit:{visit.id}"]
    assert callback.due_at == at("2026-11-25 18:30")  # Mon, Tue, Wed; end of working hours
    assert (callback.kind, callback.customer_id, callback.visit_id) == (
        CallbackKind.SERVICE_3DC,
        customer.id,
        visit.id,
    )
    assert callback.status == CallbackStatus.PENDING and not callback.overdue
    assert result.created[CallbackKind.SERVICE_3DC] == 1


def test_service_3dc_skips_a_holiday(session: Session, settings: Settings, shop: Shop) -> None:
    settings.schedule.holidays = ["2026-11-24"]
    visit = shop.visit(shop.customer(), at("2026-11-20 15:00"))
    schedule_callbacks(session, settings, at("2026-11-20 16:00"))
    assert callbacks(session)[f"service_3dc:visit:{visit.id}"].due_at == at("2026-11-26 18:30")


def test_service_3dc_counts_a_make_up_workday(
    session: Session, settings: Settings, shop: Shop
) -> None:
    settings.schedule.holidays = [f"2026-10-0{day}" for day in range(1, 8)]
    settings.schedule.extra_workdays = ["2026-10-10"]  # Saturday
    visit = shop.visit(shop.customer(), at("2026-09-30 17:00"))
    schedule_callbacks(session, settings, at("2026-09-30 17:30"))
    assert callbacks(session)[f"service_3dc:visit:{visit.id}"].due_at == at("2026-10-10 18:30")


def test_service_3dc_waits_for_handback_and_respects_lookback(
    session: Session, settings: Settings, shop: Shop
) -> None:
    customer = shop.customer()
    later_today = shop.visit(customer, at("2026-11-23 15:00"))
    too_old = shop.visit(customer, at("2026-10-23 09:00"))  # 31 days before now
    recent = shop.visit(customer, at("2026-10-25 10:00"))  # 29 days, a Sunday
    schedule_callbacks(session, settings, at("2026-11-23 10:00"))
    keys = keys_of(session, CallbackKind.SERVICE_3DC)
    assert keys == {f"service_3dc:visit:{recent.id}"}
    old_but_in_window = callbacks(session)[f"service_3dc:visit:{recent.id}"]
    assert old_but_in_window.due_at == at("2026-10-28 18:30")
    assert old_but_in_window.overdue  # created late, so overdue at once, not dropped
    assert f"service_3dc:visit:{too_old.id}" not in keys

    schedule_callbacks(session, settings, at("2026-11-23 15:30"))
    assert f"service_3dc:visit:{later_today.id}" in keys_of(session, CallbackKind.SERVICE_3DC)


# --- sales_7dc --------------------------------------------------------------------------------


def test_sales_7dc_due_seven_days_after_local_delivery_date(
    session: Session, settings: Settings, shop: Shop
) -> None:
    sale = shop.sale(shop.customer(), at("2026-11-20 23:30"))  # 15:30 UTC, still the 20th here
    result = schedule_callbacks(session, settings, at("2026-11-20 23:00"))
    assert result.created[CallbackKind.SALES_7DC] == 0  # not delivered yet
    schedule_callbacks(session, settings, at("2026-11-21 09:00"))
    callback = callbacks(session)[f"sales_7dc:sale:{sale.id}"]
    assert callback.due_at == at("2026-11-27 18:30")
    assert callback.sale_id == sale.id and callback.visit_id is None


def test_local_dates_follow_the_dealership_time_zone(session: Session, settings: Settings) -> None:
    urumqi = ZoneInfo("Asia/Urumqi")  # UTC+6, two hours behind Beijing
    dealer = Dealership(code="xj", name="乌鲁木齐4S店", timezone="Asia/Urumqi")
    session.add(dealer)
    session.flush()
    shop = Shop(session, dealer)
    sale = shop.sale(shop.customer(), at("2026-11-20 23:00", urumqi))  # the 21st in Beijing
    schedule_callbacks(session, settings, at("2026-11-21 09:00", urumqi))
    assert callbacks(session)[f"sales_7dc:sale:{sale.id}"].due_at == at("2026-11-27 18:30", urumqi)


def test_sales_7dc_respects_lookback(session: Session, settings: Settings, shop: Shop) -> None:
    old = shop.sale(shop.customer(), at("2026-10-20 10:00"))
    schedule_callbacks(session, settings, at("2026-11-23 10:00"))
    assert f"sales_7dc:sale:{old.id}" not in callbacks(session)


# --- lost_customer ----------------------------------------------------------------------------


def test_lost_customer_after_six_months_without_a_visit(
    session: Session, settings: Settings, shop: Shop
) -> None:
    lapsed = shop.customer()
    lapsed_visit = shop.visit(lapsed, at("2026-05-20 10:00"))
    recent = shop.customer()
    shop.visit(recent, at("2026-06-01 10:00"))
    bought_again = shop.customer()
    shop.visit(bought_again, at("2025-12-01 10:00"))
    shop.sale(bought_again, at("2026-09-01 10:00"))
    never_visited = shop.customer()
    only_sale = shop.sale(never_visited, at("2026-01-10 10:00"))

    schedule_callbacks(session, settings, at("2026-11-23 10:00"))

    assert keys_of(session, CallbackKind.LOST_CUSTOMER) == {
        f"lost_customer:visit:{lapsed_visit.id}",
        f"lost_customer:sale:{only_sale.id}",
    }
    callback = callbacks(session)[f"lost_customer:visit:{lapsed_visit.id}"]
    assert callback.due_at == at("2026-11-30 18:30")
    assert callback.customer_id == lapsed.id and callback.visit_id == lapsed_visit.id


def test_lost_customer_coming_back_cancels_and_a_new_lapse_calls_again(
    session: Session, settings: Settings, shop: Shop
) -> None:
    customer = shop.customer()
    first = shop.visit(customer, at("2026-05-20 10:00"))
    schedule_callbacks(session, settings, at("2026-11-23 10:00"))
    old = callbacks(session)[f"lost_customer:visit:{first.id}"]

    comeback = shop.visit(customer, at("2026-12-01 10:00"))
    result = schedule_callbacks(session, settings, at("2026-12-02 10:00"))
    assert old.status == CallbackStatus.CANCELLED and "回厂" in (old.note or "")
    assert result.cancelled_returned == 1
    assert f"lost_customer:visit:{comeback.id}" not in callbacks(session)

    schedule_callbacks(session, settings, at("2027-06-05 10:00"))
    assert f"lost_customer:visit:{comeback.id}" in callbacks(session)


# --- service_reminder -------------------------------------------------------------------------


def test_service_reminders_two_weeks_before_and_again_when_near(
    session: Session, settings: Settings, shop: Shop
) -> None:
    # no odometer history: 40 km/day, 5000 km after 125 days (2026-12-04) beats 6 months
    visit = shop.visit(shop.customer(), at("2026-08-01 10:00"), km=10000)
    schedule_callbacks(session, settings, at("2026-11-19 10:00"))
    assert keys_of(session, CallbackKind.SERVICE_REMINDER) == set()

    schedule_callbacks(session, settings, at("2026-11-20 10:00"))
    first = callbacks(session)[f"service_reminder:visit:{visit.id}:1"]
    assert first.due_at == at("2026-11-22 18:30") and first.sequence == 1

    schedule_callbacks(session, settings, at("2026-11-30 10:00"))
    assert keys_of(session, CallbackKind.SERVICE_REMINDER) == {first.dedupe_key}

    schedule_callbacks(session, settings, at("2026-12-01 10:00"))
    second = callbacks(session)[f"service_reminder:visit:{visit.id}:2"]
    assert second.due_at == at("2026-12-03 18:30") and second.sequence == 2
    assert first.overdue and first.status == CallbackStatus.PENDING


def test_service_reminder_uses_the_cars_own_distance_per_day(
    session: Session, settings: Settings, shop: Shop
) -> None:
    customer = shop.customer()
    car = shop.vehicle(customer)
    shop.sale(customer, at("2026-06-02 10:00"), vehicle=car)  # new car, 0 km
    visit = shop.visit(customer, at("2026-08-01 10:00"), vehicle=car, km=6000)
    # 6000 km in 60 days = 100 km/day → 5000 km more by 2026-09-20; window opens 09-06
    schedule_callbacks(session, settings, at("2026-09-05 10:00"))
    assert keys_of(session, CallbackKind.SERVICE_REMINDER) == set()
    schedule_callbacks(session, settings, at("2026-09-06 10:00"))
    assert keys_of(session, CallbackKind.SERVICE_REMINDER) == {
        f"service_reminder:visit:{visit.id}:1"
    }


def test_service_reminder_by_time_when_distance_is_far(
    session: Session, settings: Settings, shop: Shop
) -> None:
    settings.schedule.service_interval_km = 100000
    visit = shop.visit(shop.customer(), at("2026-08-01 10:00"))  # due 2027-02-01 by time
    schedule_callbacks(session, settings, at("2027-01-17 10:00"))
    assert keys_of(session, CallbackKind.SERVICE_REMINDER) == set()
    schedule_callbacks(session, settings, at("2027-01-18 10:00"))
    assert f"service_reminder:visit:{visit.id}:1" in callbacks(session)


def test_service_reminder_late_start_sends_one_and_expired_sends_none(
    session: Session, settings: Settings, shop: Shop
) -> None:
    late = shop.visit(shop.customer(), at("2026-08-01 10:00"))  # service due 2026-12-04
    schedule_callbacks(session, settings, at("2026-12-02 10:00"))
    assert keys_of(session, CallbackKind.SERVICE_REMINDER) == {
        f"service_reminder:visit:{late.id}:2"
    }
    expired = shop.visit(shop.customer(), at("2026-08-09 10:00"))  # due 2026-12-12
    schedule_callbacks(session, settings, at("2026-12-20 10:00"))  # 8 days past due
    assert not any(f":visit:{expired.id}:" in key for key in callbacks(session))


def test_service_reminder_cancelled_when_the_car_comes_in(
    session: Session, settings: Settings, shop: Shop
) -> None:
    customer = shop.customer()
    car = shop.vehicle(customer)
    anchor = shop.visit(customer, at("2026-08-01 10:00"), vehicle=car)
    shop.visit(customer, at("2026-09-10 10:00"), vehicle=car, kind=VisitKind.REPAIR)
    schedule_callbacks(session, settings, at("2026-11-20 10:00"))
    reminder = callbacks(session)[f"service_reminder:visit:{anchor.id}:1"]  # old repair: no reset

    shop.visit(customer, at("2026-11-25 10:00"), vehicle=car, kind=VisitKind.REPAIR)
    result = schedule_callbacks(session, settings, at("2026-11-26 10:00"))
    assert reminder.status == CallbackStatus.CANCELLED and result.cancelled_returned == 1
    schedule_callbacks(session, settings, at("2026-12-01 10:00"))
    assert f"service_reminder:visit:{anchor.id}:2" not in callbacks(session)


def test_new_maintenance_visit_replaces_the_reminder(
    session: Session, settings: Settings, shop: Shop
) -> None:
    customer = shop.customer()
    car = shop.vehicle(customer)
    anchor = shop.visit(customer, at("2026-08-01 10:00"), vehicle=car)
    schedule_callbacks(session, settings, at("2026-11-20 10:00"))
    reminder = callbacks(session)[f"service_reminder:visit:{anchor.id}:1"]
    newer = shop.visit(customer, at("2026-11-21 10:00"), vehicle=car)
    schedule_callbacks(session, settings, at("2026-11-23 10:00"))
    assert reminder.status == CallbackStatus.CANCELLED
    assert not any(
        f":visit:{newer.id}:" in key for key in keys_of(session, CallbackKind.SERVICE_REMINDER)
    )


# --- first_service_reminder -------------------------------------------------------------------


def test_first_service_reminder_before_the_first_service(
    session: Session, settings: Settings, shop: Shop
) -> None:
    customer = shop.customer()
    car = shop.vehicle(customer)
    sale = shop.sale(customer, at("2026-09-01 10:00"), vehicle=car)  # first service 2026-12-01
    schedule_callbacks(session, settings, at("2026-11-16 10:00"))
    assert keys_of(session, CallbackKind.FIRST_SERVICE_REMINDER) == set()

    schedule_callbacks(session, settings, at("2026-11-17 10:00"))
    reminder = callbacks(session)[f"first_service_reminder:sale:{sale.id}"]
    assert reminder.due_at == at("2026-11-19 18:30") and reminder.sale_id == sale.id

    shop.visit(customer, at("2026-11-18 10:00"), vehicle=car)
    schedule_callbacks(session, settings, at("2026-11-18 12:00"))
    assert reminder.status == CallbackStatus.CANCELLED


def test_no_first_service_reminder_once_serviced(
    session: Session, settings: Settings, shop: Shop
) -> None:
    customer = shop.customer()
    car = shop.vehicle(customer)
    sale = shop.sale(customer, at("2026-09-01 10:00"), vehicle=car)
    shop.visit(customer, at("2026-11-01 10:00"), vehicle=car)
    schedule_callbacks(session, settings, at("2026-11-17 10:00"))
    assert f"first_service_reminder:sale:{sale.id}" not in callbacks(session)


# --- complaint_followup -----------------------------------------------------------------------


def _ticket(session: Session, customer: Customer, call: Call | None = None) -> Ticket:
    complaint = Complaint(
        customer_id=customer.id,
        call_id=call.id if call else None,
        category="wait_time",
        text="等的时间太长了",
    )
    session.add(complaint)
    session.flush()
    opened = at("2026-11-23 10:00")
    ticket = Ticket(
        complaint_id=complaint.id,
        customer_id=customer.id,
        category="wait_time",
        opened_at=opened,
        first_contact_due=opened + timedelta(hours=24),
        resolve_due=opened + timedelta(hours=48),
    )
    session.add(ticket)
    session.flush()
    return ticket


def test_complaint_followup_created_once_and_linked(
    session: Session, settings: Settings, shop: Shop
) -> None:
    customer = shop.customer()
    visit = shop.visit(customer, at("2026-11-20 15:00"))
    schedule_callbacks(session, settings, at("2026-11-21 10:00"))
    survey = callbacks(session)[f"service_3dc:visit:{visit.id}"]
    call = Call(callback_id=survey.id, customer_number=customer.phone)
    session.add(call)
    session.flush()
    ticket = _ticket(session, customer, call)

    followup = create_complaint_followup(session, ticket, settings, at("2026-11-25 14:00"))
    assert followup.dedupe_key == f"complaint_followup:ticket:{ticket.id}"
    assert followup.due_at == at("2026-11-26 14:00")
    assert followup.kind == CallbackKind.COMPLAINT_FOLLOWUP
    assert followup.visit_id == visit.id  # the agent sees which visit the complaint was about
    assert ticket.followup_callback_id == followup.id

    again = create_complaint_followup(session, ticket, settings, at("2026-11-25 16:00"))
    assert again.id == followup.id and again.due_at == at("2026-11-26 14:00")
    total = session.scalar(
        select(func.count()).where(Callback.kind == CallbackKind.COMPLAINT_FOLLOWUP)
    )
    assert total == 1


def test_complaint_followup_for_a_dnc_customer_is_cancelled(
    session: Session, settings: Settings, dealership: Dealership, shop: Shop
) -> None:
    customer = shop.customer(phone="13900139000")
    session.add(DncEntry(dealership_id=dealership.id, phone="13900139000"))
    followup = create_complaint_followup(
        session, _ticket(session, customer), settings, at("2026-11-25 14:00")
    )
    assert followup.status == CallbackStatus.CANCELLED


# --- DNC and wrong numbers --------------------------------------------------------------------


def test_phone_key_ignores_country_code_and_separators() -> None:
    assert phone_key("+86 138-0013-8000") == phone_key("13800138000") == "13800138000"
    assert phone_key("010-62345678") == phone_key("+86 10 6234 5678")


def test_dnc_customers_get_no_callbacks_and_open_ones_are_cancelled(
    session: Session, settings: Settings, dealership: Dealership, shop: Shop
) -> None:
    customer = shop.customer(phone="13800138000")
    other = shop.customer()
    visit = shop.visit(customer, at("2026-11-20 15:00"))
    shop.visit(other, at("2026-11-20 15:00"))
    schedule_callbacks(session, settings, at("2026-11-20 16:00"))
    open_one = callbacks(session)[f"service_3dc:visit:{visit.id}"]
    done = Callback(
        dedupe_key="sales_7dc:sale:manual",
        kind=CallbackKind.SALES_7DC,
        customer_id=customer.id,
        due_at=at("2026-11-19 18:30"),
        status=CallbackStatus.COMPLETED,
    )
    session.add(done)
    session.add(DncEntry(dealership_id=dealership.id, phone="+86 138-0013-8000", reason="客户要求"))
    session.commit()
    assert is_dnc(session, customer) and not is_dnc(session, other)

    second_visit = shop.visit(customer, at("2026-11-21 11:00"))
    result = schedule_callbacks(session, settings, at("2026-11-21 12:00"))
    assert open_one.status == CallbackStatus.CANCELLED and "免打扰" in (open_one.note or "")
    assert done.status == CallbackStatus.COMPLETED  # history is kept as it was
    assert result.cancelled_dnc == 1 and result.skipped_dnc == 1
    assert f"service_3dc:visit:{second_visit.id}" not in callbacks(session)
    assert result.created[CallbackKind.SERVICE_3DC] == 0


def test_wrong_numbers_are_skipped_until_verified(
    session: Session, settings: Settings, shop: Shop
) -> None:
    customer = shop.customer(wrong_number_at=at("2026-11-01 10:00"))
    visit = shop.visit(customer, at("2026-11-20 15:00"))
    result = schedule_callbacks(session, settings, at("2026-11-20 16:00"))
    assert result.skipped_wrong_number == 1 and result.skipped_dnc == 0
    assert f"service_3dc:visit:{visit.id}" not in callbacks(session)

    customer.phone_verified_at = at("2026-11-21 09:00")
    schedule_callbacks(session, settings, at("2026-11-21 10:00"))
    assert f"service_3dc:visit:{visit.id}" in callbacks(session)


# --- re-runs, overdue, efficiency -------------------------------------------------------------


def _mixed_book(shop: Shop, customers: int) -> None:
    """Customers with a fresh visit, a fresh sale, a lapsed visit and a reminder due."""
    for _ in range(customers):
        customer = shop.customer()
        shop.visit(customer, at("2026-11-20 15:00"), km=20000)
        shop.sale(customer, at("2026-11-19 10:00"))
        shop.visit(shop.customer(), at("2026-04-01 10:00"))
        shop.visit(shop.customer(), at("2026-08-01 10:00"), km=8000)


def test_rerun_creates_no_duplicates(session: Session, settings: Settings, shop: Shop) -> None:
    _mixed_book(shop, 3)
    first = schedule_callbacks(session, settings, at("2026-11-21 10:00"))
    rows = session.scalar(select(func.count()).select_from(Callback))
    assert first.created[CallbackKind.SERVICE_3DC] == 3
    assert first.created[CallbackKind.SALES_7DC] == 3
    assert first.created[CallbackKind.LOST_CUSTOMER] == 3
    assert first.created[CallbackKind.SERVICE_REMINDER] == 3
    assert rows == sum(first.created.values())

    second = schedule_callbacks(session, settings, at("2026-11-21 10:05"))
    assert sum(second.created.values()) == 0
    assert session.scalar(select(func.count()).select_from(Callback)) == rows


def test_overdue_is_flagged_and_kept(session: Session, settings: Settings, shop: Shop) -> None:
    customer = shop.customer()
    visit = shop.visit(customer, at("2026-11-20 15:00"))
    done = Callback(
        dedupe_key="service_3dc:visit:manual",
        kind=CallbackKind.SERVICE_3DC,
        customer_id=customer.id,
        due_at=at("2026-11-20 18:30"),
        status=CallbackStatus.COMPLETED,
    )
    session.add(done)
    schedule_callbacks(session, settings, at("2026-11-25 18:00"))
    callback = callbacks(session)[f"service_3dc:visit:{visit.id}"]
    assert not callback.overdue

    result = schedule_callbacks(session, settings, at("2026-11-25 19:00"))
    assert result.flagged_overdue == 1
    assert callback.overdue and callback.status == CallbackStatus.PENDING
    assert not done.overdue

    again = schedule_callbacks(session, settings, at("2026-12-25 10:00"))
    assert again.flagged_overdue == 0
    session.expire_all()
    kept = callbacks(session)[f"service_3dc:visit:{visit.id}"]
    assert kept.overdue and kept.status == CallbackStatus.PENDING


def test_query_count_does_not_grow_with_customers(
    engine: Engine, session: Session, settings: Settings, shop: Shop
) -> None:
    statements: list[str] = []

    def record(*args: Any) -> None:
        statements.append(args[2])

    def run(customers: int, now: str) -> int:
        _mixed_book(shop, customers)
        session.commit()
        statements.clear()
        event.listen(engine, "before_cursor_execute", record)
        try:
            result = schedule_callbacks(session, settings, at(now))
        finally:
            event.remove(engine, "before_cursor_execute", record)
        assert sum(result.created.values()) >= 4 * customers
        return len(statements)

    assert run(2, "2026-11-21 10:00") == run(40, "2026-11-21 10:00")


# --- CLI --------------------------------------------------------------------------------------


def test_cli_schedule_uses_local_time_and_prints_summary(
    session: Session, settings: Settings, shop: Shop
) -> None:
    customer = shop.customer()
    handed_back = shop.visit(customer, at("2026-11-23 09:30"))
    shop.visit(customer, at("2026-11-23 12:00"))  # not yet handed back at 10:00 local
    session.commit()

    runner = CliRunner()
    args = ["--instance", str(settings.instance_dir), "schedule", "--now", "2026-11-23 10:00"]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "售后三日回访(3DC): 1 条" in result.output
    assert "新建回访 1 条" in result.output

    session.expire_all()
    assert callbacks(session)[f"service_3dc:visit:{handed_back.id}"].due_at == at(
        "2026-11-26 18:30"
    )
    rerun = runner.invoke(cli, args)
    assert rerun.exit_code == 0 and "新建回访 0 条" in rerun.output


def test_cli_schedule_rejects_a_bad_time(settings: Settings, dealership: Dealership) -> None:
    args = ["--instance", str(settings.instance_dir), "schedule", "--now", "23/11/2026"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2
    assert "格式错误" in result.output
