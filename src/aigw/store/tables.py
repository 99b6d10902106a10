"""Every table, defined once (SQLAlchemy Core), portable between SQLite and PostgreSQL.

Conventions: ids are text with a type prefix (``acct_``, ``key_``); timestamps are BigInteger
unix **milliseconds** (``now_ms()``); money is BigInteger micro-cents. Migrations in
``migrations/versions`` must create exactly this schema (a test compares them).

The accounts, keys, request log, money and alert tables are here; the others live in
``tables_async.py`` and ``tables_replays.py`` and are re-exported, so
``from aigw.store.tables import X`` (and ``metadata``, with every table) works for all.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    false,
    true,
)

from aigw.store.columns import (
    BODY_REF_MAX,
    ID,
    MODEL_MAX,
    NAME_MAX,
    NAMING_CONVENTION,
    TAG_MAX,
    metadata,
    now_ms,
)
from aigw.store.tables_async import (
    batches,
    files,
    jobs,
    webhook_attempts,
    webhook_deliveries,
    webhook_endpoints,
    webhook_secrets,
)
from aigw.store.tables_replays import eval_runs, replays, request_bodies, shadow_rules

accounts = Table(
    "accounts",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("name", String(NAME_MAX), nullable=False, unique=True),
    Column("created_at", BigInteger, nullable=False),
    Column("disabled", Boolean, nullable=False, server_default=false()),
    # The account's default limits for its keys (NULL: the gateway's defaults; 0: none).
    Column("rate_limit_rpm", Integer, nullable=True),
    Column("rate_limit_tpm", Integer, nullable=True),
    # Keep request bodies and outputs for replays (migration 0005); false: the account opted out.
    Column("store_bodies", Boolean, nullable=False, server_default=true()),
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
    # Set for a sub-account's keys: they spend from the parent account's wallet under a cap.
    Column("sub_account_id", String(ID), nullable=True),
    # This key's own limits (NULL: the account's defaults).
    Column("rate_limit_rpm", Integer, nullable=True),
    Column("rate_limit_tpm", Integer, nullable=True),
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
    Column("sub_account_id", String(ID), nullable=True),
    # What the wallet paid (0 for BYOK calls); cost_micro_cents is the provider's price.
    Column("charged_micro_cents", BigInteger, nullable=False, server_default="0"),
    Column("byok", Boolean, nullable=False, server_default=false()),
    # Where a file-backed SQLite gateway appended the request's replay body
    # (store/body_segments.py); None when the body is in request_bodies or was not kept.
    Column("body_ref", String(BODY_REF_MAX), nullable=True),
    Index("ix_request_log_account_id_created_at", "account_id", "created_at"),
    Index("ix_request_log_model_created_at", "model", "created_at"),
)

meta = Table(
    "meta",
    metadata,
    Column("key", String(NAME_MAX), primary_key=True),
    Column("value", Text, nullable=False),
)


# -- wallet (migration 0002) ----------------------------------------------------------------

wallets = Table(
    "wallets",
    metadata,
    Column("account_id", String(ID), ForeignKey("accounts.id"), primary_key=True),
    # Must always equal the sum of the account's ledger entries (aigw ledger verify).
    Column("balance_micro_cents", BigInteger, nullable=False, server_default="0"),
    # Bumped with every change so processes can apply changes in order.
    Column("version", BigInteger, nullable=False, server_default="0"),
    Column("updated_at", BigInteger, nullable=False, index=True),
)

ledger_entries = Table(
    "ledger_entries",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("account_id", String(ID), ForeignKey("accounts.id"), nullable=False),
    # topup | topup_fee | charge | refund | adjustment
    Column("kind", String(16), nullable=False),
    # Signed: credits are positive, charges and fees negative.
    Column("amount_micro_cents", BigInteger, nullable=False),
    # The platform fee inside a per-call charge (0 in the default top-up fee mode).
    Column("fee_micro_cents", BigInteger, nullable=False, server_default="0"),
    Column("request_id", String(128), nullable=True, index=True),
    Column("sub_account_id", String(ID), nullable=True),
    Column("tag", String(TAG_MAX), nullable=True),
    Column("note", Text, nullable=True),
    Column("created_at", BigInteger, nullable=False),
    Index("ix_ledger_entries_account_id_created_at", "account_id", "created_at"),
)

sub_accounts = Table(
    "sub_accounts",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("account_id", String(ID), ForeignKey("accounts.id"), nullable=False, index=True),
    Column("name", String(128), nullable=False),
    Column("external_ref", String(256), nullable=True),
    Column("spend_cap_cents", BigInteger, nullable=True),
    Column("rate_limit_rpm", Integer, nullable=True),
    Column("default_tag", String(TAG_MAX), nullable=True),
    Column("created_at", BigInteger, nullable=False),
    Column("deleted_at", BigInteger, nullable=True),
    Column("updated_at", BigInteger, nullable=False, index=True),
)

budgets = Table(
    "budgets",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("account_id", String(ID), ForeignKey("accounts.id"), nullable=False),
    Column("tag", String(TAG_MAX), nullable=False),
    Column("monthly_cap_cents", BigInteger, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False, index=True),
    Index("ix_budgets_account_id_tag", "account_id", "tag", unique=True),
)

provider_keys = Table(
    "provider_keys",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("account_id", String(ID), ForeignKey("accounts.id"), nullable=False, index=True),
    Column("provider", String(NAME_MAX), nullable=False),
    # AES-GCM with the server's secret key; the plaintext is never stored or returned.
    Column("ciphertext", Text, nullable=False),
    Column("last4", String(4), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("revoked_at", BigInteger, nullable=True),
    Column("updated_at", BigInteger, nullable=False, index=True),
)


# -- alerts (migration 0009) -------------------------------------------------------------------

# Per-account alert thresholds (null = the gateway's default setting); money in micro-cents.
account_alerts = Table(
    "account_alerts",
    metadata,
    Column("account_id", String(ID), primary_key=True),
    Column("balance_low_micro_cents", BigInteger, nullable=True),
    Column("usage_thresholds", Text, nullable=True),  # JSON list of micro-cents
    Column("updated_at", BigInteger, nullable=False),
)

# Alerts already sent: one row per crossing, so each is emitted once across processes
# (balance.low: removed when the balance is back above, which re-arms it; usage.threshold:
# one per month and threshold).
alert_marks = Table(
    "alert_marks",
    metadata,
    Column("account_id", String(ID), primary_key=True),
    Column("kind", String(32), primary_key=True),
    Column("mark", String(64), primary_key=True),
    Column("created_at", BigInteger, nullable=False),
)


__all__ = [
    "BODY_REF_MAX",
    "ID",
    "MODEL_MAX",
    "NAME_MAX",
    "NAMING_CONVENTION",
    "TAG_MAX",
    "account_alerts",
    "accounts",
    "alert_marks",
    "api_keys",
    "batches",
    "budgets",
    "eval_runs",
    "files",
    "jobs",
    "ledger_entries",
    "meta",
    "metadata",
    "now_ms",
    "provider_keys",
    "replays",
    "request_bodies",
    "request_log",
    "shadow_rules",
    "sub_accounts",
    "wallets",
    "webhook_attempts",
    "webhook_deliveries",
    "webhook_endpoints",
    "webhook_secrets",
]
