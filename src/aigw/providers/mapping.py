"""The client-facing errors every adapter maps upstream failures to, with one wording.

Adapters decide *which* by status code and the vendor's structured error type; these build
the error itself, never quoting the upstream's message, keys or URLs.
"""

from __future__ import annotations

from collections.abc import Mapping

from aigw.errors import (
    GatewayError,
    GatewayTimeout,
    InvalidRequest,
    ModelNotFound,
    PayloadTooLarge,
    ServerError,
    UpstreamError,
    UpstreamQuotaExhausted,
    UpstreamSaturated,
)
from aigw.providers.base import Endpoint
from aigw.providers.openai_compatible import retry_after_seconds


def _who(endpoint: Endpoint) -> str:
    return f"Upstream provider '{endpoint.provider_id}'"


def saturated(
    endpoint: Endpoint, status: int, headers: Mapping[str, str], retry_after: int | None = None
) -> GatewayError:
    return UpstreamSaturated(
        f"{_who(endpoint)} is saturated (HTTP {status}); retry later.",
        retry_after=retry_after if retry_after is not None else retry_after_seconds(headers),
    )


def quota(endpoint: Endpoint) -> GatewayError:
    return UpstreamQuotaExhausted(f"{_who(endpoint)} has no quota left for the gateway's account.")


def credentials(endpoint: Endpoint, status: int) -> GatewayError:
    return ServerError(f"{_who(endpoint)} rejected the gateway's credentials (HTTP {status}).")


def not_found(endpoint: Endpoint) -> GatewayError:
    return ModelNotFound(f"{_who(endpoint)} does not know this model (HTTP 404).", param="model")


def too_large(endpoint: Endpoint) -> GatewayError:
    return PayloadTooLarge(f"{_who(endpoint)} found the request too large (HTTP 413).")


def rejected(endpoint: Endpoint, kind: str | None) -> GatewayError:
    what = f" ({kind})" if kind else ""
    return InvalidRequest(
        f"{_who(endpoint)} rejected the request as invalid{what}; check the parameters, and "
        "that the prompt fits the model's context window."
    )


def context_too_long(endpoint: Endpoint) -> GatewayError:
    return InvalidRequest(
        f"{_who(endpoint)} says the prompt is longer than the model's context window; "
        "shorten it or choose a model with a longer context.",
        param="messages",
    )


def failed(endpoint: Endpoint, status: int) -> GatewayError:
    if status in (408, 504):
        return GatewayTimeout(f"{_who(endpoint)} timed out (HTTP {status}).")
    return UpstreamError(f"{_who(endpoint)} failed (HTTP {status}).")
