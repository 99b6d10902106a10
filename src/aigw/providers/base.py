"""What a provider adapter is: auth, URLs and error mapping for one upstream wire format.

Adapters hold no connections and no credentials of their own: the registry hands each call
the provider's pooled HTTP client and its ``Endpoint`` (base URL and key), so credentials are
arguments, never globals.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from aigw.config import Secret
from aigw.core.chat import Completion, StreamDecoder
from aigw.errors import GatewayError
from aigw.formats.params import Encoded

if TYPE_CHECKING:
    from aigw.catalog.models import Model


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


@runtime_checkable
class Translator(Protocol):
    """Optional capability of an adapter whose upstream does not speak OpenAI chat.

    The gateway's requests are OpenAI chat requests (already checked); a translator encodes
    one for its upstream, and decodes the upstream's answer, whole or streamed, into the
    neutral types of ``aigw.core.chat``. All of it is pure: the codecs live in ``formats/``.

    - ``encode_request`` returns the upstream body and the warnings for ``x-aig-warning``;
      it raises ``InvalidRequest`` for a parameter it cannot honour without changing the
      answer.
    - ``request_headers`` returns every header of the call (auth included). ``options`` are
      the provider's settings: its ``[providers.<id>]`` table over the environment, for
      adapters that need more than one credential (AWS). It may sign ``payload``.
    - ``stream_content_type`` is the content type of a successful streamed answer.
    """

    stream_content_type: str

    def encode_request(self, body: dict[str, Any], model: Model, *, stream: bool) -> Encoded: ...

    def request_headers(
        self, endpoint: Endpoint, url: str, payload: bytes, options: Mapping[str, str]
    ) -> dict[str, str]: ...

    def decode_response(self, raw: bytes) -> Completion: ...

    def stream_decoder(self) -> StreamDecoder: ...


class HeaderAuth:
    """Base for a translating adapter whose key rides in a fixed header: a call's headers are
    ``headers()`` whatever its URL and payload (Bedrock's, signed per request, are not)."""

    def headers(self, endpoint: Endpoint) -> dict[str, str]:
        raise NotImplementedError

    def request_headers(
        self, endpoint: Endpoint, url: str, payload: bytes, options: Mapping[str, str]
    ) -> dict[str, str]:
        return self.headers(endpoint)


def translator_of(adapter: ProviderAdapter) -> Translator | None:
    """The adapter's translating side, or None for an OpenAI-format upstream."""
    return adapter if isinstance(adapter, Translator) else None
