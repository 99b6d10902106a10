"""Settings: defaults < config file (TOML) < environment (``AIGW_*``) < command-line flags.

Every setting has an environment variable named ``AIGW_<NAME>``; ``docs/configuration.md``
lists them all (a test keeps that list honest). Secrets are held as ``Secret`` so they never
appear in a repr or a log line.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from aigw import config_checks
from aigw.config_values import Secret as Secret
from aigw.config_values import coerce
from aigw.errors import ConfigError


def _setting(default: Any, help: str, *, secret: bool = False, factory: Any = None) -> Any:
    meta = {"help": help, "secret": secret}
    if factory is not None:
        return field(default_factory=factory, metadata=meta)
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class Settings:
    """Gateway settings. Field docs are the single source for ``docs/configuration.md``."""

    host: str = _setting("127.0.0.1", "Address to listen on.")
    port: int = _setting(8080, "Port to listen on.")
    database_url: str = _setting(
        "sqlite:///aigw.db",
        "Database URL: sqlite:///PATH (default, embedded) or postgresql://USER@HOST/DB.",
    )
    admin_key: Secret | None = _setting(
        None,
        "Admin API key. When unset, one is generated on first start, printed once and "
        "stored hashed.",
        secret=True,
    )
    max_body_bytes: int = _setting(
        10 * 1024 * 1024, "Largest request body accepted; bigger bodies get 413."
    )
    key_refresh_seconds: float = _setting(
        2.0, "How often the in-memory key cache re-reads changed keys (bounds revocation lag)."
    )
    upstream_connect_timeout: float = _setting(10.0, "Seconds to connect to an upstream.")
    upstream_total_timeout: float = _setting(
        600.0, "Seconds an upstream call may take in total before 504."
    )
    upstream_max_attempts: int = _setting(
        2, "Attempts per deployment before the first byte (1 = no retry of the same one)."
    )
    upstream_ttft_timeout: float = _setting(
        60.0,
        "Seconds from sending a streamed call to its first chunk; then the next deployment is "
        "tried, or 504 (0 = no limit).",
    )
    upstream_idle_timeout: float = _setting(
        60.0,
        "Longest gap between two chunks of an upstream answer; then it is given up: the next "
        "deployment before the first byte, an error event after (0 = no limit).",
    )
    routing_max_attempts: int = _setting(
        3, "Most upstream calls for one request, retries and fallbacks included."
    )
    routing_max_seconds: float = _setting(
        8.0, "Longest time spent retrying and falling back before the first byte."
    )
    routing_policy: str = _setting(
        "weighted",
        "Routing policy of requests that name none: weighted, lowest_latency, lowest_cost or "
        "highest_throughput.",
    )
    breaker_failure_rate: float = _setting(
        0.5, "Share of failed calls (0-1] over breaker_window_seconds that opens a breaker."
    )
    breaker_min_requests: int = _setting(
        10, "Calls a deployment needs in the breaker window before its breaker may open."
    )
    breaker_window_seconds: float = _setting(
        30.0, "Trailing window over which a breaker counts failures."
    )
    breaker_cooldown_seconds: float = _setting(
        15.0, "Seconds an open breaker stays open before one probe call is let through."
    )
    health_window_seconds: float = _setting(
        300.0, "Trailing window of the health statistics that drive latency/throughput routing."
    )
    metrics_enabled: bool = _setting(True, "Serve Prometheus metrics at /metrics.")
    log_flush_seconds: float = _setting(
        0.2, "Request-log batch interval; the log is written off the request path."
    )
    log_level: str = _setting("INFO", "Python log level for the gateway's own log.")
    access_log: bool = _setting(False, "Write one access-log line per request.")
    log_format: str = _setting(
        "text", "'text' or 'json' (one JSON object per line, with the request id)."
    )
    fast_lane: bool = _setting(
        True,
        "Serve plain HTTP/1.1 chat completions and messages requests without aiohttp's "
        "server loop (~25 us less per request on one core); every other request is "
        "aiohttp's as before. Off when access_log is on.",
    )
    providers: Mapping[str, Mapping[str, Any]] = _setting(
        None,
        "Per-provider settings from the config file ([providers.<id>] api_key, base_url, "
        "...), merged with <PROVIDER>_API_KEY / <PROVIDER>_BASE_URL.",
        factory=dict,
    )
    catalog_file: str | None = _setting(
        None, "Extra catalog TOML/JSON adding or overriding providers and models."
    )
    data_dir: str = _setting(
        "aigw-data", "Directory for uploaded files and job results (local disk storage)."
    )
    job_poll_seconds: float = _setting(
        1.0, "How often the job worker looks for queued jobs and polls running ones upstream."
    )
    webhook_allow_private: bool = _setting(
        False,
        "Allow webhook URLs that resolve to loopback, private or link-local addresses.",
    )
    webhook_retry_base_seconds: float = _setting(
        10.0, "First webhook retry delay; each retry doubles it (capped at 1 h) for 24 h."
    )
    billing_enabled: bool = _setting(
        True,
        "Charge calls to the accounts' prepaid wallets (402 when empty). Off: calls are free "
        "and only logged with their cost.",
    )
    charge_journal: bool = _setting(
        True,
        "SQLite file: a charge is durable once appended to a journal beside the database "
        "(as a committed transaction is there), so answers do not wait for its ledger row. "
        "Off: each answer waits for its charge's transaction.",
    )
    platform_fee_percent: Decimal = _setting(
        Decimal(5), "Platform fee in percent (5: buying $100 of credits costs $105)."
    )
    platform_fee_mode: str = _setting(
        "topup", "When the platform fee is taken: 'topup' (on credits bought) or 'per_call'."
    )
    byok_fee_per_1m: Decimal = _setting(
        Decimal(0), "USD per 1M tokens charged on calls made with the account's own key."
    )
    secret_key: Secret | None = _setting(
        None,
        "Key that encrypts stored provider keys (BYOK). Unset: generated into secret_key_file "
        "on first start. Replicas sharing a database must share it.",
        secret=True,
    )
    secret_key_file: str | None = _setting(
        None,
        "Where the generated secret key is kept when secret_key is unset (default: aigw.key "
        "beside the SQLite database, or in the working directory).",
    )
    redis_url: str | None = _setting(
        None,
        "Redis URL (redis://HOST:6379/0). Set: rate limits are shared by every process and "
        "replica through it. Unset: in-process limits (one process).",
    )
    redis_timeout_ms: int = _setting(
        250, "Longest wait for Redis before the failure policy applies; requests never hang."
    )
    rate_limit_rpm: int = _setting(
        0,
        "Default requests per minute per key (0 = unlimited); bursts may run at twice the "
        "rate for 10 s.",
    )
    rate_limit_tpm: int = _setting(0, "Default tokens per minute per key (0 = unlimited).")
    rate_limit_fail_open: bool = _setting(
        True, "When the limiter's store is unavailable: true admits requests, false answers 503."
    )
    reserve_output_tokens: int = _setting(
        4096,
        "Output tokens reserved for a request that sets no max_tokens and whose model has no "
        "known maximum.",
    )
    auto_pool: str = _setting(
        "",
        "Comma-separated catalog model ids the auto-router picks from, replacing the built-in "
        "pool of every auto modality (empty: the built-in pools).",
    )
    auto_router_file: str | None = _setting(
        None,
        "JSON file overriding the auto-router's data: quality floors, pools, baselines and "
        "per-model quality/speed priors (same shape as routing/data/auto_router.json).",
    )
    auto_route_fee_cents: Decimal = _setting(
        Decimal(0),
        "Fee in cents added to each auto-routed call's charge (none when the baseline itself "
        "answers).",
    )
    replay_store_bodies: bool = _setting(
        True,
        "Keep request bodies and outputs (zlib-compressed from 1 KB) with the request log so "
        "past requests can be replayed; accounts can opt out (PATCH /admin/accounts/{id}).",
    )
    replay_retention_days: float = _setting(
        30.0, "Days stored request bodies and outputs are kept before the pruner deletes them."
    )
    replay_prune_seconds: float = _setting(
        3600.0, "How often the background pruner deletes expired request bodies."
    )
    shadow_concurrency: int = _setting(
        4,
        "Most mirrored (shadow) calls in flight per process; live requests past that are not "
        "mirrored and are counted as dropped.",
    )
    eval_concurrency: int = _setting(4, "Calls one eval run makes at the same time.")
    eval_wait_seconds: float = _setting(
        30.0,
        "How long POST /v1/evals waits for the run to finish (201) before answering 202 "
        "with status running.",
    )
    eval_judge_model: str | None = _setting(
        None, "Judge model for quality evals whose items have no expected answer."
    )
    auto_priors_from_evals: bool = _setting(
        True,
        "Finished quality evals feed their models' mean scores into the auto-router's "
        "quality priors (in memory, per process).",
    )

    files_storage: str = _setting(
        "local",
        "Where uploaded files, batch outputs and job results are kept: 'local' (data_dir) or "
        "'s3' (an S3-compatible bucket; data_dir still holds scratch files).",
    )
    s3_bucket: str | None = _setting(None, "S3 bucket for files_storage = 's3'.")
    s3_endpoint_url: str | None = _setting(
        None,
        "S3-compatible endpoint (MinIO, R2, ...: http://HOST:9000). Unset: AWS's "
        "https://s3.<region>.amazonaws.com.",
    )
    s3_region: str = _setting("us-east-1", "Region the S3 requests are signed for.")
    s3_access_key_id: str | None = _setting(None, "S3 access key id.")
    s3_secret_access_key: Secret | None = _setting(None, "S3 secret access key.", secret=True)
    s3_prefix: str = _setting(
        "", "Key prefix inside the bucket (letters, digits and ._/-), e.g. 'aigw/'."
    )

    balance_low_threshold: Decimal = _setting(
        Decimal(0),
        "USD balance under which an account gets one balance.low webhook per fall below it "
        "(0 = off); accounts may set their own at /v1/alerts.",
    )
    usage_alert_thresholds: str = _setting(
        "",
        "Comma-separated USD amounts of monthly spend that each send one usage.threshold "
        "webhook per month (empty = none); accounts may set their own at /v1/alerts.",
    )

    batch_completion_window_seconds: float = _setting(
        86400.0,
        "How long a batch may run: its completion_window ('24h', the only value accepted) "
        "lasts this many seconds; then it ends 'expired' and unrun lines go to its error file.",
    )
    cache_enabled: bool = _setting(
        True,
        "Response cache for /v1/chat/completions and /v1/messages (x-cache: auto | force | skip).",
    )
    cache_mode: str = _setting(
        "auto",
        "Cache mode of requests without an x-cache header: auto (deterministic requests "
        "only: temperature 0 or a seed), force or skip.",
    )
    cache_ttl_seconds: int = _setting(
        3600, "How long a cached answer is served; x-aig-cache-ttl overrides per request."
    )
    cache_max_bytes: int = _setting(
        64 * 1024 * 1024,
        "Memory bound of the in-process cache (least recently used answers go first); with "
        "redis_url set the cache lives in Redis instead, shared by every replica.",
    )
    cache_max_entry_bytes: int = _setting(
        1024 * 1024, "Largest answer (stored size) that is cached."
    )
    cache_hit_price_percent: Decimal = _setting(
        Decimal(10), "What a cache hit costs, in percent of the cached call's cost."
    )
    cache_hit_wait_for_commit: bool = _setting(
        True,
        "Hold a cache hit's answer until its charge is durable, as misses do (on a SQLite "
        "file: its journal line). Off: the charge is settled in memory at once and written "
        "up to 50 ms later (without the journal, lost if the process dies meanwhile).",
    )
    cache_similarity: float = _setting(
        0.95, "Default cosine similarity threshold of the semantic cache (x-aig-cache: semantic)."
    )
    cache_embedding_model: str = _setting(
        "local/all-minilm-l6-v2",
        "Embedding model of the semantic cache: local/all-minilm-l6-v2 (the 'local' extra, "
        "free) or any catalog embedding model (billed to the caller like /v1/embeddings).",
    )
    mcp_sse_max_sessions: int = _setting(
        100,
        "Most MCP legacy SSE sessions (GET /mcp/sse streams) open at once in this process; "
        "one more gets 503.",
    )
    mcp_sse_idle_seconds: float = _setting(
        600.0,
        "An MCP SSE session with no message posted and no call running for this long is "
        "closed (its stream ends; its session id then gets 404).",
    )
    mcp_sse_keepalive_seconds: float = _setting(
        15.0,
        "Interval of the keep-alive comments sent on an idle MCP SSE stream, so proxies "
        "do not cut it (and a gone client is noticed).",
    )

    def __repr__(self) -> str:
        parts = []
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name == "providers":
                value = sorted(value)
            parts.append(f"{f.name}={value!r}")
        return f"Settings({', '.join(parts)})"


ENV_PREFIX = "AIGW_"


def env_name(field_name: str) -> str:
    return ENV_PREFIX + field_name.upper()


def load_settings(
    config_file: str | Path | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Build settings from the layers, later layers winning."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    fields = {f.name: f for f in dataclasses.fields(Settings)}
    path = config_file or env.get("AIGW_CONFIG")
    if path:
        try:
            data = tomllib.loads(Path(path).read_text())
        except FileNotFoundError:
            raise ConfigError(f"config file not found: {path}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
        gateway = data.get("gateway", {})
        for key, raw in gateway.items():
            if key not in fields:
                raise ConfigError(f"unknown setting {key!r} in {path}")
            values[key] = coerce(key, raw, fields[key].type)
        if "providers" in data:
            values["providers"] = coerce("providers", data["providers"], fields["providers"].type)
        if any(name in data for name in ("catalog", "models", "providers")):
            # The same file also adds or overrides catalog providers and models.
            values.setdefault("catalog_file", str(path))
    for name, f in fields.items():
        if name == "providers":
            continue
        raw = env.get(env_name(name))
        if raw is not None and raw != "":
            values[name] = coerce(name, raw, f.type)
    for name, raw in (overrides or {}).items():
        if raw is not None:
            values[name] = coerce(name, raw, fields[name].type)
    settings = Settings(**values)
    if settings.platform_fee_mode not in ("topup", "per_call"):
        raise ConfigError("setting 'platform_fee_mode' must be 'topup' or 'per_call'")
    config_checks.check_routing(settings)
    config_checks.check_files(settings)
    config_checks.check_alerts(settings)
    config_checks.check_cache(settings)
    config_checks.check_mcp_sse(settings)
    return settings
