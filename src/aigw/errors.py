"""One error tree for the whole gateway.

Every error a client can see is a ``GatewayError``; its class decides the HTTP status and the
API error ``type`` in exactly one place. Anything else that escapes a handler becomes a
``ServerError`` with a generic message, so internals never leak.

    GatewayError                      (status, type)
    ├── InvalidRequest                400 invalid_request_error   (names the bad ``param``)
    ├── AuthenticationError           401 authentication_error
    ├── PermissionDenied              403 permission_error
    ├── InsufficientCredits           402 insufficient_credits
    ├── BudgetExceeded                402 budget_exceeded
    ├── NotFound                      404 not_found
    │   └── ModelNotFound             404 model_not_found
    ├── MethodNotAllowed              405 invalid_request_error   (Allow: the path's methods)
    ├── Conflict                      409 conflict                (not in a state to do that)
    ├── PayloadTooLarge               413 request_too_large
    ├── RateLimited                   429 rate_limit_error        (Retry-After)
    ├── ServerError                   500 server_error
    │   ├── UpstreamError             500 server_error            (upstream failed after retries)
    │   └── UpstreamQuotaExhausted    500 server_error            (never retried)
    ├── ServiceUnavailable            503 service_unavailable
    │   ├── UpstreamSaturated         503 service_unavailable     (429 / 503 / 529 after retries)
    │   └── ProviderNotConfigured     503 provider_not_configured (names the variable to set)
    └── GatewayTimeout                504 timeout_error

    ConfigError                       not an HTTP error: bad settings, refused at start-up

The body shape follows the reference API:
``{"error": {"message", "type", "code": <HTTP status>, "param"}}``; under Anthropic's Messages
API (``/v1/messages``) the same errors answer in Anthropic's envelope
(``formats/anthropic_messages.error_body``, chosen in ``server/middleware.py``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar


class GatewayError(Exception):
    """Base of every client-visible error."""

    status: ClassVar[int] = 500
    type: ClassVar[str] = "server_error"
    # Whether trying the same upstream call again may succeed (drives gateway retries).
    retryable: ClassVar[bool] = False

    def __init__(
        self,
        message: str,
        *,
        param: str | None = None,
        retry_after: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        self.retry_after = retry_after
        self.extra_headers = dict(headers or {})

    def body(self) -> dict[str, Any]:
        return {
            "error": {
                "message": self.message,
                "type": self.type,
                "code": self.status,
                "param": self.param,
            }
        }

    def headers(self) -> dict[str, str]:
        out = dict(self.extra_headers)
        if self.retry_after is not None:
            out["Retry-After"] = str(max(1, int(self.retry_after)))
        return out


class InvalidRequest(GatewayError):
    status = 400
    type = "invalid_request_error"


class AuthenticationError(GatewayError):
    status = 401
    type = "authentication_error"


class InsufficientCredits(GatewayError):
    status = 402
    type = "insufficient_credits"


class BudgetExceeded(GatewayError):
    status = 402
    type = "budget_exceeded"


class PermissionDenied(GatewayError):
    status = 403
    type = "permission_error"


class NotFound(GatewayError):
    status = 404
    type = "not_found"


class ModelNotFound(NotFound):
    type = "model_not_found"


class MethodNotAllowed(GatewayError):
    """The path exists but not with this method. A sibling of ``InvalidRequest`` rather than a
    child, so code that catches a bad request body never catches a routing answer."""

    status = 405
    type = "invalid_request_error"

    def __init__(self, method: str, allowed: Iterable[str]) -> None:
        methods = sorted({m.upper() for m in allowed})
        super().__init__(
            f"Method {method} is not allowed here; use {', '.join(methods)}.",
            headers={"Allow": ", ".join(methods)},  # RFC 9110: a 405 must name them
        )
        self.method = method
        self.allowed = tuple(methods)


class Conflict(GatewayError):
    """The thing exists but cannot do this now: an eval run still running, a request whose
    body was not kept (the account opted out)."""

    status = 409
    type = "conflict"


class PayloadTooLarge(GatewayError):
    status = 413
    type = "request_too_large"


class RateLimited(GatewayError):
    status = 429
    type = "rate_limit_error"


class ServerError(GatewayError):
    status = 500
    type = "server_error"


class UpstreamError(ServerError):
    """The upstream failed (5xx, bad response, connection error) and retries did not help."""

    retryable = True


class UpstreamQuotaExhausted(ServerError):
    """The gateway's account at the upstream has no quota left: retrying cannot help."""


class ServiceUnavailable(GatewayError):
    status = 503
    type = "service_unavailable"


class UpstreamSaturated(ServiceUnavailable):
    """The upstream answered 429 / 503 / 529 and retries did not help."""

    retryable = True


class ProviderNotConfigured(ServiceUnavailable):
    type = "provider_not_configured"


class GatewayTimeout(GatewayError):
    status = 504
    type = "timeout_error"
    retryable = True


def from_upstream_status(
    status: int, message: str, *, retry_after: int | None = None
) -> GatewayError:
    """Map an upstream HTTP status to the client-facing error (status codes only, never text).

    Client errors caused by the request itself (400, 404, 413, 422) are reported as the
    client's own invalid request; credential problems with the gateway's upstream key are the
    operator's fault, so the client gets a server error rather than a misleading 401.
    """
    if status in (400, 404, 409, 413, 422):
        return InvalidRequest(message)
    if status == 408:
        return GatewayTimeout(message)
    if status in (429, 503, 529):
        return UpstreamSaturated(message, retry_after=retry_after)
    if status == 504:
        return GatewayTimeout(message)
    return UpstreamError(message)


class ConfigError(Exception):
    """A setting, config file or catalog entry is wrong; reported at start-up, never to clients."""
