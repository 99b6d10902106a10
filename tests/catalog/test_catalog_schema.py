"""Derived text: names from ids, the capability vocabulary, and the per-model schema block."""

from __future__ import annotations

import ast
import json
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest

from aigw.catalog import CAPABILITIES, Model, Provider, builtin_catalog, load_catalog, model_schema
from aigw.catalog.naming import date_in_id, derive_family, derive_name
from aigw.catalog.schema import capability_ids, quirks

BASE = "http://gw.test:8080"


@pytest.mark.parametrize(
    ("upstream", "name", "family"),
    [
        ("grok-3-mini", "Grok 3 Mini", "Grok 3"),
        ("gpt-4o-mini", "GPT-4o Mini", "GPT-4o"),
        ("claude-sonnet-4-5-20250929", "Claude Sonnet 4.5 (2025-09-29)", "Claude Sonnet 4"),
        ("gemini-2.5-pro", "Gemini 2.5 Pro", "Gemini 2"),
        ("accounts/fireworks/models/kimi-k2p6", "Kimi K2.6", "Kimi K2"),
        ("meta-llama/Llama-3.3-70B-Instruct-Turbo", "Llama 3.3 70B Instruct Turbo", "Llama 3"),
        ("openai/gpt-oss-120b", "GPT-OSS 120B", "GPT-OSS"),
        ("deepseek-chat", "DeepSeek Chat", "DeepSeek"),
        ("command-r-08-2024", "Command R (2024-08)", "Command"),
        ("mixtral-8x7B-Instruct-v0.1", "Mixtral 8x7B Instruct V0.1", "Mixtral"),
    ],
)
def test_names_and_families(upstream: str, name: str, family: str) -> None:
    assert derive_name(upstream) == name
    assert derive_family(name) == family


def test_dates_in_ids() -> None:
    assert date_in_id("gpt-4o-2024-08-06") == "2024-08-06"
    assert date_in_id("claude-haiku-4-5-20251001") == "2025-10-01"
    assert date_in_id("grok-4.20-0309") is None
    assert date_in_id("model-20251399") is None


def _model(model_id: str) -> tuple[Model, Provider]:
    c = builtin_catalog()
    m = c.get(model_id)
    assert m is not None
    p = c.provider(m.provider)
    assert p is not None
    return m, p


def test_vocabulary_is_fixed() -> None:
    ids = [c.id for c in CAPABILITIES]
    assert ids[:8] == [
        "streaming",
        "tools",
        "parallel_tools",
        "vision",
        "structured_outputs",
        "json_mode",
        "prompt_caching",
        "reasoning",
    ]
    assert {"embeddings", "image_generation"} <= set(ids)
    assert len(ids) == len(set(ids))
    embed, _ = _model("openai/text-embedding-3-small")
    assert capability_ids(embed) == ["embeddings"]


def test_grok_schema_block() -> None:
    m, p = _model("xai/grok-4.3")
    s = model_schema(m, p, BASE + "/")
    assert s["endpoint"] == "POST http://gw.test:8080/v1/chat/completions"
    req = s["request"]
    assert req["model"] == "xai/grok-4.3" and req["stream"] is False
    assert req["max_tokens"] == 1024 and req["reasoning_effort"] == "low"
    assert req["messages"][-1] == {"role": "user", "content": "Hello!"}
    msg = s["response"]["choices"][0]["message"]
    assert msg["content"] and msg["reasoning_content"]
    assert s["response"]["usage"]["completion_tokens_details"] == {"reasoning_tokens": 20}
    assert s["quirks"] == [
        "Context window: 1,000,000 tokens; output is capped at 4,096 tokens per response.",
        "Reasoning model: the answer may carry message.reasoning_content "
        "(delta.reasoning_content when streaming); reasoning tokens count as output tokens "
        "(usage.completion_tokens_details.reasoning_tokens).",
        "Accepts reasoning_effort: none, low, medium, high.",
        "Long-context pricing: when the prompt exceeds 200,000 tokens the whole request is "
        "billed at $2.50 input / $5.00 output per 1M tokens.",
    ]


def test_stream_example_is_openai_framing() -> None:
    m, p = _model("xai/grok-4.3")
    lines = model_schema(m, p, BASE)["stream"]
    assert all(line.startswith("data: ") for line in lines)
    assert lines[-1] == "data: [DONE]"
    chunks = [json.loads(line[6:]) for line in lines[:-1]]
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert chunks[1]["choices"][0]["delta"] == {"reasoning_content": "The user greeted me."}
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"])
    assert text == "Hello! How can I help you today?"
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["total_tokens"] == 56


def test_quirks_follow_the_flags() -> None:
    m, p = _model("xai/grok-4.3")
    plain = replace(
        m,
        capabilities=replace(
            m.capabilities, vision=False, tools=False, reasoning=False, reasoning_efforts=()
        ),
        price=replace(m.price, tiers=()),
    )
    q = quirks(plain, p)
    assert "Text-only input: image content parts are rejected." in q
    assert "No tool calling: requests with tools are rejected." in q
    assert not [x for x in q if "reasoning" in x or "Long-context" in x]
    opus, anthropic = _model("anthropic/claude-opus-4-7")
    q = quirks(opus, anthropic)
    assert "Rejects temperature and top_p: leave them out." in q
    assert q[0].startswith("Upstream speaks the anthropic format")
    assert "Accepts reasoning_effort: low, medium, high, xhigh, max." in q
    req = model_schema(opus, anthropic, BASE)["request"]
    assert "temperature" not in req and "top_p" not in req


def test_openai_reasoning_models_take_max_completion_tokens() -> None:
    m, p = _model("openai/o3")
    s = model_schema(m, p, BASE)
    assert "max_completion_tokens" in s["request"] and "max_tokens" not in s["request"]
    assert any(q.startswith("Takes max_completion_tokens") for q in s["quirks"])
    mini, _ = _model("openai/gpt-4o-mini")
    assert "max_tokens" in model_schema(mini, p, BASE)["request"]


def test_reasoning_price_and_free_quirks() -> None:
    m, p = _model("simulator/free")
    assert "Free: no per-token charge." in quirks(m, p)
    assert any("no key needed" in q for q in quirks(m, p))
    priced = replace(m, price=replace(m.price, output=Decimal(1), reasoning=Decimal("3.5")))
    assert "Reasoning tokens are billed at $3.50 per 1M tokens." in quirks(priced, p)


@pytest.mark.parametrize(
    "model_id",
    ["xai/grok-4.3", "openai/text-embedding-3-small", "openai/gpt-image-1", "simulator/free"],
)
def test_snippets_are_valid_code(model_id: str) -> None:
    m, p = _model(model_id)
    snippets = model_schema(m, p, BASE)["snippets"]
    ast.parse(snippets["python"])
    assert f'base_url="{BASE}/v1"' in snippets["python"]
    assert f'baseURL: "{BASE}/v1"' in snippets["typescript"]
    curl = snippets["curl"]
    assert curl.startswith(f"curl {BASE}/v1/")
    body = json.loads(curl.split("-d '", 1)[1].rstrip("'"))
    assert body["model"] == model_id


def test_embedding_schema() -> None:
    m, p = _model("openai/text-embedding-3-small")
    s = model_schema(m, p, BASE)
    assert s["endpoint"] == f"POST {BASE}/v1/embeddings"
    assert s["request"] == {"model": "openai/text-embedding-3-small", "input": "Hello!"}
    assert s["stream"] == []
    assert s["quirks"][0] == "Call POST /v1/embeddings, not /v1/chat/completions."


def test_other_modalities_get_their_own_endpoint_and_snippets(tmp_path: Path) -> None:
    path = tmp_path / "extra.toml"
    path.write_text(
        """
[models."vllm/voice"]
modality = "tts"
output_modalities = ["audio"]
[models."vllm/ears"]
modality = "stt"
input_modalities = ["audio"]
[models."vllm/movie"]
modality = "video"
output_modalities = ["video"]
[models."vllm/chatty"]
capabilities = { tools = true }
"""
    )
    c = load_catalog(path)
    vllm = c.provider("vllm")
    assert vllm is not None
    expected = {
        "vllm/voice": ("/v1/audio/speech", ["text_to_speech"]),
        "vllm/ears": ("/v1/audio/transcriptions", ["speech_to_text"]),
        "vllm/movie": ("/v1/videos/generations", ["video_generation"]),
        "vllm/chatty": ("/v1/chat/completions", ["streaming", "tools"]),
    }
    for model_id, (path_, caps) in expected.items():
        m = c.get(model_id)
        assert m is not None
        s = model_schema(m, vllm, BASE)
        assert s["endpoint"] == f"POST {BASE}{path_}", model_id
        assert capability_ids(m) == caps, model_id
        ast.parse(s["snippets"]["python"])
        assert s["snippets"]["curl"].startswith(f"curl {BASE}{path_}")
