"""Create due callbacks by BRIEF.md's rules: once per customer, kind and visit/sale/ticket."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from dateutil.relativedelta import relativedelta
from sqlalchemy import (
    Select,
    String,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.orm import Session, aliased

from callcenter.config import Settings
from callcenter.ids import (
    CALLBACK_KIND_LABELS,
    OPEN_CALLBACK_STATUSES,
    CallbackKind,
    CallbackStatus,
    VisitKind,
)
from callcenter.models import Call, Callback, Customer, Dealership, Sale, ServiceVisit, Ticket
from callcenter.models.base import utcnow
from callcenter.schedule.calendar import (
    WorkingCalendar,
    local_end_of_day,
    working_day_end,
    zone,
)
from callcenter.schedule.dnc import blocked_customers, is_dnc
from callcenter.schedule.rules import estimate_km_per_day, next_service_due, reminder_sequence

log = logging.getLogger(__name__)

DNC_NOTE = "客户号码在免打扰名单中,回访已自动取消"
RETURNED_NOTE = "客户已回厂,此回访不再需要,已自动取消"


@dataclass
class ScheduleResult:
    """What one scheduling run did."""

    created: dict[str, int] = field(default_factory=lambda: {k.value: 0 for k in CallbackKind})
    flagged_overdue: int = 0
    skipped_dnc: int = 0
    cancelled_dnc: int = 0
    skipped_wrong_number: int = 0
    # reminders and lost-customer callbacks whose customer came back before being reached
    cancelled_returned: int = 0

    def format(self) -> str:
        """A Chinese summary for the console."""
        lines = [f"回访排程完成:新建回访 {sum(self.created.values())} 条"]
        lines += [
            f"  {CALLBACK_KIND_LABELS[kind]}: {self.created.get(kind, 0)} 条"
            for kind in CallbackKind
        ]
        lines.append(f"新标记逾期: {self.flagged_overdue} 条")
        lines.append(
            f"免打扰客户: 跳过 {self.skipped_dnc} 条,取消未完成回访 {self.cancelled_dnc} 条"
        )
        lines.append(f"号码错误客户: 跳过 {self.skipped_wrong_number} 条")
        lines.append(f"客户已回厂: 取消过时回访 {self.cancelled_returned} 条")
        return "\n".join(lines)


def _utc(now: datetime | None) -> datetime:
    if now is None:
        return utcnow()
    if now.tzinfo is None:
        raise ValueError(f"时间 {now!r} 缺少时区,请传入带时区的时间")
    return now.astimezone(UTC)


def _cancel(callback: Callback, note: str) -> None:
    callback.status = CallbackStatus.CANCELLED
    callback.note = f"{callback.note}\n{note}" if callback.note else note


class _DealershipRun:
    """The state of one dealership's part of a run: its clock, blocked customers, known keys."""

    def __init__(
        self,
        session: Session,
        settings: Settings,
        calendar: WorkingCalendar,
        dealership: Dealership,
        now: datetime,
        existing_keys: set[str],
        result: ScheduleResult,
    ) -> None:
        self.session = session
        self.rules = settings.schedule
        self.calendar = calendar
        self.dealership_id = dealership.id
        self.now = now
        self.tz = zone(dealership.timezone or settings.timezone)
        self.local_now = now.astimezone(self.tz)
        self.today = self.local_now.date()
        self.day_end = working_day_end(settings.working_hours)
        self.existing_keys = existing_keys
        self.result = result
        self.new_rows: list[dict[str, Any]] = []  # inserted in one batch by insert_new()
        self.dnc, self.wrong_number = blocked_customers(session, dealership.id)

    def local_date(self, at: datetime) -> date:
        return at.astimezone(self.tz).date()

    def due_on(self, day: date) -> datetime:
        """The end of working hours on local ``day``, in UTC."""
        return local_end_of_day(day, self.day_end, self.tz).astimezone(UTC)

    def months_ago(self, months: int, extra_days: int = 0) -> datetime:
        return (self.local_now - relativedelta(months=months, days=extra_days)).astimezone(UTC)

    def add(
        self,
        kind: CallbackKind,
        key: str,
        customer_id: int,
        due_at: datetime,
        *,
        visit_id: int | None = None,
        sale_id: int | None = None,
        sequence: int = 1,
    ) -> None:
        """Queue the callback ``key`` unless it exists or the customer must not be called."""
        if key in self.existing_keys:
            return
        if customer_id in self.dnc:
            self.result.skipped_dnc += 1
            return
        if customer_id in self.wrong_number:
            self.result.skipped_wrong_number += 1
            return
        self.new_rows.append(
            {
                "dedupe_key": key,
                "kind": kind,
                "customer_id": customer_id,
                "visit_id": visit_id,
                "sale_id": sale_id,
                "sequence": sequence,
                "due_at": due_at,
                "status": CallbackStatus.PENDING,
                "created_at": self.now,
            }
        )
        self.existing_keys.add(key)
        self.result.created[kind] += 1

    def insert_new(self) -> None:
        """Insert the callbacks collected by ``add`` as one batch (executemany)."""
        if self.new_rows:
            self.session.execute(insert(Callback), self.new_rows)
            self.new_rows = []


def _cancel_dnc(run: _DealershipRun) -> None:
    if not run.dnc:
        return
    callbacks = run.session.scalars(
        select(Callback).where(
            Callback.customer_id.in_(run.dnc), Callback.status.in_(OPEN_CALLBACK_STATUSES)
        )
    ).all()
    for callback in callbacks:
        _cancel(callback, DNC_NOTE)
    run.result.cancelled_dnc += len(callbacks)


def _service_3dc(run: _DealershipRun) -> None:
    """One 3DC per visit handed back within the lookback, due N working days later."""
    rows = run.session.execute(
        select(ServiceVisit.id, ServiceVisit.customer_id, ServiceVisit.delivered_at)
        .join(Customer, Customer.id == ServiceVisit.customer_id)
        .where(
            Customer.dealership_id == run.dealership_id,
            ServiceVisit.delivered_at >= run.now - timedelta(days=run.rules.lookback_days),
            ServiceVisit.delivered_at <= run.now,
        )
    ).all()
    for visit_id, customer_id, delivered_at in rows:
        due_day = run.calendar.add_working_days(
            run.local_date(delivered_at), run.rules.service_3dc_working_days
        )
        run.add(
            CallbackKind.SERVICE_3DC,
            f"service_3dc:visit:{visit_id}",
            customer_id,
            run.due_on(due_day),
            visit_id=visit_id,
        )


def _sales_7dc(run: _DealershipRun) -> None:
    """One 7DC per new car delivered within the lookback, due N calendar days later."""
    rows = run.session.execute(
        select(Sale.id, Sale.customer_id, Sale.delivered_at)
        .join(Customer, Customer.id == Sale.customer_id)
        .where(
            Customer.dealership_id == run.dealership_id,
            Sale.delivered_at >= run.now - timedelta(days=run.rules.lookback_days),
            Sale.delivered_at <= run.now,
        )
    ).all()
    for sale_id, customer_id, delivered_at in rows:
        due_day = run.local_date(delivered_at) + timedelta(days=run.rules.sales_7dc_days)
        run.add(
            CallbackKind.SALES_7DC,
            f"sales_7dc:sale:{sale_id}",
            customer_id,
            run.due_on(due_day),
            sale_id=sale_id,
        )


def _lost_customers(run: _DealershipRun) -> None:
    """Customers whose latest visit or car delivery is older than the lost-customer period."""
    in_dealership = Customer.dealership_id == run.dealership_id
    activity = union_all(
        select(
            ServiceVisit.customer_id.label("customer_id"),
            ServiceVisit.delivered_at.label("at"),
            literal("visit", String(8)).label("source"),
            ServiceVisit.id.label("source_id"),
        )
        .join(Customer, Customer.id == ServiceVisit.customer_id)
        .where(in_dealership, ServiceVisit.delivered_at <= run.now),
        select(Sale.customer_id, Sale.delivered_at, literal("sale", String(8)), Sale.id)
        .join(Customer, Customer.id == Sale.customer_id)
        .where(in_dealership, Sale.delivered_at <= run.now),
    ).subquery()
    rank = func.row_number().over(
        partition_by=activity.c.customer_id,
        order_by=(activity.c.at.desc(), activity.c.source.desc(), activity.c.source_id.desc()),
    )
    latest = select(activity, rank.label("rank")).subquery()
    rows = run.session.execute(
        select(latest.c.customer_id, latest.c.source, latest.c.source_id).where(
            latest.c.rank == 1, latest.c.at < run.months_ago(run.rules.lost_customer_months)
        )
    ).all()
    due_at = run.due_on(run.today + timedelta(days=run.rules.lost_customer_due_days))
    for customer_id, source, source_id in rows:
        run.add(
            CallbackKind.LOST_CUSTOMER,
            f"lost_customer:{source}:{source_id}",
            customer_id,
            due_at,
            visit_id=source_id if source == "visit" else None,
            sale_id=source_id if source == "sale" else None,
        )


def _vehicle_history(
    run: _DealershipRun, vehicle_ids: Select[tuple[int]]
) -> tuple[dict[int, list[tuple[datetime, int | None]]], dict[int, datetime]]:
    """Visits (time, odometer) and new-car delivery time of the given vehicles, two queries."""
    visits: dict[int, list[tuple[datetime, int | None]]] = {}
    for vehicle_id, at, km in run.session.execute(
        select(ServiceVisit.vehicle_id, ServiceVisit.delivered_at, ServiceVisit.mileage_km).where(
            ServiceVisit.vehicle_id.in_(vehicle_ids), ServiceVisit.delivered_at <= run.now
        )
    ):
        visits.setdefault(vehicle_id, []).append((at, km))
    delivered = {
        vehicle_id: at
        for vehicle_id, at in run.session.execute(
            select(Sale.vehicle_id, Sale.delivered_at).where(Sale.vehicle_id.in_(vehicle_ids))
        )
    }
    return visits, delivered


def _service_reminders(run: _DealershipRun) -> set[int]:
    """Reminders before each car's next maintenance, counted from its latest maintenance visit.

    Returns the anchor visits skipped because the car came in once the reminder window opened
    (a repair long before that does not reset the maintenance interval).
    """
    rules = run.rules
    offsets = sorted(set(rules.reminder_offsets_days), reverse=True)
    if not offsets:
        return set()
    rank = func.row_number().over(
        partition_by=ServiceVisit.vehicle_id,
        order_by=(ServiceVisit.delivered_at.desc(), ServiceVisit.id.desc()),
    )
    ranked = (
        select(
            ServiceVisit.id,
            ServiceVisit.customer_id,
            ServiceVisit.vehicle_id,
            ServiceVisit.delivered_at,
            rank.label("rank"),
        )
        .join(Customer, Customer.id == ServiceVisit.customer_id)
        .where(
            Customer.dealership_id == run.dealership_id,
            ServiceVisit.kind == VisitKind.MAINTENANCE,
            ServiceVisit.delivered_at <= run.now,
        )
        .subquery()
    )
    # the time rule caps the interval, so older anchors can only be past the grace period
    anchors = (
        select(ranked.c.id, ranked.c.customer_id, ranked.c.vehicle_id, ranked.c.delivered_at)
        .where(
            ranked.c.rank == 1,
            ranked.c.delivered_at
            >= run.months_ago(rules.service_interval_months, rules.reminder_grace_days + 1),
        )
        .subquery()
    )
    rows = run.session.execute(select(anchors)).all()
    if not rows:
        return set()
    visits, delivered = _vehicle_history(run, select(anchors.c.vehicle_id))
    came_back: set[int] = set()
    due_at = run.due_on(run.today + timedelta(days=rules.reminder_due_days))
    for visit_id, customer_id, vehicle_id, anchor_at in rows:
        history = visits.get(vehicle_id, [])
        readings = [(run.local_date(at), km) for at, km in history if km is not None]
        if vehicle_id in delivered:  # a new car sold here left with (almost) nothing on the clock
            readings.append((run.local_date(delivered[vehicle_id]), 0))
        km_per_day = estimate_km_per_day(readings, rules.average_km_per_day)
        service_due = next_service_due(
            run.local_date(anchor_at),
            rules.service_interval_months,
            rules.service_interval_km,
            km_per_day,
        )
        sequence = reminder_sequence(service_due, run.today, offsets, rules.reminder_grace_days)
        if sequence is None:
            continue
        window_opened = service_due - timedelta(days=offsets[0])
        if any(at > anchor_at and run.local_date(at) >= window_opened for at, _ in history):
            came_back.add(visit_id)
            continue
        run.add(
            CallbackKind.SERVICE_REMINDER,
            f"service_reminder:visit:{visit_id}:{sequence}",
            customer_id,
            due_at,
            visit_id=visit_id,
            sequence=sequence,
        )
    return came_back


def _first_service_reminders(run: _DealershipRun) -> None:
    """One reminder before a new car's first service, while it has not been serviced yet."""
    rules = run.rules
    if not rules.reminder_offsets_days:
        return
    serviced = exists().where(
        ServiceVisit.vehicle_id == Sale.vehicle_id, ServiceVisit.delivered_at > Sale.delivered_at
    )
    rows = run.session.execute(
        select(Sale.id, Sale.customer_id, Sale.delivered_at)
        .join(Customer, Customer.id == Sale.customer_id)
        .where(
            Customer.dealership_id == run.dealership_id,
            Sale.delivered_at <= run.now,
            Sale.delivered_at
            >= run.months_ago(rules.first_service_months, rules.reminder_grace_days + 1),
            ~serviced,
        )
    ).all()
    first_offset = [max(rules.reminder_offsets_days)]
    due_at = run.due_on(run.today + timedelta(days=rules.reminder_due_days))
    for sale_id, customer_id, delivered_at in rows:
        service_due = next_service_due(
            run.local_date(delivered_at),
            rules.first_service_months,
            rules.first_service_km,
            rules.average_km_per_day,
        )
        if reminder_sequence(service_due, run.today, first_offset, rules.reminder_grace_days):
            run.add(
                CallbackKind.FIRST_SERVICE_REMINDER,
                f"first_service_reminder:sale:{sale_id}",
                customer_id,
                due_at,
                sale_id=sale_id,
            )


def _cancel_returned(run: _DealershipRun, came_back_visit_ids: set[int]) -> None:
    """Cancel open reminders and lost-customer callbacks of customers who have come back."""
    later = aliased(ServiceVisit)
    later_sale = aliased(Sale)
    anchor_visit = aliased(ServiceVisit)
    still_open = Callback.status.in_(OPEN_CALLBACK_STATUSES)
    mine = Customer.dealership_id == run.dealership_id
    serviced_again = exists().where(
        later.vehicle_id == anchor_visit.vehicle_id,
        later.kind == VisitKind.MAINTENANCE,
        later.delivered_at > anchor_visit.delivered_at,
        later.delivered_at <= run.now,
    )
    reminders = (
        select(Callback)
        .join(anchor_visit, anchor_visit.id == Callback.visit_id)
        .join(Customer, Customer.id == Callback.customer_id)
        .where(
            mine,
            still_open,
            Callback.kind == CallbackKind.SERVICE_REMINDER,
            or_(Callback.visit_id.in_(came_back_visit_ids), serviced_again),
        )
    )
    first_serviced = exists().where(
        later.vehicle_id == Sale.vehicle_id,
        later.delivered_at > Sale.delivered_at,
        later.delivered_at <= run.now,
    )
    first_reminders = (
        select(Callback)
        .join(Sale, Sale.id == Callback.sale_id)
        .join(Customer, Customer.id == Callback.customer_id)
        .where(mine, still_open, Callback.kind == CallbackKind.FIRST_SERVICE_REMINDER)
        .where(first_serviced)
    )
    anchor_at = func.coalesce(anchor_visit.delivered_at, Sale.delivered_at)
    returned = or_(
        exists().where(
            later.customer_id == Callback.customer_id,
            later.delivered_at > anchor_at,
            later.delivered_at <= run.now,
        ),
        exists().where(
            later_sale.customer_id == Callback.customer_id,
            later_sale.delivered_at > anchor_at,
            later_sale.delivered_at <= run.now,
        ),
    )
    lost = (
        select(Callback)
        .outerjoin(anchor_visit, anchor_visit.id == Callback.visit_id)
        .outerjoin(Sale, Sale.id == Callback.sale_id)
        .join(Customer, Customer.id == Callback.customer_id)
        .where(mine, still_open, Callback.kind == CallbackKind.LOST_CUSTOMER, returned)
    )
    for query in (reminders, first_reminders, lost):
        callbacks = run.session.scalars(query).all()
        for callback in callbacks:
            _cancel(callback, RETURNED_NOTE)
        run.result.cancelled_returned += len(callbacks)


def _flag_overdue(session: Session, now: datetime) -> int:
    """Mark open callbacks past their due time; they stay in the queue."""
    session.flush()
    result = session.execute(
        update(Callback)
        .where(
            Callback.status.in_(OPEN_CALLBACK_STATUSES),
            Callback.due_at < now,
            Callback.overdue.is_(False),
        )
        .values(overdue=True)
        .execution_options(synchronize_session="fetch")
    )
    return int(getattr(result, "rowcount", 0) or 0)


def schedule_callbacks(
    session: Session, settings: Settings, now: datetime | None = None
) -> ScheduleResult:
    """Create due callbacks for every dealership, cancel those no longer wanted, flag overdue."""
    now = _utc(now)
    calendar = WorkingCalendar.from_settings(settings.schedule)
    result = ScheduleResult()
    # every key is checked in memory; the unique column is only the last line of defence
    existing_keys = set(session.scalars(select(Callback.dedupe_key)))
    for dealership in session.scalars(select(Dealership).order_by(Dealership.id)).all():
        run = _DealershipRun(session, settings, calendar, dealership, now, existing_keys, result)
        _cancel_dnc(run)
        _service_3dc(run)
        _sales_7dc(run)
        _lost_customers(run)
        came_back = _service_reminders(run)
        _first_service_reminders(run)
        _cancel_returned(run, came_back)
        run.insert_new()
        log.info("dealership %s scheduled: %s", dealership.code, result.created)
    result.flagged_overdue = _flag_overdue(session, now)
    session.commit()
    return result


def _source_callback(session: Session, ticket: Ticket) -> Callback | None:
    """The callback whose call raised the ticket's complaint, if any."""
    call_id = ticket.complaint.call_id if ticket.complaint is not None else None
    call = session.get(Call, call_id) if call_id is not None else None
    return call.callback if call is not None else None


def create_complaint_followup(
    session: Session, ticket: Ticket, settings: Settings, now: datetime | None = None
) -> Callback:
    """The ticket's ``complaint_followup`` callback, created once and linked; caller commits."""
    now = _utc(now)
    if ticket.id is None:
        session.flush()
    key = f"complaint_followup:ticket:{ticket.id}"
    callback = session.scalar(select(Callback).where(Callback.dedupe_key == key))
    if callback is None:
        source = _source_callback(session, ticket)
        callback = Callback(
            dedupe_key=key,
            kind=CallbackKind.COMPLAINT_FOLLOWUP,
            customer_id=ticket.customer_id,
            visit_id=source.visit_id if source else None,
            sale_id=source.sale_id if source else None,
            due_at=now + timedelta(hours=settings.schedule.complaint_followup_hours),
            status=CallbackStatus.PENDING,
            created_at=now,
        )
        customer = session.get(Customer, ticket.customer_id)
        if customer is not None and is_dnc(session, customer):
            _cancel(callback, DNC_NOTE)
        session.add(callback)
        session.flush()
    ticket.followup_callback_id = callback.id
    return callback
