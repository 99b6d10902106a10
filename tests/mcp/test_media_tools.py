"""The media tools through the official ``mcp`` SDK against the simulator: each answer is
the simulator's, and each call is charged in the ledger at the catalog price, like the HTTP
endpoint (tests/server/test_media_sdk.py)."""

from __future__ import annotations

import base64
from decimal import Decimal

import orjson
import pytest

from aigw.billing.pricing import MICRO_CENTS_PER_USD, cost_micro_cents
from aigw.catalog.loader import builtin_catalog
from aigw.catalog.models import Price
from aigw.core.usage import Usage
from aigw.formats.embedding_vectors import from_base64
from aigw.server.appkeys import DATABASE
from aigw.simulator import media_content as mc
from aigw.store import request_log
from tests.harness import http
from tests.mcp.conftest import charge, fetch, mcp_calls, payload
from tests.server.conftest import Stack

EMBED = "openai/text-embedding-3-small"


def _price(model_id: str) -> Price:
    model = builtin_catalog().get(model_id)
    assert model is not None, model_id
    return model.price


def _units(rate: Decimal | None, amount: int) -> int:
    assert rate is not None
    return int((rate * Decimal(amount) * MICRO_CENTS_PER_USD).to_integral_value())


async def test_embed_floats_and_base64_charged_and_observed(stack: Stack) -> None:
    texts = ["the quick brown fox", "jumps over the lazy dog"]
    floats, b64 = await mcp_calls(
        stack,
        [
            ("embed", {"model": EMBED, "input": texts}),
            ("embed", {"model": EMBED, "input": "one", "encoding_format": "base64"}),
        ],
    )
    assert not floats.is_error and not b64.is_error
    out = payload(floats)
    dims = mc.dimensions_of("text-embedding-3-small", None)
    assert out["dimensions"] == dims and out["model"] == EMBED
    assert [d["index"] for d in out["data"]] == [0, 1]
    for text, item in zip(texts, out["data"], strict=True):
        assert len(item["embedding"]) == dims
        assert item["embedding"] == pytest.approx(mc.embedding(text, dims))
    tokens = sum(mc.tokens_of(t) for t in texts)
    expected = cost_micro_cents(_price(EMBED), Usage(tokens))
    assert expected > 0 and charge(stack, out["id"]) == expected
    assert out["usage"]["cost"] == expected / MICRO_CENTS_PER_USD
    packed = payload(b64)
    assert packed["encoding_format"] == "base64"
    vector = from_base64(packed["data"][0]["embedding"])
    assert vector == pytest.approx(mc.embedding("one", dims), abs=1e-6)
    # Observed like the endpoint: the metrics count MCP calls under endpoint="mcp".
    status, metrics = await fetch(stack.gw.url + "/metrics")
    assert status == 200
    assert f'endpoint="mcp",provider="openai",model="{EMBED}",status="200"' in metrics.decode()


async def test_generate_image_base64_as_image_content_and_urls(stack: Stack) -> None:
    b64, urls = await mcp_calls(
        stack,
        [
            ("generate_image", {"model": "openai/gpt-image-1", "prompt": "a red fox", "n": 2}),
            (
                "generate_image",
                {"model": "xai/grok-imagine-image", "prompt": "a lighthouse",
                 "response_format": "url"},
            ),
        ],
    )  # fmt: skip
    assert not b64.is_error, b64.content
    images = [c for c in b64.content if c.type == "image"]
    assert len(images) == 2 and images[0].mime_type == "image/png"
    assert base64.b64decode(images[0].data).startswith(b"\x89PNG")
    summary = payload(b64)
    usage = summary["usage"]
    expected = cost_micro_cents(
        _price("openai/gpt-image-1"), Usage(usage["input_tokens"], usage["output_tokens"])
    )
    assert expected > 0 and charge(stack, summary["id"]) == expected
    assert "b64_json" in b64.structured_content["data"][0]
    listed = payload(urls)
    status, body = await fetch(listed["data"][0]["url"])
    assert status == 200 and body.startswith(b"\x89PNG")
    assert charge(stack, listed["id"]) == _units(_price("xai/grok-imagine-image").per_image, 1)


async def test_speak_returns_audio_content_and_transcribe_reads_it(stack: Stack) -> None:
    text = "Hello from the gateway."
    audio = mc.speech("a recording of some length for the test", "wav") * 8
    (spoken, heard) = await mcp_calls(
        stack,
        [
            ("speak", {"model": "openai/tts-1", "voice": "alloy", "input": text,
                       "response_format": "wav"}),
            ("transcribe", {"model": "openai/whisper-1", "prompt": "ok", "filename": "a.wav",
                            "mime_type": "audio/wav", "audio": base64.b64encode(audio).decode()}),
        ],
    )  # fmt: skip
    assert not spoken.is_error, spoken.content
    sound = [c for c in spoken.content if c.type == "audio"]
    assert len(sound) == 1 and sound[0].mime_type == "audio/wav"
    assert base64.b64decode(sound[0].data) == mc.speech(text, "wav")
    meta = payload(spoken)
    expected = _units(_price("openai/tts-1").per_character, len(text))
    assert charge(stack, meta["id"]) == expected and meta["mime_type"] == "audio/wav"
    assert not heard.is_error, heard.content
    answer = payload(heard)
    assert answer["text"] == mc.transcript(audio, "ok")
    assert charge(stack, answer["id"]) > 0
    sent = stack.last_upstream_request()
    assert sent["path"] == "/v1/audio/transcriptions" and sent["body"]["model"] == "whisper-1"


async def test_moderate_and_rerank_shapes(stack: Stack) -> None:
    docs = ["Paris is the capital of France", "Bananas are yellow", "France capital"]
    moderated, ranked = await mcp_calls(
        stack,
        [
            ("moderate", {"input": ["I will kill the process", "hello"]}),
            ("rerank", {"model": "cohere/rerank-v3.5", "query": "capital of France",
                        "documents": docs, "top_n": 2, "return_documents": True}),
        ],
    )  # fmt: skip
    flags = payload(moderated)
    assert flags["model"] == "openai/omni-moderation-latest"
    assert [r["flagged"] for r in flags["results"]] == [True, False]
    # omni-moderation is free: nothing charged, but the call is in the request log.
    assert charge(stack, flags["request_id"]) == 0
    stack.gw.flush_log()
    entry = stack.gw.call(request_log.get(stack.gw.app[DATABASE], flags["request_id"]))
    assert entry is not None and entry.model == "openai/omni-moderation-latest"
    assert entry.status == 200 and entry.account_id == stack.account_id
    order = payload(ranked)
    scores = [r["relevance_score"] for r in order["results"]]
    assert len(scores) == 2 and scores == sorted(scores, reverse=True)
    assert order["results"][0]["index"] in (0, 2)
    assert order["results"][0]["document"]["text"] in (docs[0], docs[2])
    expected = _units(_price("cohere/rerank-v3.5").per_query, 1)
    assert order["usage"]["search_units"] == 1
    assert charge(stack, order["request_id"]) == expected


def test_speak_under_protocol_2024_11_05_sends_audio_as_json_text(stack: Stack) -> None:
    """That protocol has no audio content: the base64 comes as JSON text instead."""
    call = {
        "jsonrpc": "2.0", "id": 7, "method": "tools/call",
        "params": {"name": "speak", "arguments": {"model": "openai/tts-1", "voice": "alloy",
                                                  "input": "hi there", "response_format": "mp3"}},
    }  # fmt: skip
    headers = {"Authorization": f"Bearer {stack.key}", "MCP-Protocol-Version": "2024-11-05"}
    status, _, raw = http("POST", stack.gw.url + "/mcp", json=call, headers=headers)
    assert status == 200
    result = orjson.loads(raw)["result"]
    assert not result["isError"] and {c["type"] for c in result["content"]} == {"text"}
    sound = orjson.loads(result["content"][0]["text"])
    assert sound["mime_type"] == "audio/mpeg"
    assert base64.b64decode(sound["audio_base64"]) == mc.speech("hi there", "mp3")
