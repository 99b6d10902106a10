"""Simulator settings: per server (``SimConfig``), overridable per request by ``x-sim-*`` headers.

Headers exist for tests that call the simulator directly; tests that go through a gateway
(which does not forward client headers) script it through the control API instead.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aigw.simulator.faults import Fault, check_fault_name

DEFAULT_MODELS = ("sim-gpt-4o-mini", "sim-gpt-4.1", "sim-o4-mini", "sim-reasoner")
USAGE_STYLES = ("openai", "deepseek")


@dataclass(frozen=True, slots=True)
class SimConfig:
    """Server-wide behaviour. Times are milliseconds unless named ``*_seconds``.

    ``tokens_per_second`` 0 means unpaced (everything as fast as possible). ``output_tokens``
    forces the answer length; otherwise each prompt gets a stable length within
    ``min_output_tokens..max_output_tokens``. ``fault`` is applied to ``fault_rate`` of chat
    requests. ``usage_style`` "deepseek" puts usage on the finish chunk of a stream.
    ``aws_secret_access_key`` makes the Bedrock routes check each request's SigV4 signature.
    """

    latency_ms: float = 0.0
    ttft_ms: float = 0.0
    tokens_per_second: float = 0.0
    output_tokens: int | None = None
    min_output_tokens: int = 20
    max_output_tokens: int = 160
    fault: str | None = None
    fault_rate: float = 1.0
    fault_status: int | None = None
    retry_after: float = 1.0
    fault_after_chunks: int = 3
    fault_delay_ms: float = 3000.0
    hang_seconds: float = 300.0
    seed: int = 0
    require_key: str | None = None
    aws_secret_access_key: str | None = None
    usage_style: str = "openai"
    models: tuple[str, ...] = DEFAULT_MODELS
    replay_path: str | None = None
    log_size: int = 100
    cache_size: int = 4096

    def __post_init__(self) -> None:
        if self.fault is not None:
            check_fault_name(self.fault)
        if self.usage_style not in USAGE_STYLES:
            raise ValueError(f"usage_style must be one of {USAGE_STYLES}")
        if not 0.0 <= self.fault_rate <= 1.0:
            raise ValueError("fault_rate must be within 0..1")
        if min(self.latency_ms, self.ttft_ms, self.tokens_per_second, self.hang_seconds) < 0:
            raise ValueError("times and rates must not be negative")
        if not 0 < self.min_output_tokens <= self.max_output_tokens:
            raise ValueError("need 0 < min_output_tokens <= max_output_tokens")

    def server_fault(self) -> Fault | None:
        if self.fault is None:
            return None
        return Fault(self.fault, status=self.fault_status)

    def updated(self, patch: Mapping[str, Any]) -> SimConfig:
        """A copy with ``patch`` applied (the control API's ``POST /_sim/config``)."""
        names = {f.name for f in dataclasses.fields(self)}
        unknown = set(patch) - names
        if unknown:
            raise ValueError(f"unknown setting(s): {', '.join(sorted(unknown))}")
        values = dict(patch)
        if "models" in values:
            values["models"] = tuple(values["models"])
        return dataclasses.replace(self, **values)


@dataclass(frozen=True, slots=True)
class RequestSettings:
    """The effective settings for one request (server config plus its ``x-sim-*`` headers)."""

    latency_ms: float
    ttft_ms: float
    tokens_per_second: float
    output_tokens: int | None
    usage_style: str
    fault: Fault | None


def request_settings(config: SimConfig, headers: Mapping[str, str]) -> RequestSettings:
    """Apply ``x-sim-*`` headers; a malformed value raises ValueError (answered with 400)."""
    fault_name = headers.get("x-sim-fault")
    fault = None
    if fault_name:
        fault = Fault(
            check_fault_name(fault_name),
            status=_int(headers.get("x-sim-fault-status")),
            retry_after=_float(headers.get("x-sim-retry-after")),
            after_chunks=_int(headers.get("x-sim-fault-after-chunks")),
            delay_ms=_float(headers.get("x-sim-fault-delay-ms")),
        )
    style = headers.get("x-sim-usage-style", config.usage_style)
    if style not in USAGE_STYLES:
        raise ValueError(f"x-sim-usage-style must be one of {USAGE_STYLES}")
    latency = _float(headers.get("x-sim-latency-ms"))
    ttft = _float(headers.get("x-sim-ttft-ms"))
    tps = _float(headers.get("x-sim-tokens-per-second"))
    output = _int(headers.get("x-sim-output-tokens"))
    return RequestSettings(
        latency_ms=config.latency_ms if latency is None else latency,
        ttft_ms=config.ttft_ms if ttft is None else ttft,
        tokens_per_second=config.tokens_per_second if tps is None else tps,
        output_tokens=config.output_tokens if output is None else output,
        usage_style=style,
        fault=fault,
    )


def _float(value: str | None) -> float | None:
    if value is None:
        return None
    number = float(value)
    if number < 0:
        raise ValueError(f"negative value {value!r}")
    return number


def _int(value: str | None) -> int | None:
    return None if value is None else int(_float(value) or 0)
