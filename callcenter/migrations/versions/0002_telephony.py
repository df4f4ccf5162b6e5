"""telephony: click-to-call requests, hang-up requests, engine status

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 09:05:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import callcenter.models.base

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("call") as batch:
        batch.add_column(sa.Column("agent_phone", sa.String(length=128), nullable=True))
        batch.add_column(
            sa.Column(
                "hangup_requested_at",
                callcenter.models.base.UTCDateTime(timezone=True),
                nullable=True,
            )
        )
        batch.add_column(sa.Column("end_reason", sa.String(length=255), nullable=True))
        batch.create_index(batch.f("ix_call_live_state"), ["live_state"])
    op.create_table(
        "telephony_status",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("engine", sa.String(length=64), nullable=False),
        sa.Column("account_uri", sa.String(length=255), nullable=True),
        sa.Column("registered", sa.Boolean(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(length=255), nullable=True),
        sa.Column("expires_s", sa.Integer(), nullable=True),
        sa.Column("active_calls", sa.Integer(), nullable=False),
        sa.Column("started_at", callcenter.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("seen_at", callcenter.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_telephony_status")),
        sa.UniqueConstraint("engine", name=op.f("uq_telephony_status_engine")),
    )


def downgrade() -> None:
    op.drop_table("telephony_status")
    with op.batch_alter_table("call") as batch:
        batch.drop_index(batch.f("ix_call_live_state"))
        batch.drop_column("end_reason")
        batch.drop_column("hangup_requested_at")
        batch.drop_column("agent_phone")
