"""The translating adapters' shared parts: a key header sent as is on every call, and whole
answers that are not JSON or not an object refused as the upstream's fault."""

from __future__ import annotations

import pytest

from aigw.config import Secret
from aigw.errors import UpstreamError
from aigw.providers.anthropic import AnthropicAdapter
from aigw.providers.base import Endpoint, HeaderAuth, Translator, translator_of
from aigw.providers.bedrock import BedrockAdapter
from aigw.providers.cohere import CohereAdapter
from aigw.providers.gemini import GeminiAdapter

Keyed = AnthropicAdapter | CohereAdapter | GeminiAdapter
KEYED: list[tuple[Keyed, str, str]] = [
    (AnthropicAdapter(), "x-api-key", "k-1"),
    (CohereAdapter(), "Authorization", "Bearer k-1"),
    (GeminiAdapter(), "x-goog-api-key", "k-1"),
]


def _endpoint(key: str | None) -> Endpoint:
    return Endpoint("p", "https://up.example", Secret(key) if key else None, True, None)


@pytest.mark.parametrize(("adapter", "name", "value"), KEYED)
def test_a_key_header_adapter_sends_the_same_headers_on_every_call(
    adapter: Keyed, name: str, value: str
) -> None:
    assert isinstance(adapter, HeaderAuth) and translator_of(adapter) is adapter
    keyed = adapter.request_headers(_endpoint("k-1"), "https://up.example/a", b"{}", {})
    assert keyed == adapter.headers(_endpoint("k-1")) and keyed[name] == value
    assert adapter.request_headers(_endpoint("k-1"), "https://up.example/b", b"[1]", {}) == keyed
    keyless = adapter.request_headers(_endpoint(None), "https://up.example/a", b"{}", {})
    assert name not in keyless and keyless["Content-Type"] == "application/json"


MALFORMED = "The upstream provider returned a malformed response."
UNEXPECTED = "The upstream provider returned an unexpected response."
ADAPTERS: list[Translator] = [
    AnthropicAdapter(),
    BedrockAdapter(),
    CohereAdapter(),
    GeminiAdapter(),
]


@pytest.mark.parametrize("adapter", ADAPTERS)
@pytest.mark.parametrize(
    ("raw", "what"),
    [(b"<html>", MALFORMED), (b"", MALFORMED), (b"[1]", UNEXPECTED), (b"null", UNEXPECTED)],
)
def test_an_answer_that_is_not_a_json_object_is_the_upstreams_fault(
    adapter: Translator, raw: bytes, what: str
) -> None:
    with pytest.raises(UpstreamError) as info:
        adapter.decode_response(raw)
    assert type(info.value) is UpstreamError
    assert info.value.message == what
