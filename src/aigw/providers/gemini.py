"""Google Gemini upstream: ``/v1beta/models/{model}:generateContent`` and
``:streamGenerateContent?alt=sse``, authenticated with ``x-goog-api-key``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from aigw.core.chat import Completion, StreamDecoder
from aigw.errors import GatewayError
from aigw.formats import gemini as codec
from aigw.formats.params import Encoded
from aigw.formats.upstream_json import decode_object
from aigw.providers import mapping
from aigw.providers.base import Endpoint, HeaderAuth

if TYPE_CHECKING:
    from aigw.catalog.models import Model
    from aigw.providers.registry import AdapterRegistry


class GeminiAdapter(HeaderAuth):
    wire_format = "gemini"
    stream_content_type = "text/event-stream"

    def chat_url(self, endpoint: Endpoint, upstream_model: str, *, stream: bool) -> str:
        base = endpoint.base_url.rstrip("/")
        if not base.endswith(("/v1beta", "/v1")):
            base += "/v1beta"
        if stream:
            return f"{base}/models/{upstream_model}:streamGenerateContent?alt=sse"
        return f"{base}/models/{upstream_model}:generateContent"

    def headers(self, endpoint: Endpoint) -> dict[str, str]:
        headers = {"Content-Type": "application/json"}
        if endpoint.api_key:
            headers["x-goog-api-key"] = endpoint.api_key.reveal()
        return headers

    def map_error(
        self, endpoint: Endpoint, status: int, body: bytes, headers: Mapping[str, str]
    ) -> GatewayError:
        kind, delay, quotas, reasons = codec.error_fields(body)
        if status == 429 or kind == "RESOURCE_EXHAUSTED":
            if delay is None and any("PerDay" in q for q in quotas):
                return mapping.quota(endpoint)
            return mapping.saturated(endpoint, status, headers, delay)
        if "API_KEY_INVALID" in reasons or status in (401, 403):
            return mapping.credentials(endpoint, status)
        if status == 404:
            return mapping.not_found(endpoint)
        if status == 503 or kind == "UNAVAILABLE":
            return mapping.saturated(endpoint, status, headers)
        if 400 <= status < 500 and status != 408:
            return mapping.rejected(endpoint, kind)
        return mapping.failed(endpoint, status)

    def encode_request(self, body: dict[str, Any], model: Model, *, stream: bool) -> Encoded:
        return codec.encode_request(body)

    def decode_response(self, raw: bytes) -> Completion:
        return codec.completion_from_gemini(decode_object(raw))

    def stream_decoder(self) -> StreamDecoder:
        return codec.GeminiStreamDecoder()


def register(registry: AdapterRegistry) -> None:
    registry.register(GeminiAdapter())
