"""Tables of the asynchronous work: jobs, webhooks, files and batches (migration 0004 and
later columns). Import them from ``aigw.store.tables``, which re-exports every table."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from aigw.store.columns import ID, MODEL_MAX, TAG_MAX, metadata

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
