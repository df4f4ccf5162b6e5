"""What a customer did at the dealership: service visits and new-car sales."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from callcenter.models.base import Base, utcnow
from callcenter.models.people import Customer, Vehicle


class ServiceVisit(Base):
    """One repair order (工单): the car came in and was handed back (交车) at ``delivered_at``."""

    __tablename__ = "service_visit"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    vehicle_id: Mapped[int] = mapped_column(ForeignKey("vehicle.id"), index=True)
    repair_order_no: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # ids.VisitKind
    service_advisor: Mapped[str | None] = mapped_column(String(64))
    delivered_at: Mapped[datetime] = mapped_column(index=True)
    amount_yuan: Mapped[Decimal | None]
    mileage_km: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    customer: Mapped[Customer] = relationship(back_populates="visits")
    vehicle: Mapped[Vehicle] = relationship()


class Sale(Base):
    """A new car delivered to a customer (one per vehicle)."""

    __tablename__ = "sale"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    vehicle_id: Mapped[int] = mapped_column(ForeignKey("vehicle.id"), unique=True)
    order_no: Mapped[str | None] = mapped_column(String(64))
    sales_consultant: Mapped[str | None] = mapped_column(String(64))
    delivered_at: Mapped[datetime] = mapped_column(index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    customer: Mapped[Customer] = relationship(back_populates="sales")
    vehicle: Mapped[Vehicle] = relationship()
