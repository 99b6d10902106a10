"""AWS Bedrock upstream: ``/model/{id}/converse`` and ``/converse-stream``, SigV4-signed.

Credentials are arguments: the secret access key is the provider's key (``api_key`` or
``AWS_SECRET_ACCESS_KEY``); the access key id, an optional session token and the region come
from the provider's options (``[providers.bedrock]`` ``access_key_id`` / ``session_token`` /
``region``, else ``AWS_ACCESS_KEY_ID`` / ``AWS_SESSION_TOKEN`` / ``AWS_REGION``); the region
defaults to the one in the base URL's host (``bedrock-runtime.<region>.amazonaws.com``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

from aigw.core.chat import Completion, StreamDecoder
from aigw.errors import GatewayError, ProviderNotConfigured
from aigw.formats import bedrock_converse as codec
from aigw.formats.params import Encoded
from aigw.formats.upstream_json import decode_object
from aigw.providers import mapping
from aigw.providers.aws_sigv4 import Credentials, sign
from aigw.providers.base import Endpoint

if TYPE_CHECKING:
    from aigw.catalog.models import Model
    from aigw.providers.registry import AdapterRegistry

SERVICE = "bedrock"
DEFAULT_REGION = "us-east-1"
_HOST_REGION = re.compile(r"bedrock-runtime(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com")


def _option(options: Mapping[str, str], *names: str) -> str | None:
    for name in names:
        value = options.get(name)
        if value:
            return value
    return None


def credentials(endpoint: Endpoint, options: Mapping[str, str]) -> Credentials:
    secret = _option(options, "secret_access_key") or (
        endpoint.api_key.reveal() if endpoint.api_key else None
    )
    key_id = _option(options, "access_key_id", "AWS_ACCESS_KEY_ID")
    if not secret or not key_id:
        missing = "AWS_ACCESS_KEY_ID" if secret else "AWS_SECRET_ACCESS_KEY"
        raise ProviderNotConfigured(
            f"Provider '{endpoint.provider_id}' needs AWS credentials: set {missing} (or "
            f"[providers.{endpoint.provider_id}] access_key_id / api_key in the config file)."
        )
    token = _option(options, "session_token", "AWS_SESSION_TOKEN")
    return Credentials(key_id, secret, token)


def region(endpoint: Endpoint, options: Mapping[str, str]) -> str:
    found = _option(options, "region", "AWS_REGION", "AWS_DEFAULT_REGION")
    if found:
        return found
    match = _HOST_REGION.search(urlsplit(endpoint.base_url).netloc)
    return match.group(1) if match else DEFAULT_REGION


class BedrockAdapter:
    wire_format = "bedrock"
    stream_content_type = codec.CONTENT_TYPE

    def chat_url(self, endpoint: Endpoint, upstream_model: str, *, stream: bool) -> str:
        model = quote(upstream_model, safe=":@")  # sent as is; SigV4 signs it as sent
        action = "converse-stream" if stream else "converse"
        return f"{endpoint.base_url.rstrip('/')}/model/{model}/{action}"

    def headers(self, endpoint: Endpoint) -> dict[str, str]:
        return {"Content-Type": "application/json", "Accept": "application/json"}

    def request_headers(
        self, endpoint: Endpoint, url: str, payload: bytes, options: Mapping[str, str]
    ) -> dict[str, str]:
        return sign(
            "POST",
            url,
            self.headers(endpoint),
            payload,
            credentials(endpoint, options),
            region=region(endpoint, options),
            service=SERVICE,
        )

    def map_error(
        self, endpoint: Endpoint, status: int, body: bytes, headers: Mapping[str, str]
    ) -> GatewayError:
        kind = codec.error_type(headers, body)
        if kind == "ServiceQuotaExceededException":
            return mapping.quota(endpoint)
        if kind in ("ThrottlingException", "ServiceUnavailableException",
                    "ModelNotReadyException") or status in (429, 503):  # fmt: skip
            return mapping.saturated(endpoint, status, headers)
        if status in (401, 403) or kind in ("AccessDeniedException", "UnrecognizedClientException"):
            return mapping.credentials(endpoint, status)
        if status == 404 or kind == "ResourceNotFoundException":
            return mapping.not_found(endpoint)
        if kind == "ModelTimeoutException":
            return mapping.failed(endpoint, 408)
        if 400 <= status < 500 and status != 408:
            return mapping.rejected(endpoint, kind)
        return mapping.failed(endpoint, status)

    def encode_request(self, body: dict[str, Any], model: Model, *, stream: bool) -> Encoded:
        return codec.encode_request(body, max_output=model.max_output_tokens)

    def decode_response(self, raw: bytes) -> Completion:
        return codec.completion_from_bedrock(decode_object(raw))

    def stream_decoder(self) -> StreamDecoder:
        return codec.BedrockStreamDecoder()


def register(registry: AdapterRegistry) -> None:
    registry.register(BedrockAdapter())
