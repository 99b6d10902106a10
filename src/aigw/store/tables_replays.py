"""Tables of replays, shadow traffic (migration 0005) and eval runs (0006). Import them
from ``aigw.store.tables``, which re-exports every table."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    false,
)

from aigw.store.columns import ID, MODEL_MAX, metadata

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
