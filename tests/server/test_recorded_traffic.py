"""Recorded OpenAI, xAI and DeepSeek traffic replayed through the gateway.

The simulator serves each recording byte for byte as the upstream's answer; the official SDK
reads it through the gateway. What the client receives must be the recording's content,
complete: text, reasoning, tool calls, finish reasons and usage (plus the gateway's cost).
"""

from __future__ import annotations

import json
from typing import Any

import openai
import orjson
import pytest
from tests.fixtures_path import fixture
from tests.server.conftest import Stack

from aigw.billing.pricing import cost_micro_cents, micro_cents_to_usd
from aigw.catalog import builtin_catalog
from aigw.formats.openai_chat import usage_from_openai
from aigw.simulator import load_recording

MESSAGES = [{"role": "user", "content": "replay"}]

STREAMS = {
    "openai/chat_stream_text_usage.sse": "openai/gpt-4o-mini",
    "openai/chat_stream_text_usage_full_headers.sse": "openai/gpt-4o-mini",
    "openai/chat_stream_tool_calls.sse": "openai/gpt-4o-mini",
    "openai/chat_stream_tool_calls_full_headers.sse": "openai/gpt-4o-mini",
    "openai/chat_stream_text_usage.chunks.jsonl": "openai/gpt-4.1-nano",
    "xai/chat_stream_reasoning.chunks.jsonl": "xai/grok-4.3",
    "xai/chat_stream_tool_call.chunks.jsonl": "xai/grok-4.3",
    "openai_compatible/deepseek_stream_reasoning_content.sse": "deepseek/deepseek-reasoner",
}

COMPLETIONS = {
    "openai/chat_completion_text.json": "openai/gpt-4.1-nano",
    "openai/chat_tool_call_nonstream.json": "openai/gpt-4o-mini",
    "openai/chat_structured_output_json_schema.json": "openai/gpt-4o-mini",
    "xai/chat_completion_reasoning.json": "xai/grok-4.3",
    "xai/chat_completion_tool_call_reasoning.json": "xai/grok-4.3",
}


def _recorded_payloads(name: str) -> list[dict[str, Any]]:
    _, body = load_recording(fixture(name))
    out = []
    for event in body.replace(b"\r\n", b"\n").split(b"\n\n"):
        data = event.strip()[len(b"data:") :].strip()
        if data and data != b"[DONE]":
            out.append(orjson.loads(data))
    return out


def _summary(chunks: list[dict[str, Any]]) -> dict[str, Any]:
    """What a client makes of a stream: text, reasoning, tool calls, finish reason, usage."""
    text, reasoning, finish = "", "", None
    calls: dict[int, dict[str, str]] = {}
    usage = None
    for chunk in chunks:
        if chunk.get("usage"):
            usage = chunk["usage"]
        for choice in chunk.get("choices") or []:
            delta = choice.get("delta") or {}
            text += delta.get("content") or ""
            reasoning += delta.get("reasoning_content") or ""
            finish = choice.get("finish_reason") or finish
            for call in delta.get("tool_calls") or []:
                slot = calls.setdefault(call["index"], {"id": "", "name": "", "arguments": ""})
                slot["id"] = call.get("id") or slot["id"]
                function = call.get("function") or {}
                slot["name"] += function.get("name") or ""
                slot["arguments"] += function.get("arguments") or ""
    return {"text": text, "reasoning": reasoning, "finish": finish, "calls": calls, "usage": usage}


def _cost(model: str, usage: dict[str, Any]) -> float:
    found = builtin_catalog().get(model)
    normalised = usage_from_openai(usage)
    assert found is not None and normalised is not None
    return micro_cents_to_usd(cost_micro_cents(found.price, normalised))


@pytest.mark.parametrize("name", sorted(STREAMS))
def test_recorded_stream_arrives_complete(stack: Stack, name: str) -> None:
    model = STREAMS[name]
    recorded = _summary(_recorded_payloads(name))
    stack.sim.queue_replay({"path": str(fixture(name))})
    with stack.client() as client:
        stream = client.chat.completions.create(
            model=model, messages=MESSAGES, stream=True, stream_options={"include_usage": True}
        )
        chunks = [c.model_dump(exclude_unset=True) for c in stream]
    got = _summary(chunks)
    assert all(c["model"] == model for c in chunks)
    for field in ("text", "reasoning", "finish", "calls"):
        assert got[field] == recorded[field], field
    assert recorded["text"] or recorded["calls"], "the recording has an answer"
    usage = dict(got["usage"])
    assert usage.pop("cost") == _cost(model, recorded["usage"])
    assert usage == recorded["usage"]


@pytest.mark.parametrize("name", sorted(STREAMS))
def test_recorded_stream_without_usage_request(stack: Stack, name: str) -> None:
    model = STREAMS[name]
    recorded = _summary(_recorded_payloads(name))
    stack.sim.queue_replay({"path": str(fixture(name))})
    with stack.client() as client:
        chunks = [
            c.model_dump(exclude_unset=True)
            for c in client.chat.completions.create(model=model, messages=MESSAGES, stream=True)
        ]
    got = _summary(chunks)
    assert got["usage"] is None
    for field in ("text", "reasoning", "finish", "calls"):
        assert got[field] == recorded[field], field


@pytest.mark.parametrize("name", sorted(COMPLETIONS))
def test_recorded_completion_arrives_complete(stack: Stack, name: str) -> None:
    model = COMPLETIONS[name]
    recorded = json.loads(fixture(name).read_text())
    stack.sim.queue_replay({"path": str(fixture(name))})
    with stack.client() as client:
        got = client.chat.completions.create(model=model, messages=MESSAGES).model_dump(
            exclude_unset=True
        )
    assert got["model"] == model
    assert got["choices"] == recorded["choices"]
    usage = dict(got["usage"])
    assert usage.pop("cost") == _cost(model, recorded["usage"])
    assert usage == recorded["usage"]
    assert got["id"] == recorded["id"]


ERRORS = [
    # recording, HTTP status it was recorded with, what the client gets
    ("openai/error_400_invalid_request_error.json", 400, openai.BadRequestError, 400),
    ("openai/error_400_unsupported_parameter.json", 400, openai.BadRequestError, 400),
    ("openai/error_401_invalid_api_key.json", 401, openai.InternalServerError, 500),
    ("openai/error_404_model_not_found.json", 404, openai.NotFoundError, 404),
    ("openai/error_429_rate_limit_exceeded.json", 429, openai.InternalServerError, 503),
    ("openai/error_429_insufficient_quota.json", 429, openai.InternalServerError, 500),
]


@pytest.mark.parametrize(("name", "status", "exc", "client_status"), ERRORS)
def test_recorded_upstream_errors_are_mapped_not_passed_through(
    stack: Stack, name: str, status: int, exc: type[openai.APIStatusError], client_status: int
) -> None:
    body = fixture(name).read_text()
    stack.sim.queue_replay({"body": body, "status": status, "count": 3})
    with stack.client() as client, pytest.raises(exc) as info:
        client.chat.completions.create(model="openai/gpt-4o-mini", messages=MESSAGES)
    assert info.value.status_code == client_status
    upstream_message = json.loads(body)["error"]["message"]
    assert upstream_message not in info.value.response.text
    error = info.value.response.json()["error"]
    assert error["code"] == client_status and error["message"]
