"""Campaigns, callbacks, calls and what the pipeline makes of a call's recording."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from callcenter.ids import CallbackStatus, PipelineState
from callcenter.models.base import Base, utcnow
from callcenter.models.people import Customer, User
from callcenter.models.visits import Sale, ServiceVisit


class Campaign(Base):
    """A batch of callbacks worked by agents or by the automated survey."""

    __tablename__ = "campaign"

    id: Mapped[int] = mapped_column(primary_key=True)
    dealership_id: Mapped[int] = mapped_column(ForeignKey("dealership.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(32))  # ids.CallbackKind
    template_id: Mapped[str] = mapped_column(String(64))
    automated: Mapped[bool] = mapped_column(default=False)
    question_ids: Mapped[list[Any]] = mapped_column(default=list)
    window_start: Mapped[str] = mapped_column(String(5), default="09:00")  # local HH:MM
    window_end: Mapped[str] = mapped_column(String(5), default="18:30")
    weekdays: Mapped[list[Any]] = mapped_column(default=lambda: [0, 1, 2, 3, 4, 5, 6])
    max_channels: Mapped[int] = mapped_column(default=4)
    max_attempts: Mapped[int] = mapped_column(default=3)
    # SIP disposition → minutes until the next attempt; a disposition not listed is not retried
    retry_minutes: Mapped[dict[str, Any]] = mapped_column(
        default=lambda: {"busy": 30, "no_answer": 120, "unreachable": 60, "failed": 60}
    )
    status: Mapped[str] = mapped_column(String(16), default="draft")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Callback(Base):
    """One customer to call back, once per kind and visit/sale/ticket (``dedupe_key``)."""

    __tablename__ = "callback"

    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(128), unique=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)  # ids.CallbackKind
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("service_visit.id"))
    sale_id: Mapped[int | None] = mapped_column(ForeignKey("sale.id"))
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaign.id"), index=True)
    sequence: Mapped[int] = mapped_column(default=1)  # 2nd service reminder, …
    due_at: Mapped[datetime] = mapped_column(index=True)  # must be called by then
    status: Mapped[str] = mapped_column(String(16), default=CallbackStatus.PENDING, index=True)
    overdue: Mapped[bool] = mapped_column(default=False)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None]
    assigned_agent_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    outcome: Mapped[str | None] = mapped_column(String(16))  # ids.Outcome
    rescheduled_for: Mapped[datetime | None]
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[datetime | None]

    customer: Mapped[Customer] = relationship()
    visit: Mapped[ServiceVisit | None] = relationship()
    sale: Mapped[Sale | None] = relationship()
    assigned_agent: Mapped[User | None] = relationship()
    calls: Mapped[list[Call]] = relationship(back_populates="callback")


class Call(Base):
    """One call attempt; its row is the truth about where its recording is in the pipeline."""

    __tablename__ = "call"

    id: Mapped[int] = mapped_column(primary_key=True)
    callback_id: Mapped[int | None] = mapped_column(ForeignKey("callback.id"), index=True)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaign.id"))
    template_id: Mapped[str | None] = mapped_column(String(64))
    customer_number: Mapped[str | None] = mapped_column(String(32))
    sip_call_id: Mapped[str | None] = mapped_column(String(255))
    live_state: Mapped[str | None] = mapped_column(String(16), index=True)  # events.LiveState
    # the number/URI of the agent's phone for a click-to-call (the engine dials it first)
    agent_phone: Mapped[str | None] = mapped_column(String(128))
    hangup_requested_at: Mapped[datetime | None]  # the agent pressed hang-up in the console
    end_reason: Mapped[str | None] = mapped_column(String(255))  # SIP reason / why it failed
    started_at: Mapped[datetime | None] = mapped_column(index=True)
    answered_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    disposition: Mapped[str | None] = mapped_column(String(32))  # ids.SipDisposition
    sip_status_code: Mapped[int | None]
    recording_path: Mapped[str | None] = mapped_column(String(512))
    recording_sha256: Mapped[str | None] = mapped_column(String(64))
    duration_s: Mapped[float | None]
    outcome: Mapped[str | None] = mapped_column(String(16))  # ids.Outcome
    pipeline_state: Mapped[str] = mapped_column(
        String(16), default=PipelineState.PENDING, index=True
    )
    pipeline_error: Mapped[str | None] = mapped_column(Text)
    pipeline_attempts: Mapped[int] = mapped_column(default=0)
    # the worker running the current step holds a lease; an expired lease means it died
    lease_owner: Mapped[str | None] = mapped_column(String(128))
    lease_until: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    callback: Mapped[Callback | None] = relationship(back_populates="calls")
    agent: Mapped[User | None] = relationship()
    transcript: Mapped[Transcript | None] = relationship(back_populates="call")
    score: Mapped[Score | None] = relationship(back_populates="call")


class Transcript(Base):
    """The CONTRACTS.md transcript of a call's recording."""

    __tablename__ = "transcript"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("call.id"), unique=True)
    language: Mapped[str] = mapped_column(String(8), default="zh")
    duration_s: Mapped[float]
    segments: Mapped[list[Any]]  # [{"speaker", "start", "end", "text"}, …]
    engine: Mapped[str | None] = mapped_column(String(128))  # model and settings that made it
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    call: Mapped[Call] = relationship(back_populates="transcript")


class Score(Base):
    """The CONTRACTS.md score of a call, with a reviewer's overrides kept beside it."""

    __tablename__ = "score"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("call.id"), unique=True)
    template_id: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(16))
    compliance: Mapped[dict[str, Any]]
    ratings: Mapped[dict[str, Any]]
    complaints: Mapped[list[Any]]
    qa_score: Mapped[float]
    csi: Mapped[float | None]
    metrics: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # answers the agent keyed in during the call, beside the automatic ones
    manual_ratings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # "compliance.greeting" → {"value", "reason", "by", "at"}; automatic values stay untouched
    overrides: Mapped[dict[str, Any]] = mapped_column(default=dict)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    reviewed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    call: Mapped[Call] = relationship(back_populates="score")


class TelephonyStatus(Base):
    """What a telephony engine last reported: its registration and how busy it is."""

    __tablename__ = "telephony_status"

    id: Mapped[int] = mapped_column(primary_key=True)
    engine: Mapped[str] = mapped_column(String(64), unique=True)  # host name of the engine
    account_uri: Mapped[str | None] = mapped_column(String(255))
    registered: Mapped[bool] = mapped_column(default=False)
    status_code: Mapped[int | None]
    reason: Mapped[str | None] = mapped_column(String(255))
    expires_s: Mapped[int | None]
    active_calls: Mapped[int] = mapped_column(default=0)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    seen_at: Mapped[datetime] = mapped_column(default=utcnow)  # a heartbeat
