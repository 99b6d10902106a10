"""The official anthropic SDK against ``/v1/messages``: a Claude model passed through to an
Anthropic upstream, and non-Claude models translated; errors in Anthropic's shape."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import anthropic
import orjson
import pytest
from tests.harness import http
from tests.server.conftest import Stack

CLAUDE = "claude-haiku-4-5"  # bare name: resolves to anthropic/claude-haiku-4-5
OTHERS = ["xai/grok-4.3", "simulator/chat"]
WEATHER = {
    "name": "get_weather",
    "description": "Weather for a city.",
    "input_schema": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    },
}
ASK = [{"role": "user", "content": "Tell me about pelicans and their habitat."}]


@pytest.fixture
def client(stack: Stack) -> Iterator[anthropic.Anthropic]:
    with anthropic.Anthropic(base_url=stack.gw.url, api_key=stack.key, max_retries=0) as c:
        yield c


@pytest.mark.parametrize("model", [CLAUDE, *OTHERS])
def test_create(client: anthropic.Anthropic, stack: Stack, model: str) -> None:
    message = client.messages.create(model=model, max_tokens=256, messages=ASK)
    assert message.type == "message" and message.role == "assistant"
    assert message.content[0].type == "text" and message.content[0].text
    assert message.stop_reason == "end_turn"
    assert message.usage.input_tokens > 0 and message.usage.output_tokens > 0
    assert message.model == (f"anthropic/{CLAUDE}" if model == CLAUDE else model)
    upstream = stack.last_upstream_request()
    if model == CLAUDE:
        assert upstream["path"] == "/v1/messages" and upstream["body"]["model"] == CLAUDE
        assert upstream["headers"]["x-api-key"].endswith("7788")
    else:
        assert upstream["path"].endswith("/chat/completions")


@pytest.mark.parametrize("model", [CLAUDE, *OTHERS])
def test_stream(client: anthropic.Anthropic, model: str) -> None:
    with client.messages.stream(model=model, max_tokens=256, messages=ASK) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text and final.content[0].type == "text" and final.content[0].text == text
    assert final.usage.input_tokens > 0 and final.usage.output_tokens > 0
    assert final.stop_reason == "end_turn"


@pytest.mark.parametrize("model", [CLAUDE, *OTHERS])
@pytest.mark.parametrize("streamed", [False, True])
def test_tools(client: anthropic.Anthropic, model: str, streamed: bool) -> None:
    ask = [{"role": "user", "content": "Use the get_weather tool for Paris."}]
    kwargs: dict[str, Any] = {"model": model, "max_tokens": 256, "messages": ask,
                              "tools": [WEATHER]}  # fmt: skip
    if streamed:
        with client.messages.stream(**kwargs) as stream:
            message = stream.get_final_message()
    else:
        message = client.messages.create(**kwargs)
    calls = [b for b in message.content if b.type == "tool_use"]
    assert message.stop_reason == "tool_use" and len(calls) == 1
    assert calls[0].name == "get_weather" and isinstance(calls[0].input, dict)
    assert isinstance(calls[0].input.get("city"), str)
    follow_up = [
        *ask,
        {"role": "assistant",
         "content": [b.model_dump(exclude_none=True) for b in message.content]},
        {"role": "user",
         "content": [{"type": "tool_result", "tool_use_id": calls[0].id, "content": "sunny"}]},
    ]  # fmt: skip
    answer = client.messages.create(model=model, max_tokens=128, messages=follow_up,
                                    tools=[WEATHER])  # fmt: skip
    assert answer.stop_reason == "end_turn" and answer.content[0].type == "text"


@pytest.mark.parametrize("model", [CLAUDE, "simulator/chat"])
def test_thinking(client: anthropic.Anthropic, model: str) -> None:
    with client.messages.stream(
        model=model,
        max_tokens=4096,
        thinking={"type": "enabled", "budget_tokens": 2048},
        messages=ASK,
    ) as stream:
        final = stream.get_final_message()
    kinds = [b.type for b in final.content]
    assert kinds[0] == "thinking" and "text" in kinds
    assert final.content[0].thinking  # type: ignore[union-attr]


def test_count_tokens(client: anthropic.Anthropic, stack: Stack) -> None:
    counted = client.messages.count_tokens(model=CLAUDE, messages=ASK)
    assert counted.input_tokens > 0
    assert stack.last_upstream_request()["path"] == "/v1/messages/count_tokens"
    estimated = client.messages.count_tokens(model="xai/grok-4.3", messages=ASK)
    assert estimated.input_tokens > 0


def test_anthropic_prefix_and_bearer_auth(stack: Stack) -> None:
    status, headers, raw = http(
        "POST",
        stack.gw.url + "/anthropic/v1/messages",
        json={"model": CLAUDE, "max_tokens": 50, "messages": ASK},
        headers={"Authorization": f"Bearer {stack.key}", "anthropic-version": "2023-06-01"},
    )
    assert status == 200, raw
    assert orjson.loads(raw)["type"] == "message" and headers["X-Request-Id"]


def test_errors_have_anthropic_shape(client: anthropic.Anthropic, stack: Stack) -> None:
    with anthropic.Anthropic(base_url=stack.gw.url, api_key="sk-aig-nope", max_retries=0) as bad:
        with pytest.raises(anthropic.AuthenticationError) as auth:
            bad.messages.create(model=CLAUDE, max_tokens=10, messages=ASK)
    assert auth.value.body["error"]["type"] == "authentication_error"  # type: ignore[index]
    with pytest.raises(anthropic.NotFoundError) as missing:
        client.messages.create(model="claude-nothing-9", max_tokens=10, messages=ASK)
    body = missing.value.response.json()
    assert body["type"] == "error" and body["error"]["type"] == "not_found_error"
    with pytest.raises(anthropic.BadRequestError) as bad_request:
        client.messages.create(model=CLAUDE, max_tokens=0, messages=ASK)
    assert bad_request.value.response.json()["error"]["type"] == "invalid_request_error"


@pytest.mark.parametrize("model", [CLAUDE, "xai/grok-4.3"])
def test_upstream_overload_is_503(client: anthropic.Anthropic, stack: Stack, model: str) -> None:
    stack.sim.queue_fault("529" if model == CLAUDE else "503", count=5)
    with pytest.raises(anthropic.InternalServerError) as info:
        client.messages.create(model=model, max_tokens=10, messages=ASK)
    assert info.value.status_code == 503
    assert info.value.response.json()["error"]["type"] == "overloaded_error"


@pytest.mark.parametrize("model", [CLAUDE, "xai/grok-4.3"])
def test_mid_stream_error_reaches_the_client(
    client: anthropic.Anthropic, stack: Stack, model: str
) -> None:
    stack.sim.queue_fault("stream_error", after_chunks=4)
    with pytest.raises(anthropic.APIStatusError) as info:
        with client.messages.stream(model=model, max_tokens=256, messages=ASK) as stream:
            for _ in stream:
                pass
    assert "error" in json.dumps(info.value.body)
