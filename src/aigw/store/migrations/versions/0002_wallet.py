"""Wallet: balances, the append-only ledger, sub-accounts, tag budgets, BYOK provider keys.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(sa.Column("sub_account_id", sa.String(40), nullable=True))
    with op.batch_alter_table("request_log") as batch:
        batch.add_column(sa.Column("sub_account_id", sa.String(40), nullable=True))
        batch.add_column(
            sa.Column("charged_micro_cents", sa.BigInteger(), server_default="0", nullable=False)
        )
        batch.add_column(sa.Column("byok", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.create_table(
        "wallets",
        sa.Column("account_id", sa.String(40), nullable=False),
        sa.Column("balance_micro_cents", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("version", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_wallets_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_wallets")),
    )
    op.create_index(op.f("ix_wallets_updated_at"), "wallets", ["updated_at"])
    op.create_table(
        "ledger_entries",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("account_id", sa.String(40), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("amount_micro_cents", sa.BigInteger(), nullable=False),
        sa.Column("fee_micro_cents", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("request_id", sa.String(128), nullable=True),
        sa.Column("sub_account_id", sa.String(40), nullable=True),
        sa.Column("tag", sa.String(64), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_ledger_entries_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_entries")),
    )
    op.create_index(op.f("ix_ledger_entries_request_id"), "ledger_entries", ["request_id"])
    op.create_index(
        "ix_ledger_entries_account_id_created_at", "ledger_entries", ["account_id", "created_at"]
    )
    op.create_table(
        "sub_accounts",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("account_id", sa.String(40), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("external_ref", sa.String(256), nullable=True),
        sa.Column("spend_cap_cents", sa.BigInteger(), nullable=True),
        sa.Column("rate_limit_rpm", sa.Integer(), nullable=True),
        sa.Column("default_tag", sa.String(64), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("deleted_at", sa.BigInteger(), nullable=True),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_sub_accounts_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sub_accounts")),
    )
    op.create_index(op.f("ix_sub_accounts_account_id"), "sub_accounts", ["account_id"])
    op.create_index(op.f("ix_sub_accounts_updated_at"), "sub_accounts", ["updated_at"])
    op.create_table(
        "budgets",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("account_id", sa.String(40), nullable=False),
        sa.Column("tag", sa.String(64), nullable=False),
        sa.Column("monthly_cap_cents", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_budgets_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_budgets")),
    )
    op.create_index("ix_budgets_account_id_tag", "budgets", ["account_id", "tag"], unique=True)
    op.create_index(op.f("ix_budgets_updated_at"), "budgets", ["updated_at"])
    op.create_table(
        "provider_keys",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("account_id", sa.String(40), nullable=False),
        sa.Column("provider", sa.String(64), nullable=False),
        sa.Column("ciphertext", sa.Text(), nullable=False),
        sa.Column("last4", sa.String(4), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("revoked_at", sa.BigInteger(), nullable=True),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_provider_keys_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_provider_keys")),
    )
    op.create_index(op.f("ix_provider_keys_account_id"), "provider_keys", ["account_id"])
    op.create_index(op.f("ix_provider_keys_updated_at"), "provider_keys", ["updated_at"])


def downgrade() -> None:
    for table in ("provider_keys", "budgets", "sub_accounts", "ledger_entries", "wallets"):
        op.drop_table(table)
    with op.batch_alter_table("request_log") as batch:
        batch.drop_column("byok")
        batch.drop_column("charged_micro_cents")
        batch.drop_column("sub_account_id")
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_column("sub_account_id")
