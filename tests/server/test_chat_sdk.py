"""The official openai SDK against a running gateway in front of the simulator."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal

import openai
from tests.harness import http
from tests.server.conftest import Stack

from aigw.billing.pricing import cost_micro_cents, micro_cents_to_usd
from aigw.catalog import builtin_catalog
from aigw.core.usage import Usage

MESSAGES = [{"role": "user", "content": "Explain rate limiting in one paragraph."}]


def _expected_cost_usd(model: str, prompt: int, completion: int) -> float:
    found = builtin_catalog().get(model)
    assert found is not None
    usage = Usage(prompt_tokens=prompt, completion_tokens=completion)
    return micro_cents_to_usd(cost_micro_cents(found.price, usage))


def test_sync_completion_has_cost_and_gateway_model(stack: Stack) -> None:
    with stack.client() as client:
        raw = client.chat.completions.with_raw_response.create(
            model="xai/grok-4.3", messages=MESSAGES
        )
    completion = raw.parse()
    assert completion.model == "xai/grok-4.3"
    assert completion.choices[0].message.content
    assert completion.choices[0].finish_reason == "stop"
    usage = completion.usage
    assert usage is not None and usage.prompt_tokens > 0 and usage.completion_tokens > 0
    expected = _expected_cost_usd("xai/grok-4.3", usage.prompt_tokens, usage.completion_tokens)
    assert usage.model_extra is not None and usage.model_extra["cost"] == expected
    # X-Cost-Cents is the same amount in cents.
    cents = Decimal(raw.headers["x-cost-cents"])
    assert cents == (Decimal(str(expected)) * 100).normalize()
    assert raw.headers["x-aig-provider"] == "xai"
    assert raw.headers["x-request-id"].startswith("req_")
    # The upstream got its own model id and the gateway's provider key, not the client's.
    sent = stack.last_upstream_request()
    assert sent["body"]["model"] == "grok-4.3"
    assert sent["headers"]["Authorization"].endswith("7788")
    assert stack.key[-4:] not in sent["headers"]["Authorization"]


def test_async_completion(stack: Stack) -> None:
    async def go() -> str | None:
        async with stack.async_client() as client:
            completion = await client.chat.completions.create(
                model="openai/gpt-4o-mini", messages=MESSAGES, max_tokens=5
            )
            assert completion.choices[0].finish_reason == "length"
            assert completion.usage is not None and completion.usage.completion_tokens == 5
            return completion.choices[0].message.content

    assert asyncio.run(go())


def test_stream_with_usage_requested(stack: Stack) -> None:
    with stack.client() as client:
        stream = client.chat.completions.create(
            model="xai/grok-4.3",
            messages=MESSAGES,
            stream=True,
            stream_options={"include_usage": True},
        )
        chunks = list(stream)
    assert chunks[0].choices[0].delta.role == "assistant"
    assert all(c.model == "xai/grok-4.3" for c in chunks)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert len(text) > 20
    finish = [
        c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason
    ]
    assert finish == ["stop"]
    last = chunks[-1]
    assert last.choices == [] and last.usage is not None
    expected = _expected_cost_usd(
        "xai/grok-4.3", last.usage.prompt_tokens, last.usage.completion_tokens
    )
    assert last.usage.model_extra is not None and last.usage.model_extra["cost"] == expected


def test_stream_without_usage_hides_the_usage_chunk_but_upstream_was_asked(stack: Stack) -> None:
    with stack.client() as client:
        chunks = list(
            client.chat.completions.create(model="xai/grok-4.3", messages=MESSAGES, stream=True)
        )
    assert chunks and all(c.choices for c in chunks)
    assert all(c.usage is None for c in chunks)
    sent = stack.last_upstream_request()["body"]
    assert sent["stream_options"] == {"include_usage": True}


def test_stream_raw_framing_is_openai_exact(stack: Stack) -> None:
    status, headers, body = http(
        "POST",
        f"{stack.base_url}/chat/completions",
        headers={"Authorization": f"Bearer {stack.key}"},
        json={"model": "xai/grok-4.3", "messages": MESSAGES, "stream": True, "max_tokens": 4},
    )
    assert status == 200
    assert headers["Content-Type"].startswith("text/event-stream")
    assert headers["X-Request-Id"].startswith("req_")
    events = body.decode().split("\n\n")
    assert events[-1] == "" and events[-2] == "data: [DONE]"
    payloads = [json.loads(e[len("data: ") :]) for e in events[:-2]]
    assert payloads[0]["choices"][0]["delta"]["role"] == "assistant"
    assert payloads[-1]["choices"][0]["finish_reason"] == "length"
    assert all(p["choices"] for p in payloads)


def test_tools_round_trip(stack: Stack) -> None:
    tools = [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "Current weather for a city",
                "parameters": {
                    "type": "object",
                    "properties": {"city": {"type": "string"}},
                    "required": ["city"],
                },
            },
        }
    ]
    with stack.client() as client:
        completion = client.chat.completions.create(
            model="xai/grok-4.3", messages=MESSAGES, tools=tools, tool_choice="required"
        )
        call = completion.choices[0].message.tool_calls
        assert completion.choices[0].finish_reason == "tool_calls"
        assert call and call[0].function.name == "get_weather"
        assert "city" in json.loads(call[0].function.arguments)
        stream = client.chat.completions.create(
            model="xai/grok-4.3",
            messages=MESSAGES,
            tools=tools,
            tool_choice="required",
            stream=True,
        )
        fragments = [
            tc.function.arguments or ""
            for chunk in stream
            if chunk.choices
            for tc in chunk.choices[0].delta.tool_calls or []
            if tc.function is not None
        ]
    assert "city" in json.loads("".join(fragments))
    sent = stack.last_upstream_request()["body"]
    assert sent["tools"] == tools and sent["tool_choice"] == "required"


def test_structured_output(stack: Stack) -> None:
    schema = {
        "type": "object",
        "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
        "required": ["name", "age"],
        "additionalProperties": False,
    }
    with stack.client() as client:
        completion = client.chat.completions.create(
            model="openai/gpt-4o-mini",
            messages=MESSAGES,
            response_format={
                "type": "json_schema",
                "json_schema": {"name": "person", "schema": schema, "strict": True},
            },
        )
    content = completion.choices[0].message.content
    assert content is not None
    data = json.loads(content)
    assert isinstance(data["name"], str) and isinstance(data["age"], int)


def test_reasoning_effort_and_every_parameter_pass_through(stack: Stack) -> None:
    image = {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}
    with stack.client() as client:
        completion = client.chat.completions.create(
            model="xai/grok-4.3",
            messages=[
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": [{"type": "text", "text": "What is this?"}, image]},
            ],
            reasoning_effort="low",
            max_completion_tokens=64,
            n=2,
            stop=["\n\n\n"],
            seed=42,
            temperature=0.3,
            top_p=0.9,
            logprobs=True,
            top_logprobs=2,
            user="user-123",
            parallel_tool_calls=False,
            presence_penalty=0.1,
            frequency_penalty=0.2,
        )
    assert len(completion.choices) == 2
    message = completion.choices[0].message
    assert message.model_extra is not None and message.model_extra.get("reasoning_content")
    sent = stack.last_upstream_request()["body"]
    for name, value in {
        "reasoning_effort": "low",
        "max_completion_tokens": 64,
        "n": 2,
        "stop": ["\n\n\n"],
        "seed": 42,
        "temperature": 0.3,
        "top_p": 0.9,
        "logprobs": True,
        "top_logprobs": 2,
        "user": "user-123",
        "parallel_tool_calls": False,
        "presence_penalty": 0.1,
        "frequency_penalty": 0.2,
    }.items():
        assert sent[name] == value, name
    assert sent["messages"][1]["content"][1] == image


def test_bare_model_name_resolves_when_unambiguous(stack: Stack) -> None:
    with stack.client() as client:
        completion = client.chat.completions.create(model="grok-4.3", messages=MESSAGES)
    assert completion.model == "xai/grok-4.3"


def test_request_id_is_echoed(stack: Stack) -> None:
    with stack.client() as client:
        raw = client.chat.completions.with_raw_response.create(
            model="xai/grok-4.3", messages=MESSAGES, extra_headers={"X-Request-Id": "my-trace-42"}
        )
    assert raw.headers["x-request-id"] == "my-trace-42"


def test_models_list_through_sdk(stack: Stack) -> None:
    with stack.client() as client:
        ids = {m.id for m in client.models.list()}
    assert "xai/grok-4.3" in ids and "openai/gpt-4o-mini" in ids


def test_sdk_client_without_retries_sees_openai_types(stack: Stack) -> None:
    with stack.client() as client:
        completion = client.chat.completions.create(
            model="deepseek/deepseek-chat", messages=MESSAGES
        )
    assert isinstance(completion, openai.types.chat.ChatCompletion)
    assert completion.model == "deepseek/deepseek-chat"
