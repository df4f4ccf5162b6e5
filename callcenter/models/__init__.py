"""SQLAlchemy models of the callback centre (ids from BRIEF.md)."""

from callcenter.models.audit import AuditLog, ImportRun
from callcenter.models.base import Base, UTCDateTime, utcnow
from callcenter.models.calls import (
    Call,
    Callback,
    Campaign,
    Score,
    TelephonyStatus,
    Transcript,
)
from callcenter.models.people import Customer, Dealership, DncEntry, User, Vehicle
from callcenter.models.tickets import Complaint, Ticket, TicketEvent
from callcenter.models.visits import Sale, ServiceVisit

__all__ = [
    "AuditLog",
    "Base",
    "Call",
    "Callback",
    "Campaign",
    "Complaint",
    "Customer",
    "Dealership",
    "DncEntry",
    "ImportRun",
    "Sale",
    "Score",
    "ServiceVisit",
    "Ticket",
    "TelephonyStatus",
    "TicketEvent",
    "Transcript",
    "UTCDateTime",
    "User",
    "Vehicle",
    "utcnow",
]
