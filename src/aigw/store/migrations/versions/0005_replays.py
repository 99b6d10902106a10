"""Replays: stored request bodies and outputs, replay records, shadow rules, and the
per-account opt-out of body storage.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None

ID = 40


def upgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.add_column(
            sa.Column("store_bodies", sa.Boolean(), nullable=False, server_default=sa.true())
        )
    op.create_table(
        "request_bodies",
        sa.Column("request_id", sa.String(128), nullable=False),
        sa.Column("account_id", sa.String(ID), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("request", sa.LargeBinary(), nullable=False),
        sa.Column("output", sa.LargeBinary(), nullable=True),
        sa.PrimaryKeyConstraint("request_id", name="pk_request_bodies"),
    )
    op.create_index("ix_request_bodies_created_at", "request_bodies", ["created_at"])
    op.create_table(
        "replays",
        sa.Column("id", sa.String(ID), nullable=False),
        sa.Column("account_id", sa.String(ID), nullable=False),
        sa.Column("source_request_id", sa.String(128), nullable=False),
        sa.Column("target_request_id", sa.String(128), nullable=True),
        sa.Column("source_model", sa.String(200), nullable=True),
        sa.Column("target_model", sa.String(200), nullable=False),
        sa.Column("shadow", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("rule_id", sa.String(ID), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("cost_source_micro_cents", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("cost_target_micro_cents", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("latency_source_ms", sa.Integer(), nullable=True),
        sa.Column("latency_target_ms", sa.Integer(), nullable=True),
        sa.Column("score_delta", sa.Float(), nullable=True),
        sa.Column("source_output", sa.LargeBinary(), nullable=True),
        sa.Column("target_output", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("completed_at", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_replays"),
    )
    op.create_index("ix_replays_account_id_created_at", "replays", ["account_id", "created_at"])
    op.create_table(
        "shadow_rules",
        sa.Column("id", sa.String(ID), nullable=False),
        sa.Column("account_id", sa.String(ID), nullable=False),
        sa.Column("source_model", sa.String(200), nullable=False),
        sa.Column("target_model", sa.String(200), nullable=False),
        sa.Column("share", sa.Float(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_shadow_rules"),
    )
    op.create_index("ix_shadow_rules_account_id", "shadow_rules", ["account_id"])


def downgrade() -> None:
    for table in ("shadow_rules", "replays", "request_bodies"):
        op.drop_table(table)
    with op.batch_alter_table("accounts") as batch:
        batch.drop_column("store_bodies")
