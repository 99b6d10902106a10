"""One contract for every provider: the official openai SDK against ``/v1/chat/completions``,
each provider's simulator behind the gateway speaking its own wire format.

Cases: text, stream, tools, streamed tools, parallel tools, tool results, image input,
structured output, reasoning (whole and streamed), each error class, a mid-stream error,
usage with cost, and the warning for a dropped parameter. A provider opts out of a case only
in ``providers.py``, with the reason.
"""

from __future__ import annotations

import json
from typing import Any

import openai
import pytest

from aigw.billing.pricing import cost_micro_cents, micro_cents_to_usd
from aigw.catalog import builtin_catalog
from aigw.formats.openai_chat import usage_from_openai
from tests.contract.providers import PROVIDERS, Provider
from tests.server.conftest import Stack

ASK = [{"role": "user", "content": "Tell me about pelicans and their habitat."}]
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}
TIME = {
    "type": "function",
    "function": {
        "name": "get_time",
        "parameters": {"type": "object", "properties": {"zone": {"type": "string"}}},
    },
}
PIXEL = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0g" + (
    "AAAABJRU5ErkJggg=="
)
SCHEMA = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "wingspan_m": {"type": "number"}},
    "required": ["name", "wingspan_m"],
    "additionalProperties": False,
}

pytestmark = pytest.mark.parametrize("provider", PROVIDERS, ids=str)


def case(provider: Provider, name: str) -> None:
    reason = provider.opt_out.get(name)
    if reason is not None:
        pytest.skip(f"{provider.name} opts out of {name!r}: {reason}")


def expected_cost(model: str, usage: dict[str, Any]) -> float:
    found = builtin_catalog().get(model)
    normalised = usage_from_openai(usage)
    assert found is not None and normalised is not None
    return micro_cents_to_usd(cost_micro_cents(found.price, normalised))


def stream_summary(chunks: list[dict[str, Any]]) -> dict[str, Any]:
    text, reasoning, finish, usage = "", "", None, None
    calls: dict[int, dict[str, str]] = {}
    for chunk in chunks:
        usage = chunk.get("usage") or usage
        for choice in chunk.get("choices") or []:
            delta = choice.get("delta") or {}
            text += delta.get("content") or ""
            reasoning += delta.get("reasoning_content") or ""
            finish = choice.get("finish_reason") or finish
            for call in delta.get("tool_calls") or []:
                slot = calls.setdefault(call["index"], {"id": "", "name": "", "arguments": ""})
                slot["id"] = call.get("id") or slot["id"]
                fn = call.get("function") or {}
                slot["name"] += fn.get("name") or ""
                slot["arguments"] += fn.get("arguments") or ""
    return {"text": text, "reasoning": reasoning, "finish": finish, "calls": calls, "usage": usage}


def stream(stack: Stack, provider: Provider, **kwargs: Any) -> dict[str, Any]:
    with stack.client() as client:
        chunks = [
            c.model_dump(exclude_unset=True)
            for c in client.chat.completions.create(
                model=provider.model,
                stream=True,
                stream_options={"include_usage": True},
                **kwargs,
            )
        ]
    assert all(c["model"] == provider.model for c in chunks)
    return stream_summary(chunks)


def test_text(stack: Stack, provider: Provider) -> None:
    case(provider, "text")
    with stack.client() as client:
        raw = client.chat.completions.with_raw_response.create(model=provider.model, messages=ASK)
    completion = raw.parse()
    got = completion.model_dump()
    assert got["model"] == provider.model
    assert got["choices"][0]["message"]["content"]
    assert got["choices"][0]["finish_reason"] == "stop"
    usage = got["usage"]
    assert usage["prompt_tokens"] > 0 and usage["completion_tokens"] > 0
    assert usage["cost"] == expected_cost(provider.model, usage) > 0
    assert float(raw.headers["X-Cost-Cents"]) == pytest.approx(usage["cost"] * 100)
    assert raw.headers["x-aig-provider"] == provider.model.split("/")[0]


def test_stream(stack: Stack, provider: Provider) -> None:
    case(provider, "stream")
    got = stream(stack, provider, messages=ASK)
    assert got["text"] and got["finish"] == "stop" and not got["calls"]
    assert got["usage"]["completion_tokens"] > 0
    assert got["usage"]["cost"] == expected_cost(provider.model, got["usage"])


@pytest.mark.parametrize("streamed", [False, True], ids=["whole", "streamed"])
def test_tools(stack: Stack, provider: Provider, streamed: bool) -> None:
    case(provider, "streamed tools" if streamed else "tools")
    ask = [{"role": "user", "content": "Use the get_weather tool for Paris."}]
    if streamed:
        got = stream(stack, provider, messages=ask, tools=[WEATHER])
        finish, calls = got["finish"], list(got["calls"].values())
    else:
        with stack.client() as client:
            completion = client.chat.completions.create(
                model=provider.model, messages=ask, tools=[WEATHER]
            )
        choice = completion.choices[0]
        finish = choice.finish_reason
        calls = [
            {"id": c.id, "name": c.function.name, "arguments": c.function.arguments}
            for c in choice.message.tool_calls or []
        ]
    assert finish == "tool_calls" and len(calls) == 1
    assert calls[0]["name"] == "get_weather" and calls[0]["id"]
    assert isinstance(json.loads(calls[0]["arguments"])["city"], str)


def test_parallel_tools_and_results(stack: Stack, provider: Provider) -> None:
    case(provider, "parallel tools")
    ask = [{"role": "user", "content": "Call get_weather for Paris and get_time for Europe."}]
    with stack.client() as client:
        first = client.chat.completions.create(
            model=provider.model, messages=ask, tools=[WEATHER, TIME]
        )
        message = first.choices[0].message
        assert sorted(c.function.name for c in message.tool_calls or []) == [
            "get_time",
            "get_weather",
        ]
        history: list[Any] = [*ask, message.model_dump(exclude_none=True)]
        for call in message.tool_calls or []:
            history.append({"role": "tool", "tool_call_id": call.id, "content": "42"})
        second = client.chat.completions.create(
            model=provider.model, messages=history, tools=[WEATHER, TIME]
        )
    assert second.choices[0].finish_reason == "stop" and second.choices[0].message.content


def test_image_input(stack: Stack, provider: Provider) -> None:
    case(provider, "image input")
    content = [
        {"type": "text", "text": "What is in this picture?"},
        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PIXEL}"}},
    ]
    with stack.client() as client:
        completion = client.chat.completions.create(
            model=provider.model, messages=[{"role": "user", "content": content}]
        )
    assert completion.choices[0].message.content
    assert PIXEL in json.dumps(stack.last_upstream_request()["body"])


def test_image_url_input(stack: Stack, provider: Provider) -> None:
    case(provider, "image URL input")
    url = "https://example.com/pelican.png"
    content = [
        {"type": "text", "text": "Describe it."},
        {"type": "image_url", "image_url": {"url": url}},
    ]
    with stack.client() as client:
        completion = client.chat.completions.create(
            model=provider.model, messages=[{"role": "user", "content": content}]
        )
    assert completion.choices[0].message.content
    assert url in json.dumps(stack.last_upstream_request()["body"])


def test_structured_output(stack: Stack, provider: Provider) -> None:
    case(provider, "structured output")
    with stack.client() as client:
        completion = client.chat.completions.create(
            model=provider.model,
            messages=[{"role": "user", "content": "Describe a pelican as JSON."}],
            response_format={
                "type": "json_schema",
                "json_schema": {"name": "bird", "schema": SCHEMA, "strict": True},
            },
        )
    data = json.loads(completion.choices[0].message.content or "")
    assert isinstance(data["name"], str) and isinstance(data["wingspan_m"], int | float)


@pytest.mark.parametrize("streamed", [False, True], ids=["whole", "streamed"])
def test_reasoning(stack: Stack, provider: Provider, streamed: bool) -> None:
    case(provider, "reasoning")
    if streamed:
        got = stream(stack, provider, messages=ASK, reasoning_effort="low")
        reasoning, text, usage = got["reasoning"], got["text"], got["usage"]
    else:
        with stack.client() as client:
            completion = client.chat.completions.create(
                model=provider.model, messages=ASK, reasoning_effort="low"
            )
        message = completion.model_dump()["choices"][0]["message"]
        reasoning, text = message.get("reasoning_content"), message["content"]
        usage = completion.model_dump()["usage"]
    assert reasoning and text
    assert usage["cost"] == expected_cost(provider.model, usage)


def test_reasoning_tokens_are_counted(stack: Stack, provider: Provider) -> None:
    case(provider, "reasoning usage")
    with stack.client() as client:
        completion = client.chat.completions.create(
            model=provider.model, messages=ASK, reasoning_effort="low"
        )
    assert completion.usage is not None and completion.usage.completion_tokens_details
    reasoning = completion.usage.completion_tokens_details.reasoning_tokens or 0
    assert 0 < reasoning < completion.usage.completion_tokens


def test_dropped_parameter_is_named_in_a_warning(stack: Stack, provider: Provider) -> None:
    case(provider, "warning")
    with stack.client() as client:
        raw = client.chat.completions.with_raw_response.create(
            model=provider.model, messages=ASK, logit_bias={"50256": -100}
        )
    assert "logit_bias" in raw.headers["x-aig-warning"]


def test_refused_parameter_is_a_400(stack: Stack, provider: Provider) -> None:
    case(provider, "refusal")
    with stack.client() as client, pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(model=provider.model, messages=ASK, n=3)
    assert info.value.body["param"] == "n"  # type: ignore[index]
    assert stack.sim.stats["requests"] == 0


OVERLOADED = {"anthropic": "529"}
ERRORS = [
    # (fault, client status, error type, upstream attempts)
    ("429", 503, "service_unavailable", None),
    ("429_quota", 500, "server_error", 1),
    ("overloaded", 503, "service_unavailable", 2),
    ("500", 500, "server_error", 2),
    ("401", 500, "server_error", 1),
    ("400", 400, "invalid_request_error", 1),
    ("context_length", 400, "invalid_request_error", 1),
]


@pytest.mark.parametrize(
    ("fault", "status", "kind", "attempts"), ERRORS, ids=[e[0] for e in ERRORS]
)
def test_error_classes(
    stack: Stack, provider: Provider, fault: str, status: int, kind: str, attempts: int | None
) -> None:
    case(provider, f"error {fault}")
    name = OVERLOADED.get(provider.name, "503") if fault == "overloaded" else fault
    stack.sim.queue_fault(name, count=3, retry_after=30)
    with stack.client() as client, pytest.raises(openai.APIStatusError) as info:
        client.chat.completions.create(model=provider.model, messages=ASK)
    error = info.value.response.json()["error"]
    assert (info.value.status_code, error["type"]) == (status, kind)
    if attempts is not None:
        assert stack.sim.stats["requests"] == attempts
    if fault == "429":
        assert info.value.response.headers["retry-after"] == "30"
    if fault == "context_length":
        assert "context" in error["message"]
    assert "sim" not in error["message"].lower()  # the upstream's own message never leaks


def test_mid_stream_error(stack: Stack, provider: Provider) -> None:
    case(provider, "mid-stream error")
    stack.sim.queue_fault("stream_error", after_chunks=4)
    with stack.client() as client, pytest.raises(openai.APIError) as info:
        for _ in client.chat.completions.create(model=provider.model, messages=ASK, stream=True):
            pass
    assert info.value.body is not None
