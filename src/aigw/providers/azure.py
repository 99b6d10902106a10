"""Azure OpenAI upstream: OpenAI's chat format at a resource's deployment URLs.

The provider's base URL is the resource endpoint (``https://<resource>.openai.azure.com``);
a model's ``upstream_id`` is the deployment name, so the model -> deployment mapping is the
catalog's (override ``upstream_id`` per model in the config file). ``api-version`` defaults to
``DEFAULT_API_VERSION``; a base URL ending in ``?api-version=...`` picks another. Requests
and streams are OpenAI's, so they take the same-format pass-through path.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, quote, urlsplit, urlunsplit

import orjson

from aigw.errors import GatewayError
from aigw.providers import mapping
from aigw.providers.base import Endpoint
from aigw.providers.openai_compatible import OpenAICompatibleAdapter

if TYPE_CHECKING:
    from aigw.providers.registry import AdapterRegistry

DEFAULT_API_VERSION = "2024-10-21"


def _code(body: bytes) -> str | None:
    try:
        data: Any = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    err = data.get("error") if isinstance(data, dict) else None
    code = err.get("code") if isinstance(err, dict) else None
    return code if isinstance(code, str) else None


class AzureOpenAIAdapter:
    wire_format = "azure"

    def __init__(self) -> None:
        self._openai = OpenAICompatibleAdapter()

    def chat_url(self, endpoint: Endpoint, upstream_model: str, *, stream: bool) -> str:
        parts = urlsplit(endpoint.base_url)
        version = parse_qs(parts.query).get("api-version", [DEFAULT_API_VERSION])[0]
        root = urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), "", ""))
        deployment = quote(upstream_model, safe="")
        return (
            f"{root}/openai/deployments/{deployment}/chat/completions"
            f"?api-version={quote(version, safe='')}"
        )

    def headers(self, endpoint: Endpoint) -> dict[str, str]:
        headers = {"Content-Type": "application/json"}
        if endpoint.api_key:
            headers["api-key"] = endpoint.api_key.reveal()
        return headers

    def map_error(
        self, endpoint: Endpoint, status: int, body: bytes, headers: Mapping[str, str]
    ) -> GatewayError:
        if status == 400 and _code(body) == "context_length_exceeded":
            return mapping.context_too_long(endpoint)
        return self._openai.map_error(endpoint, status, body, headers)


def register(registry: AdapterRegistry) -> None:
    registry.register(AzureOpenAIAdapter())
