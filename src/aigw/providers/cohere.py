"""Cohere upstream: ``POST /v2/chat`` with a Bearer key."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from aigw.core.chat import Completion, StreamDecoder
from aigw.errors import GatewayError
from aigw.formats import cohere_chat as codec
from aigw.formats.params import Encoded
from aigw.formats.upstream_json import decode_object
from aigw.providers import mapping
from aigw.providers.base import Endpoint, HeaderAuth

if TYPE_CHECKING:
    from aigw.catalog.models import Model
    from aigw.providers.registry import AdapterRegistry


class CohereAdapter(HeaderAuth):
    wire_format = "cohere"
    stream_content_type = "text/event-stream"

    def chat_url(self, endpoint: Endpoint, upstream_model: str, *, stream: bool) -> str:
        return endpoint.base_url.rstrip("/") + "/v2/chat"

    def headers(self, endpoint: Endpoint) -> dict[str, str]:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if endpoint.api_key:
            headers["Authorization"] = "Bearer " + endpoint.api_key.reveal()
        return headers

    def map_error(
        self, endpoint: Endpoint, status: int, body: bytes, headers: Mapping[str, str]
    ) -> GatewayError:
        # Cohere's error bodies carry only a message: the status code is all there is.
        if status == 402:
            return mapping.quota(endpoint)
        if status in (429, 503):
            return mapping.saturated(endpoint, status, headers)
        if status in (401, 403):
            return mapping.credentials(endpoint, status)
        if status == 404:
            return mapping.not_found(endpoint)
        if 400 <= status < 500 and status not in (408, 499):
            return mapping.rejected(endpoint, None)
        return mapping.failed(endpoint, status)

    def encode_request(self, body: dict[str, Any], model: Model, *, stream: bool) -> Encoded:
        return codec.encode_request(body, model.upstream_id, stream=stream)

    def decode_response(self, raw: bytes) -> Completion:
        return codec.completion_from_cohere(decode_object(raw))

    def stream_decoder(self) -> StreamDecoder:
        return codec.CohereStreamDecoder()


def register(registry: AdapterRegistry) -> None:
    registry.register(CohereAdapter())
