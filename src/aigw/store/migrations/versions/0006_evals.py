"""Eval runs: candidates scored on a dataset, the winner behind ``model: "eval:<id>"``.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | None = None
depends_on: str | None = None

ID = 40


def upgrade() -> None:
    op.create_table(
        "eval_runs",
        sa.Column("id", sa.String(ID), nullable=False),
        sa.Column("account_id", sa.String(ID), nullable=False),
        sa.Column("key_id", sa.String(ID), nullable=True),
        sa.Column("sub_account_id", sa.String(ID), nullable=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("metric", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("candidate_models", sa.Text(), nullable=False),
        sa.Column("judge_model", sa.String(200), nullable=True),
        sa.Column("match", sa.String(16), nullable=False),
        sa.Column("dataset", sa.LargeBinary(), nullable=False),
        sa.Column("dataset_size", sa.Integer(), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("total", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("winner_model", sa.String(200), nullable=True),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("results", sa.LargeBinary(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("lease_until", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.Column("completed_at", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_eval_runs"),
    )
    op.create_index("ix_eval_runs_account_id_created_at", "eval_runs", ["account_id", "created_at"])
    op.create_index("ix_eval_runs_status_lease_until", "eval_runs", ["status", "lease_until"])


def downgrade() -> None:
    op.drop_table("eval_runs")
