"""Batch expiry (expires_at, expired_at) and money alerts (account_alerts, alert_marks).

Revision ID: 0009
Revises: 0006
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0006"
branch_labels: str | None = None
depends_on: str | None = None

ID = 40


def upgrade() -> None:
    with op.batch_alter_table("batches") as batch:
        batch.add_column(sa.Column("expires_at", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("expired_at", sa.BigInteger(), nullable=True))
    op.create_table(
        "account_alerts",
        sa.Column("account_id", sa.String(ID), nullable=False),
        sa.Column("balance_low_micro_cents", sa.BigInteger(), nullable=True),
        sa.Column("usage_thresholds", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("account_id", name="pk_account_alerts"),
    )
    op.create_table(
        "alert_marks",
        sa.Column("account_id", sa.String(ID), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("mark", sa.String(64), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "kind", "mark", name="pk_alert_marks"),
    )


def downgrade() -> None:
    op.drop_table("alert_marks")
    op.drop_table("account_alerts")
    with op.batch_alter_table("batches") as batch:
        batch.drop_column("expired_at")
        batch.drop_column("expires_at")
