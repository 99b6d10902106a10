"""Checks of settings that a type alone cannot express (choices, ranges, settings that need
each other); ``load_settings`` runs them and each failure is a ConfigError naming the
setting."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aigw.errors import ConfigError

if TYPE_CHECKING:
    from aigw.config import Settings


def check_alerts(settings: Settings) -> None:
    from aigw.webhooks.alerts import parse_thresholds

    try:
        parse_thresholds(settings.usage_alert_thresholds)
    except (ValueError, ArithmeticError):
        raise ConfigError(
            "setting 'usage_alert_thresholds' must be comma-separated positive USD amounts"
        ) from None


def check_files(settings: Settings) -> None:
    if settings.files_storage not in ("local", "s3"):
        raise ConfigError("setting 'files_storage' must be 'local' or 's3'")
    if settings.files_storage == "s3" and not settings.s3_bucket:
        raise ConfigError("setting 's3_bucket' is required when files_storage is 's3'")


def check_cache(settings: Settings) -> None:
    if settings.cache_mode not in ("auto", "force", "skip"):
        raise ConfigError("setting 'cache_mode' must be auto, force or skip")
    if not 0 < settings.cache_similarity <= 1:
        raise ConfigError("setting 'cache_similarity' must be within (0, 1]")
    if settings.cache_ttl_seconds < 1:
        raise ConfigError("setting 'cache_ttl_seconds' must be at least 1")


ROUTING_POLICIES = ("weighted", "lowest_latency", "lowest_cost", "highest_throughput")


def check_routing(settings: Settings) -> None:
    if settings.routing_policy not in ROUTING_POLICIES:
        raise ConfigError(f"setting 'routing_policy' must be one of {', '.join(ROUTING_POLICIES)}")
    if not 0 < settings.breaker_failure_rate <= 1:
        raise ConfigError("setting 'breaker_failure_rate' must be within (0, 1]")
    if settings.log_format not in ("text", "json"):
        raise ConfigError("setting 'log_format' must be 'text' or 'json'")
    for name in ("upstream_ttft_timeout", "upstream_idle_timeout", "routing_max_seconds"):
        if getattr(settings, name) < 0:
            raise ConfigError(f"setting {name!r} must not be negative")


def check_mcp_sse(settings: Settings) -> None:
    if settings.mcp_sse_max_sessions < 1:
        raise ConfigError("setting 'mcp_sse_max_sessions' must be at least 1")
    for name in ("mcp_sse_idle_seconds", "mcp_sse_keepalive_seconds"):
        if getattr(settings, name) <= 0:
            raise ConfigError(f"setting {name!r} must be positive")
