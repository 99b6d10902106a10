"""Recorded Anthropic, Gemini, OpenAI and xAI traffic replayed through the gateway to clients of
the other format: the official openai SDK in front of Anthropic and Gemini recordings, and the
official anthropic SDK in front of Anthropic (pass-through), Gemini, OpenAI and xAI ones.

The simulator serves each recording byte for byte; what the client receives must be the
recording's content: text, reasoning, complete tool-call arguments and usage. The expected
values are read from the recordings here with plain loops, independently of the codecs.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import anthropic
import openai
import pytest
from tests.fixtures_path import fixture
from tests.server.conftest import Stack

from aigw.simulator import load_recording

ASK = [{"role": "user", "content": "replay"}]


def payloads(name: str) -> list[dict[str, Any]]:
    _, body = load_recording(fixture(name))
    out = []
    for event in body.replace(b"\r\n", b"\n").split(b"\n\n"):
        for line in event.split(b"\n"):
            if line.startswith(b"data:") and line[5:].strip() != b"[DONE]":
                out.append(json.loads(line[5:]))
    return out


def expected(name: str) -> dict[str, Any]:
    """Text, reasoning, tool calls (name, parsed args), prompt and output tokens."""
    if name.startswith("anthropic/"):
        return _anthropic(name)
    if name.startswith("gemini/"):
        return _gemini(name)
    return _openai(name)


def _anthropic(name: str) -> dict[str, Any]:
    if name.endswith(".json"):
        data = json.loads(fixture(name).read_text())
        blocks, usage = data["content"], data["usage"]
        return {
            "text": "".join(b.get("text", "") for b in blocks if b["type"] == "text"),
            "reasoning": "".join(b.get("thinking", "") for b in blocks if b["type"] == "thinking"),
            "calls": [(b["name"], b["input"]) for b in blocks if b["type"] == "tool_use"],
            "tokens": (usage["input_tokens"], usage["output_tokens"]),
        }
    text, reasoning, calls, kinds, tokens = "", "", [], {}, [0, 0]
    for e in payloads(name):
        if e["type"] == "message_start":
            tokens[0] = e["message"]["usage"]["input_tokens"]
        elif e["type"] == "content_block_start":
            kinds[e["index"]] = e["content_block"]["type"]
            if e["content_block"]["type"] == "tool_use":
                calls.append([e["content_block"]["name"], ""])
        elif e["type"] == "content_block_delta":
            d = e["delta"]
            text += d.get("text", "") if d["type"] == "text_delta" else ""
            reasoning += d.get("thinking", "") if d["type"] == "thinking_delta" else ""
            if d["type"] == "input_json_delta" and kinds[e["index"]] == "tool_use":
                calls[-1][1] += d["partial_json"]
        elif e["type"] == "message_delta":  # cumulative counts: they replace message_start's
            tokens[0] = e["usage"].get("input_tokens", tokens[0])
            tokens[1] = e["usage"]["output_tokens"]
    parsed = [(n, json.loads(a or "{}")) for n, a in calls]
    return {"text": text, "reasoning": reasoning, "calls": parsed, "tokens": tuple(tokens)}


def _gemini(name: str) -> dict[str, Any]:
    chunks = [json.loads(fixture(name).read_text())] if name.endswith(".json") else payloads(name)
    text, calls = "", []
    for chunk in chunks:
        for part in chunk["candidates"][0]["content"]["parts"]:
            if "functionCall" in part:
                calls.append((part["functionCall"]["name"], part["functionCall"]["args"]))
            elif not part.get("thought"):
                text += part.get("text", "")
    usage = chunks[-1]["usageMetadata"]
    output = usage.get("candidatesTokenCount", 0) + usage.get("thoughtsTokenCount", 0)
    return {"text": text, "reasoning": "", "calls": calls,
            "tokens": (usage["promptTokenCount"], output)}  # fmt: skip


def _openai(name: str) -> dict[str, Any]:
    text, reasoning, calls, usage = "", "", {}, {}
    for chunk in payloads(name):
        usage = chunk.get("usage") or usage
        for choice in chunk.get("choices") or []:
            delta = choice.get("delta") or {}
            text += delta.get("content") or ""
            reasoning += delta.get("reasoning_content") or ""
            for call in delta.get("tool_calls") or []:
                slot = calls.setdefault(call["index"], ["", ""])
                slot[0] += (call.get("function") or {}).get("name") or ""
                slot[1] += (call.get("function") or {}).get("arguments") or ""
    completion = usage["completion_tokens"]
    details = usage.get("completion_tokens_details") or {}
    if usage["total_tokens"] == usage["prompt_tokens"] + completion + details.get(
        "reasoning_tokens", 0
    ):
        completion += details.get("reasoning_tokens", 0)  # xAI leaves reasoning out
    parsed = [(n, json.loads(a)) for n, a in calls.values()]
    return {"text": text, "reasoning": reasoning, "calls": parsed,
            "tokens": (usage["prompt_tokens"], completion)}  # fmt: skip


ANTHROPIC_STREAMS = [
    "anthropic/stream_text.sse",
    "anthropic/stream_thinking_text.sse",
    "anthropic/stream_text_tool_use_input_json_delta.sse",
    "anthropic/stream_parallel_tool_use_empty_input.sse",
]
ANTHROPIC_MESSAGES = [
    "anthropic/messages_text.json",
    "anthropic/messages_thinking_tool_use.json",
    "anthropic/messages_tool_use_parallel.json",
]
GEMINI_STREAMS = [
    "gemini/stream_generate_content_text.sse",
    "gemini/stream_generate_content_thoughts_usage.sse",
    "gemini/stream_generate_content_function_call.sse",
    "gemini/stream_generate_content_after_function_response.sse",
    "gemini/stream_function_call_args.chunks.jsonl",
]
GEMINI_WHOLE = [
    "gemini/generate_content_text.json",
    "gemini/generate_content_function_call.json",
    "gemini/generate_content_parallel_function_calls.json",
    "gemini/generate_content_text_after_tool.json",
]
OPENAI_STREAMS = [
    "openai/chat_stream_text_usage.sse",
    "openai/chat_stream_tool_calls.sse",
    "xai/chat_stream_reasoning.chunks.jsonl",
    "xai/chat_stream_tool_call.chunks.jsonl",
]
MODEL = {"anthropic": "anthropic/claude-haiku-4-5", "gemini": "google/gemini-2.5-flash",
         "openai": "openai/gpt-4o-mini", "xai": "xai/grok-4.3"}  # fmt: skip


def model_for(name: str) -> str:
    return MODEL[name.split("/")[0]]


def replay(stack: Stack, name: str) -> None:
    spec: dict[str, Any] = {"path": str(fixture(name))}
    if name.endswith(".chunks.jsonl") and name.startswith("gemini/"):
        raw = b"".join(
            b"data: " + line + b"\r\n\r\n"
            for line in fixture(name).read_bytes().splitlines()
            if line.strip()
        )
        spec = {"body": raw.decode(), "content_type": "text/event-stream"}
    stack.sim.queue_replay(spec)


def openai_summary(chunks: list[dict[str, Any]]) -> dict[str, Any]:
    text, reasoning, calls, usage = "", "", {}, None
    for chunk in chunks:
        usage = chunk.get("usage") or usage
        for choice in chunk.get("choices") or []:
            delta = choice.get("delta") or {}
            text += delta.get("content") or ""
            reasoning += delta.get("reasoning_content") or ""
            for call in delta.get("tool_calls") or []:
                slot = calls.setdefault(call["index"], ["", ""])
                slot[0] += (call.get("function") or {}).get("name") or ""
                slot[1] += (call.get("function") or {}).get("arguments") or ""
    assert usage is not None
    return {"text": text, "reasoning": reasoning,
            "calls": [(n, json.loads(a)) for n, a in calls.values()],
            "tokens": (usage["prompt_tokens"], usage["completion_tokens"])}  # fmt: skip


@pytest.mark.parametrize("name", ANTHROPIC_STREAMS + GEMINI_STREAMS)
def test_openai_sdk_reads_translated_recorded_streams(stack: Stack, name: str) -> None:
    replay(stack, name)
    with stack.client() as client:
        chunks = [
            c.model_dump(exclude_unset=True)
            for c in client.chat.completions.create(
                model=model_for(name),
                messages=ASK,
                stream=True,
                stream_options={"include_usage": True},
            )  # fmt: skip
        ]
    want = expected(name)
    got = openai_summary(chunks)
    assert got["text"] == want["text"] and got["calls"] == want["calls"]
    assert got["tokens"] == want["tokens"]
    if name.startswith("anthropic/"):
        assert got["reasoning"] == want["reasoning"]
    assert want["text"] or want["calls"]


@pytest.mark.parametrize("name", ANTHROPIC_MESSAGES + GEMINI_WHOLE)
def test_openai_sdk_reads_translated_recorded_answers(stack: Stack, name: str) -> None:
    replay(stack, name)
    with stack.client() as client:
        completion = client.chat.completions.create(model=model_for(name), messages=ASK)
    message = completion.model_dump()["choices"][0]["message"]
    want = expected(name)
    assert (message["content"] or "") == want["text"]
    assert (message.get("reasoning_content") or "") == want["reasoning"]
    calls = [(c["function"]["name"], json.loads(c["function"]["arguments"]))
             for c in message.get("tool_calls") or []]  # fmt: skip
    assert calls == want["calls"]
    assert completion.usage is not None
    assert (completion.usage.prompt_tokens, completion.usage.completion_tokens) == want["tokens"]
    if want["calls"]:
        assert completion.choices[0].finish_reason == "tool_calls"


@pytest.fixture
def claude(stack: Stack) -> Iterator[anthropic.Anthropic]:
    with anthropic.Anthropic(base_url=stack.gw.url, api_key=stack.key, max_retries=0) as c:
        yield c


def anthropic_summary(message: anthropic.types.Message) -> dict[str, Any]:
    blocks = message.content
    return {
        "text": "".join(b.text for b in blocks if b.type == "text"),
        "reasoning": "".join(b.thinking for b in blocks if b.type == "thinking"),
        "calls": [(b.name, b.input) for b in blocks if b.type == "tool_use"],
        # input_tokens leaves out cache reads (xAI recordings have cached tokens)
        "tokens": (
            message.usage.input_tokens + (message.usage.cache_read_input_tokens or 0),
            message.usage.output_tokens,
        ),
    }


@pytest.mark.parametrize("name", ANTHROPIC_STREAMS + GEMINI_STREAMS + OPENAI_STREAMS)
def test_anthropic_sdk_reads_recorded_streams(
    stack: Stack, claude: anthropic.Anthropic, name: str
) -> None:
    replay(stack, name)
    with claude.messages.stream(model=model_for(name), max_tokens=4096, messages=ASK) as s:
        message = s.get_final_message()
    want = expected(name)
    got = anthropic_summary(message)
    assert got["text"] == want["text"] and got["calls"] == want["calls"]
    assert got["reasoning"] == want["reasoning"]
    assert got["tokens"] == want["tokens"]


@pytest.mark.parametrize("name", ANTHROPIC_MESSAGES + GEMINI_WHOLE)
def test_anthropic_sdk_reads_recorded_answers(
    stack: Stack, claude: anthropic.Anthropic, name: str
) -> None:
    replay(stack, name)
    message = claude.messages.create(model=model_for(name), max_tokens=4096, messages=ASK)
    want = expected(name)
    got = anthropic_summary(message)
    assert got["text"] == want["text"] and got["calls"] == want["calls"]
    assert got["reasoning"] == want["reasoning"] and got["tokens"] == want["tokens"]


ERRORS = [
    # recording, recorded status, status an openai client gets, error type it gets
    ("anthropic/error_529_overloaded.json", 529, 503, "service_unavailable"),
    ("anthropic/error_529_overloaded_2026.json", 529, 503, "service_unavailable"),
    ("anthropic/error_429_rate_limit.json", 429, 503, "service_unavailable"),
    ("anthropic/error_429_rate_limit_org_tpm.json", 429, 503, "service_unavailable"),
    ("anthropic/error_401_authentication.json", 401, 500, "server_error"),
    ("anthropic/error_400_invalid_request.json", 400, 400, "invalid_request_error"),
    ("gemini/error_429_resource_exhausted.json", 429, 503, "service_unavailable"),
]


@pytest.mark.parametrize(("name", "status", "client_status", "kind"), ERRORS)
def test_recorded_errors_are_mapped(
    stack: Stack, claude: anthropic.Anthropic, name: str, status: int, client_status: int,
    kind: str,
) -> None:  # fmt: skip
    body = fixture(name).read_text()
    model = model_for(name)
    stack.sim.queue_replay({"body": body, "status": status, "count": 4,
                            "headers": {"retry-after": "30"}})  # fmt: skip
    with stack.client() as client, pytest.raises(openai.APIStatusError) as info:
        client.chat.completions.create(model=model, messages=ASK)
    assert info.value.status_code == client_status
    assert info.value.response.json()["error"]["type"] == kind
    upstream_message = json.loads(body)["error"]["message"]
    assert upstream_message not in info.value.response.text
    with pytest.raises(anthropic.APIStatusError) as shaped:
        claude.messages.create(model=model, max_tokens=10, messages=ASK)
    assert shaped.value.status_code == client_status
    assert shaped.value.response.json()["type"] == "error"
    assert upstream_message not in shaped.value.response.text
