"""Complaints heard on calls and the tickets that see them handled within the SLA."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from callcenter.ids import TicketStatus
from callcenter.models.base import Base, utcnow
from callcenter.models.people import Customer, User


class Complaint(Base):
    __tablename__ = "complaint"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    call_id: Mapped[int | None] = mapped_column(ForeignKey("call.id"), index=True)
    category: Mapped[str] = mapped_column(String(32))  # ids.ComplaintCategory
    text: Mapped[str] = mapped_column(Text)  # the customer's own words
    start_s: Mapped[float | None]  # where in the recording
    source: Mapped[str] = mapped_column(String(16), default="auto")  # auto | agent | reviewer
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    customer: Mapped[Customer] = relationship()


class Ticket(Base):
    """First contact within 24 h, resolved within 48 h (BRIEF.md 'Complaints')."""

    __tablename__ = "ticket"

    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaint.id"), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    category: Mapped[str] = mapped_column(String(32))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    status: Mapped[str] = mapped_column(String(16), default=TicketStatus.OPEN, index=True)
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    first_contact_due: Mapped[datetime]
    resolve_due: Mapped[datetime]
    first_contacted_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    escalated_at: Mapped[datetime | None]
    resolution: Mapped[str | None] = mapped_column(Text)
    # the complaint_followup callback that closes the loop with the customer
    followup_callback_id: Mapped[int | None] = mapped_column(ForeignKey("callback.id"))
    handling_satisfaction: Mapped[str | None] = mapped_column(String(16))  # ids.Answer scale

    complaint: Mapped[Complaint] = relationship()
    customer: Mapped[Customer] = relationship()
    owner: Mapped[User | None] = relationship()
    events: Mapped[list[TicketEvent]] = relationship(
        back_populates="ticket", order_by="TicketEvent.at"
    )


class TicketEvent(Base):
    __tablename__ = "ticket_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    kind: Mapped[str] = mapped_column(String(16))  # opened/assigned/contacted/note/resolved/…
    text: Mapped[str | None] = mapped_column(Text)

    ticket: Mapped[Ticket] = relationship(back_populates="events")
