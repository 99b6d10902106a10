"""OpenAI-compatible upstreams: OpenAI, xAI, Groq, DeepSeek, Mistral, Together, Fireworks,
OpenRouter, Perplexity, vLLM, Ollama and the simulator all speak this one format."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import orjson

from aigw.errors import (
    GatewayError,
    GatewayTimeout,
    InvalidRequest,
    ModelNotFound,
    ServerError,
    UpstreamError,
    UpstreamQuotaExhausted,
    UpstreamSaturated,
)
from aigw.providers.base import Endpoint

if TYPE_CHECKING:
    from aigw.providers.registry import AdapterRegistry


def retry_after_seconds(headers: Mapping[str, str]) -> int | None:
    raw = headers.get("Retry-After") or headers.get("retry-after")
    if not raw:
        return None
    try:
        return max(1, round(float(raw)))
    except ValueError:
        return None


def _error_fields(body: bytes) -> tuple[str | None, str | None, str | None]:
    """(type, code, param) of an OpenAI-style error body; never its message."""
    try:
        data: Any = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None, None, None
    err = data.get("error") if isinstance(data, dict) else None
    if not isinstance(err, dict):
        return None, None, None
    kind, code, param = err.get("type"), err.get("code"), err.get("param")
    return (
        kind if isinstance(kind, str) else None,
        code if isinstance(code, str) else None,
        param if isinstance(param, str) else None,
    )


class OpenAICompatibleAdapter:
    wire_format = "openai"

    def chat_url(self, endpoint: Endpoint, upstream_model: str, *, stream: bool) -> str:
        return endpoint.base_url.rstrip("/") + "/chat/completions"

    def headers(self, endpoint: Endpoint) -> dict[str, str]:
        headers = {"Content-Type": "application/json"}
        if endpoint.api_key:
            headers["Authorization"] = "Bearer " + endpoint.api_key.reveal()
        return headers

    def map_error(
        self, endpoint: Endpoint, status: int, body: bytes, headers: Mapping[str, str]
    ) -> GatewayError:
        kind, code, param = _error_fields(body)
        who = f"Upstream provider '{endpoint.provider_id}'"
        if status == 429 and code == "insufficient_quota":
            return UpstreamQuotaExhausted(f"{who} has no quota left for the gateway's account.")
        if status in (429, 503, 529):
            return UpstreamSaturated(
                f"{who} is saturated (HTTP {status}); retry later.",
                retry_after=retry_after_seconds(headers),
            )
        if status in (401, 403):
            return ServerError(f"{who} rejected the gateway's credentials (HTTP {status}).")
        if status == 404:
            return ModelNotFound(f"{who} does not know this model (HTTP 404).", param="model")
        if status in (408, 504):
            return GatewayTimeout(f"{who} timed out (HTTP {status}).")
        if 400 <= status < 500:
            what = f" ({code or kind})" if (code or kind) else ""
            return InvalidRequest(
                f"{who} rejected the request{what}" + (f"; check '{param}'." if param else "."),
                param=param,
            )
        return UpstreamError(f"{who} failed (HTTP {status}).")


def register(registry: AdapterRegistry) -> None:
    registry.register(OpenAICompatibleAdapter())
