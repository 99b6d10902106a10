"""What a provider adapter is: auth, URLs and error mapping for one upstream wire format.

Adapters hold no connections and no credentials of their own: the registry hands each call
the provider's pooled HTTP client and its ``Endpoint`` (base URL and key), so credentials are
arguments, never globals.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from aigw.config import Secret
from aigw.errors import GatewayError


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where one provider is reached and with which key, resolved from catalog + settings."""

    provider_id: str
    base_url: str
    api_key: Secret | None
    key_required: bool
    api_key_env: str | None

    def __repr__(self) -> str:
        key = "set" if self.api_key else "unset"
        return f"Endpoint({self.provider_id!r}, {self.base_url!r}, key={key})"


class ProviderAdapter(Protocol):
    """One upstream wire format.

    Implementers must be stateless and cheap: ``chat_url`` and ``headers`` run on every
    request. ``map_error`` turns an upstream error response into a client-facing error using
    the status code and the vendor's structured error type only (never message text), and
    must never copy upstream bodies, keys or URLs into the message.
    """

    wire_format: str

    def chat_url(self, endpoint: Endpoint, upstream_model: str, *, stream: bool) -> str: ...

    def headers(self, endpoint: Endpoint) -> dict[str, str]: ...

    def map_error(
        self, endpoint: Endpoint, status: int, body: bytes, headers: Mapping[str, str]
    ) -> GatewayError: ...
