"""Anthropic upstream: ``POST /v1/messages`` with ``x-api-key`` and ``anthropic-version``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from aigw.core.chat import Completion, StreamDecoder
from aigw.errors import GatewayError
from aigw.formats import anthropic_messages as codec
from aigw.formats.anthropic_stream import AnthropicStreamDecoder
from aigw.formats.params import Encoded
from aigw.formats.upstream_json import decode_object
from aigw.providers import mapping
from aigw.providers.base import Endpoint, HeaderAuth

if TYPE_CHECKING:
    from aigw.catalog.models import Model
    from aigw.providers.registry import AdapterRegistry

ANTHROPIC_VERSION = "2023-06-01"


class AnthropicAdapter(HeaderAuth):
    wire_format = "anthropic"
    stream_content_type = "text/event-stream"

    def chat_url(self, endpoint: Endpoint, upstream_model: str, *, stream: bool) -> str:
        return endpoint.base_url.rstrip("/") + "/v1/messages"

    def count_tokens_url(self, endpoint: Endpoint) -> str:
        return endpoint.base_url.rstrip("/") + "/v1/messages/count_tokens"

    def headers(self, endpoint: Endpoint) -> dict[str, str]:
        headers = {"Content-Type": "application/json", "anthropic-version": ANTHROPIC_VERSION}
        if endpoint.api_key:
            headers["x-api-key"] = endpoint.api_key.reveal()
        return headers

    def map_error(
        self, endpoint: Endpoint, status: int, body: bytes, headers: Mapping[str, str]
    ) -> GatewayError:
        kind, code = codec.error_fields(body)
        if status == 402 or kind == "billing_error" or code == "enforced_spend_limit_reached":
            return mapping.quota(endpoint)
        if status in (429, 503, 529) or kind in ("rate_limit_error", "overloaded_error"):
            return mapping.saturated(endpoint, status, headers)
        if status in (401, 403):
            return mapping.credentials(endpoint, status)
        if status == 404:
            return mapping.not_found(endpoint)
        if status == 413:
            return mapping.too_large(endpoint)
        if 400 <= status < 500 and status != 408:
            return mapping.rejected(endpoint, kind)
        return mapping.failed(endpoint, status)

    def encode_request(self, body: dict[str, Any], model: Model, *, stream: bool) -> Encoded:
        return codec.encode_request(
            body, model.upstream_id, max_output=model.max_output_tokens, stream=stream
        )

    def decode_response(self, raw: bytes) -> Completion:
        return codec.completion_from_anthropic(decode_object(raw))

    def stream_decoder(self) -> StreamDecoder:
        return AnthropicStreamDecoder()


def register(registry: AdapterRegistry) -> None:
    registry.register(AnthropicAdapter())
