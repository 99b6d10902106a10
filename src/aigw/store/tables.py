"""Every table, defined once (SQLAlchemy Core), portable between SQLite and PostgreSQL.

Conventions: ids are text with a type prefix (``acct_``, ``key_``); timestamps are BigInteger
unix **milliseconds** (``now_ms()``); money is BigInteger micro-cents. Migrations in
``migrations/versions`` must create exactly this schema (a test compares them).
"""

from __future__ import annotations

import time

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    false,
)

# Named constraints keep later migrations (and SQLite batch mode) deterministic.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)

ID = 40  # length of prefixed ids ("acct_" + 24 hex)
TAG_MAX = 64
MODEL_MAX = 200
NAME_MAX = 64


def now_ms() -> int:
    """Current wall-clock time in unix milliseconds, the unit of every timestamp column."""
    return time.time_ns() // 1_000_000


accounts = Table(
    "accounts",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("name", String(NAME_MAX), nullable=False, unique=True),
    Column("created_at", BigInteger, nullable=False),
    Column("disabled", Boolean, nullable=False, server_default=false()),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("account_id", String(ID), ForeignKey("accounts.id"), nullable=False, index=True),
    Column("name", String(128), nullable=True),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("prefix", String(16), nullable=False),
    Column("last4", String(4), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("revoked_at", BigInteger, nullable=True),
    # Bumped on every change (revoke, account disabled ...) so caches can poll for changes.
    Column("updated_at", BigInteger, nullable=False, index=True),
)

request_log = Table(
    "request_log",
    metadata,
    Column("id", String(128), primary_key=True),  # the request id
    Column("created_at", BigInteger, nullable=False, index=True),
    Column("account_id", String(ID), nullable=True),  # no FK: logging must never block
    Column("key_id", String(ID), nullable=True),
    Column("tag", String(TAG_MAX), nullable=True),
    Column("model", String(MODEL_MAX), nullable=True),
    Column("provider", String(NAME_MAX), nullable=True),
    Column("status", Integer, nullable=False),
    Column("error_type", String(NAME_MAX), nullable=True),
    Column("prompt_tokens", Integer, nullable=False, server_default="0"),
    Column("completion_tokens", Integer, nullable=False, server_default="0"),
    Column("cached_tokens", Integer, nullable=False, server_default="0"),
    Column("reasoning_tokens", Integer, nullable=False, server_default="0"),
    Column("cost_micro_cents", BigInteger, nullable=False, server_default="0"),
    Column("latency_ms", Float, nullable=False),
    Column("ttft_ms", Float, nullable=True),
    Column("streamed", Boolean, nullable=False, server_default=false()),
    # The client's own X-Request-Id, when it sent one (not unique: clients reuse them).
    Column("client_request_id", String(128), nullable=True),
    Index("ix_request_log_account_id_created_at", "account_id", "created_at"),
    Index("ix_request_log_model_created_at", "model", "created_at"),
)

meta = Table(
    "meta",
    metadata,
    Column("key", String(NAME_MAX), primary_key=True),
    Column("value", Text, nullable=False),
)
