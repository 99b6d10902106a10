"""Per-account default and per-key rate limits.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    for table in ("accounts", "api_keys"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("rate_limit_rpm", sa.Integer(), nullable=True))
            batch.add_column(sa.Column("rate_limit_tpm", sa.Integer(), nullable=True))


def downgrade() -> None:
    for table in ("api_keys", "accounts"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("rate_limit_tpm")
            batch.drop_column("rate_limit_rpm")
