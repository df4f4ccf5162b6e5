"""The agent's callback queue."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import joinedload

from callcenter.ids import OPEN_CALLBACK_STATUSES, CallbackKind
from callcenter.models import Callback, Customer, Sale, ServiceVisit, Vehicle, utcnow
from web.extensions import db_session

bp = Blueprint("callbacks", __name__, url_prefix="/callbacks")

PAGE_SIZE = 100


@dataclass(frozen=True)
class QueueRow:
    """One line of the queue, flattened for the template."""

    callback: Callback
    vehicle: Vehicle | None
    visited_at: datetime | None  # car handed back after service, or new car delivered
    advisor: str | None  # service advisor, or sales consultant for a sale
    overdue: bool


def _queue_query(kind: str | None) -> Select[Callback]:
    query = (
        select(Callback)
        .join(Callback.customer)
        .where(
            Customer.dealership_id == current_user.dealership_id,
            Callback.status.in_(OPEN_CALLBACK_STATUSES),
        )
    )
    if not current_user.sees_all_callbacks:
        query = query.where(
            or_(
                Callback.assigned_agent_id == current_user.id,
                Callback.assigned_agent_id.is_(None),
            )
        )
    if kind:
        query = query.where(Callback.kind == kind)
    return query


def _row(callback: Callback, now: datetime) -> QueueRow:
    source: ServiceVisit | Sale | None = callback.visit or callback.sale
    if isinstance(source, ServiceVisit):
        advisor = source.service_advisor
    elif isinstance(source, Sale):
        advisor = source.sales_consultant
    else:
        advisor = None
    return QueueRow(
        callback=callback,
        vehicle=source.vehicle if source is not None else None,
        visited_at=source.delivered_at if source is not None else None,
        advisor=advisor,
        overdue=callback.overdue or callback.due_at < now,
    )


@bp.get("/")
def queue() -> ResponseReturnValue:
    """Open callbacks by due time; agents see their own and unassigned ones."""
    kind = request.args.get("kind", "")
    if kind not in set(CallbackKind):
        kind = ""
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    session = db_session()
    query = _queue_query(kind or None)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    callbacks = session.scalars(
        query.options(
            joinedload(Callback.customer),
            joinedload(Callback.assigned_agent),
            joinedload(Callback.visit).joinedload(ServiceVisit.vehicle),
            joinedload(Callback.sale).joinedload(Sale.vehicle),
        )
        .order_by(Callback.due_at, Callback.id)
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    ).all()
    now = utcnow()
    return render_template(
        "callbacks/queue.html",
        rows=[_row(cb, now) for cb in callbacks],
        kinds=list(CallbackKind),
        kind=kind,
        page=page,
        total=total,
        has_next=page * PAGE_SIZE < total,
    )
