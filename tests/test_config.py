"""Settings layers, the config file, and secrets that never print."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from aigw.config import Secret, Settings, load_settings
from aigw.errors import ConfigError


def test_defaults_are_the_embedded_setup() -> None:
    settings = load_settings(environ={})
    assert settings.database_url == "sqlite:///aigw.db"
    assert (settings.host, settings.port) == ("127.0.0.1", 8080)
    assert settings.admin_key is None


def test_layers_file_then_env_then_flags(tmp_path: Path) -> None:
    conf = tmp_path / "aigw.toml"
    conf.write_text('[gateway]\nport = 9000\nhost = "0.0.0.0"\nmax_body_bytes = 1000\n')
    settings = load_settings(conf, environ={"AIGW_PORT": "9100"}, overrides={"host": "::1"})
    assert settings.port == 9100 and settings.host == "::1" and settings.max_body_bytes == 1000


def test_every_setting_has_an_environment_variable() -> None:
    import dataclasses

    environ = {
        "AIGW_HOST": "10.0.0.1",
        "AIGW_PORT": "1",
        "AIGW_DATABASE_URL": "postgresql://x@y/z",
        "AIGW_ADMIN_KEY": "sk-aig-admin-zzz",
        "AIGW_MAX_BODY_BYTES": "5",
        "AIGW_KEY_REFRESH_SECONDS": "0.5",
        "AIGW_UPSTREAM_CONNECT_TIMEOUT": "1.5",
        "AIGW_UPSTREAM_TOTAL_TIMEOUT": "2.5",
        "AIGW_UPSTREAM_MAX_ATTEMPTS": "3",
        "AIGW_UPSTREAM_TTFT_TIMEOUT": "5",
        "AIGW_UPSTREAM_IDLE_TIMEOUT": "7",
        "AIGW_ROUTING_MAX_ATTEMPTS": "4",
        "AIGW_ROUTING_MAX_SECONDS": "9.5",
        "AIGW_ROUTING_POLICY": "lowest_latency",
        "AIGW_BREAKER_FAILURE_RATE": "0.25",
        "AIGW_BREAKER_MIN_REQUESTS": "20",
        "AIGW_BREAKER_WINDOW_SECONDS": "60",
        "AIGW_BREAKER_COOLDOWN_SECONDS": "5",
        "AIGW_HEALTH_WINDOW_SECONDS": "600",
        "AIGW_METRICS_ENABLED": "false",
        "AIGW_LOG_FORMAT": "json",
        "AIGW_LOG_FLUSH_SECONDS": "0.1",
        "AIGW_LOG_LEVEL": "DEBUG",
        "AIGW_ACCESS_LOG": "true",
        "AIGW_CATALOG_FILE": "/etc/aigw/models.toml",
        "AIGW_BILLING_ENABLED": "false",
        "AIGW_CHARGE_JOURNAL": "false",
        "AIGW_FAST_LANE": "false",
        "AIGW_PLATFORM_FEE_PERCENT": "2.5",
        "AIGW_PLATFORM_FEE_MODE": "per_call",
        "AIGW_BYOK_FEE_PER_1M": "0.10",
        "AIGW_RESERVE_OUTPUT_TOKENS": "1000",
        "AIGW_SECRET_KEY": "server-secret",
        "AIGW_REDIS_URL": "redis://127.0.0.1:6379/0",
        "AIGW_REDIS_TIMEOUT_MS": "100",
        "AIGW_RATE_LIMIT_RPM": "100",
        "AIGW_RATE_LIMIT_TPM": "100000",
        "AIGW_RATE_LIMIT_FAIL_OPEN": "false",
        "AIGW_SECRET_KEY_FILE": "/var/lib/aigw/aigw.key",
        "AIGW_DATA_DIR": "/var/lib/aigw/data",
        "AIGW_JOB_POLL_SECONDS": "0.5",
        "AIGW_WEBHOOK_ALLOW_PRIVATE": "true",
        "AIGW_WEBHOOK_RETRY_BASE_SECONDS": "1",
        "AIGW_AUTO_POOL": "openai/gpt-5-nano,xai/grok-4.3",
        "AIGW_AUTO_ROUTER_FILE": "/etc/aigw/auto.json",
        "AIGW_AUTO_ROUTE_FEE_CENTS": "0.5",
        "AIGW_REPLAY_STORE_BODIES": "false",
        "AIGW_REPLAY_RETENTION_DAYS": "7.5",
        "AIGW_REPLAY_PRUNE_SECONDS": "60",
        "AIGW_SHADOW_CONCURRENCY": "2",
        "AIGW_EVAL_CONCURRENCY": "8",
        "AIGW_EVAL_WAIT_SECONDS": "5",
        "AIGW_EVAL_JUDGE_MODEL": "openai/gpt-4o-mini",
        "AIGW_AUTO_PRIORS_FROM_EVALS": "false",
        "AIGW_FILES_STORAGE": "s3",
        "AIGW_S3_BUCKET": "aigw-files",
        "AIGW_S3_ENDPOINT_URL": "http://127.0.0.1:9000",
        "AIGW_S3_REGION": "eu-west-1",
        "AIGW_S3_ACCESS_KEY_ID": "AKIDTEST",
        "AIGW_S3_SECRET_ACCESS_KEY": "s3-secret",
        "AIGW_S3_PREFIX": "aigw/",
        "AIGW_BALANCE_LOW_THRESHOLD": "5",
        "AIGW_USAGE_ALERT_THRESHOLDS": "50,100",
        "AIGW_BATCH_COMPLETION_WINDOW_SECONDS": "60",
        "AIGW_CACHE_ENABLED": "false",
        "AIGW_CACHE_MODE": "force",
        "AIGW_CACHE_TTL_SECONDS": "60",
        "AIGW_CACHE_MAX_BYTES": "1000000",
        "AIGW_CACHE_MAX_ENTRY_BYTES": "10000",
        "AIGW_CACHE_HIT_PRICE_PERCENT": "25",
        "AIGW_CACHE_HIT_WAIT_FOR_COMMIT": "true",
        "AIGW_CACHE_SIMILARITY": "0.9",
        "AIGW_CACHE_EMBEDDING_MODEL": "local/all-minilm-l6-v2",
        "AIGW_MCP_SSE_MAX_SESSIONS": "7",
        "AIGW_MCP_SSE_IDLE_SECONDS": "30",
        "AIGW_MCP_SSE_KEEPALIVE_SECONDS": "2.5",
    }
    settings = load_settings(environ=environ)
    names = {f.name for f in dataclasses.fields(Settings)} - {"providers"}
    assert {f"AIGW_{n.upper()}" for n in names} == set(environ)
    assert settings.admin_key == Secret("sk-aig-admin-zzz")
    assert settings.upstream_max_attempts == 3 and settings.access_log is True
    assert settings.routing_policy == "lowest_latency" and settings.routing_max_seconds == 9.5
    assert settings.log_format == "json" and settings.metrics_enabled is False
    assert settings.platform_fee_percent == Decimal("2.5") and settings.billing_enabled is False
    assert settings.charge_journal is False
    assert settings.auto_route_fee_cents == Decimal("0.5")
    assert settings.replay_store_bodies is False and settings.replay_retention_days == 7.5
    assert settings.shadow_concurrency == 2 and settings.eval_judge_model == "openai/gpt-4o-mini"
    assert settings.auto_priors_from_evals is False
    assert settings.mcp_sse_max_sessions == 7 and settings.mcp_sse_keepalive_seconds == 2.5
    assert settings.cache_mode == "force" and settings.cache_hit_price_percent == Decimal(25)


def test_secrets_never_print(tmp_path: Path) -> None:
    conf = tmp_path / "aigw.toml"
    conf.write_text('[providers.xai]\napi_key = "xai-very-secret-1234"\n')
    settings = load_settings(conf, environ={"AIGW_ADMIN_KEY": "sk-aig-admin-hush"})
    text = repr(settings) + str(settings.admin_key)
    assert "hush" not in text and "very-secret" not in text
    assert settings.catalog_file == str(conf)


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ("[gateway]\nport = 'abc'\n", "port"),
        ("[gateway]\nnot_a_setting = 1\n", "not_a_setting"),
        ("[gateway\n", "not valid TOML"),
        ("[gateway]\nplatform_fee_mode = 'sometimes'\n", "platform_fee_mode"),
        ("[gateway]\nplatform_fee_percent = -1\n", "platform_fee_percent"),
        ("[gateway]\nrouting_policy = 'pinned'\n", "routing_policy"),
        ("[gateway]\nlog_format = 'xml'\n", "log_format"),
        ("[gateway]\nbreaker_failure_rate = 0\n", "breaker_failure_rate"),
        ("[gateway]\nupstream_idle_timeout = -1\n", "upstream_idle_timeout"),
        ("[gateway]\ncache_mode = 'always'\n", "cache_mode"),
        ("[gateway]\ncache_similarity = 1.5\n", "cache_similarity"),
        ("[gateway]\nmcp_sse_max_sessions = 0\n", "mcp_sse_max_sessions"),
        ("[gateway]\nmcp_sse_idle_seconds = 0\n", "mcp_sse_idle_seconds"),
    ],
)
def test_bad_config_is_refused_clearly(tmp_path: Path, content: str, needle: str) -> None:
    conf = tmp_path / "aigw.toml"
    conf.write_text(content)
    with pytest.raises(ConfigError) as info:
        load_settings(conf, environ={})
    assert needle in str(info.value)


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "nope.toml", environ={})


def test_bad_env_value_names_the_variable() -> None:
    with pytest.raises(ConfigError, match="max_body_bytes"):
        load_settings(environ={"AIGW_MAX_BODY_BYTES": "lots"})
