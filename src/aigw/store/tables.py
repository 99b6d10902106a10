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
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    false,
    true,
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


# -- async jobs, webhooks, files (migration 0004) -------------------------------------------

jobs = Table(
    "jobs",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("account_id", String(ID), nullable=False),
    Column("key_id", String(ID), nullable=True),
    Column("sub_account_id", String(ID), nullable=True),
    Column("tag", String(TAG_MAX), nullable=True),
    Column("modality", String(16), nullable=False),
    Column("model", String(MODEL_MAX), nullable=False),
    # queued | processing | completed | failed | cancelled
    Column("status", String(16), nullable=False),
    Column("request", Text, nullable=False),  # the client's body (JSON)
    Column("upstream_id", String(200), nullable=True),  # the provider's request id
    Column("result", Text, nullable=True),  # JSON
    Column("result_file", String(200), nullable=True),
    Column("error", Text, nullable=True),
    Column("webhook_url", Text, nullable=True),
    Column("base_url", Text, nullable=False),  # where result_url points (the gateway's origin)
    Column("charged_micro_cents", BigInteger, nullable=False, server_default="0"),
    # A worker owns a job until lease_until; an expired lease means its worker died.
    Column("claimed_by", String(64), nullable=True),
    Column("lease_until", BigInteger, nullable=True),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Index("ix_jobs_status_lease_until", "status", "lease_until"),
    Index("ix_jobs_account_id_created_at", "account_id", "created_at"),
)

webhook_secrets = Table(
    "webhook_secrets",
    metadata,
    Column("account_id", String(ID), primary_key=True),
    Column("secret", String(128), nullable=False),
    Column("created_at", BigInteger, nullable=False),
)

webhook_endpoints = Table(
    "webhook_endpoints",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("account_id", String(ID), nullable=False, index=True),
    Column("url", Text, nullable=False),
    Column("events", Text, nullable=False),  # JSON list of event types
    Column("created_at", BigInteger, nullable=False),
)

webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("event_id", String(ID), nullable=False, index=True),
    Column("account_id", String(ID), nullable=False),
    Column("url", Text, nullable=False),
    Column("payload", Text, nullable=False),
    # pending | delivered | failed
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", BigInteger, nullable=False),
    Column("lease_until", BigInteger, nullable=True),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Index("ix_webhook_deliveries_status_next_attempt_at", "status", "next_attempt_at"),
)

webhook_attempts = Table(
    "webhook_attempts",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("delivery_id", String(ID), nullable=False, index=True),
    Column("status_code", Integer, nullable=True),
    Column("error", Text, nullable=True),
    Column("duration_ms", Float, nullable=False),
    Column("created_at", BigInteger, nullable=False),
)

files = Table(
    "files",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("account_id", String(ID), nullable=False),
    Column("purpose", String(32), nullable=False),
    Column("filename", String(256), nullable=False),
    Column("bytes", BigInteger, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Index("ix_files_account_id_created_at", "account_id", "created_at"),
)

batches = Table(
    "batches",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("account_id", String(ID), nullable=False),
    Column("key_id", String(ID), nullable=True),
    Column("sub_account_id", String(ID), nullable=True),
    Column("tag", String(TAG_MAX), nullable=True),
    Column("endpoint", String(64), nullable=False),
    Column("input_file_id", String(ID), nullable=False),
    Column("completion_window", String(16), nullable=False),
    Column("metadata", Text, nullable=True),  # JSON
    # validating | in_progress | finalizing | completed | failed | cancelling | cancelled
    Column("status", String(16), nullable=False),
    Column("output_file_id", String(ID), nullable=True),
    Column("error_file_id", String(ID), nullable=True),
    Column("errors", Text, nullable=True),  # JSON
    Column("total", Integer, nullable=False, server_default="0"),
    Column("completed", Integer, nullable=False, server_default="0"),
    Column("failed", Integer, nullable=False, server_default="0"),
    Column("created_at", BigInteger, nullable=False),
    Column("in_progress_at", BigInteger, nullable=True),
    Column("finalizing_at", BigInteger, nullable=True),
    Column("completed_at", BigInteger, nullable=True),
    Column("failed_at", BigInteger, nullable=True),
    Column("cancelling_at", BigInteger, nullable=True),
    Column("cancelled_at", BigInteger, nullable=True),
    Column("claimed_by", String(64), nullable=True),
    Column("lease_until", BigInteger, nullable=True),
    Column("updated_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=True),  # end of the completion window
    Column("expired_at", BigInteger, nullable=True),
    Index("ix_batches_status_lease_until", "status", "lease_until"),
    Index("ix_batches_account_id_created_at", "account_id", "created_at"),
)


# -- replays and shadow traffic (migration 0005) --------------------------------------------

request_bodies = Table(
    "request_bodies",
    metadata,
    # The request log row's id; no FK: the log and the bodies are written by one batch writer.
    Column("request_id", String(128), primary_key=True),
    Column("account_id", String(ID), nullable=False),
    Column("created_at", BigInteger, nullable=False, index=True),
    Column("request", LargeBinary, nullable=False),  # zlib of the client's JSON body
    Column("output", LargeBinary, nullable=True),  # zlib of the answer's text
)

replays = Table(
    "replays",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("account_id", String(ID), nullable=False),
    Column("source_request_id", String(128), nullable=False),
    Column("target_request_id", String(128), nullable=True),
    Column("source_model", String(MODEL_MAX), nullable=True),
    Column("target_model", String(MODEL_MAX), nullable=False),
    Column("shadow", Boolean, nullable=False, server_default=false()),
    Column("rule_id", String(ID), nullable=True),  # the shadow rule that mirrored it
    # pending | completed | failed
    Column("status", String(16), nullable=False),
    Column("error", Text, nullable=True),
    Column("cost_source_micro_cents", BigInteger, nullable=False, server_default="0"),
    Column("cost_target_micro_cents", BigInteger, nullable=False, server_default="0"),
    Column("latency_source_ms", Integer, nullable=True),
    Column("latency_target_ms", Integer, nullable=True),
    Column("score_delta", Float, nullable=True),
    Column("source_output", LargeBinary, nullable=True),  # zlib
    Column("target_output", LargeBinary, nullable=True),  # zlib
    Column("created_at", BigInteger, nullable=False),
    Column("completed_at", BigInteger, nullable=True),
    Index("ix_replays_account_id_created_at", "account_id", "created_at"),
)

shadow_rules = Table(
    "shadow_rules",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("account_id", String(ID), nullable=False, index=True),
    Column("source_model", String(MODEL_MAX), nullable=False),
    Column("target_model", String(MODEL_MAX), nullable=False),
    Column("share", Float, nullable=False),  # 0-1 of the live requests that are mirrored
    Column("created_at", BigInteger, nullable=False),
)


# -- evals (migration 0006) ------------------------------------------------------------------

eval_runs = Table(
    "eval_runs",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("account_id", String(ID), nullable=False),
    Column("key_id", String(ID), nullable=True),
    Column("sub_account_id", String(ID), nullable=True),
    Column("name", String(200), nullable=False),
    Column("metric", String(16), nullable=False),  # quality | cost | speed
    Column("status", String(16), nullable=False),  # running | completed | failed
    Column("candidate_models", Text, nullable=False),  # JSON list
    Column("judge_model", String(MODEL_MAX), nullable=True),
    Column("match", String(16), nullable=False),
    Column("dataset", LargeBinary, nullable=False),  # zlib of the JSON dataset
    Column("dataset_size", Integer, nullable=False),
    Column("done", Integer, nullable=False, server_default="0"),  # calls finished
    Column("total", Integer, nullable=False, server_default="0"),
    Column("winner_model", String(MODEL_MAX), nullable=True),
    Column("summary", Text, nullable=True),  # JSON
    Column("results", LargeBinary, nullable=True),  # zlib of the per-item JSON
    Column("error", Text, nullable=True),
    # The running process renews this; a run whose lease ran out lost its process.
    Column("lease_until", BigInteger, nullable=True),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Column("completed_at", BigInteger, nullable=True),
    Index("ix_eval_runs_account_id_created_at", "account_id", "created_at"),
    Index("ix_eval_runs_status_lease_until", "status", "lease_until"),
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
