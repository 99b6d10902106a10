"""Anthropic Messages codec: OpenAI requests to recorded Anthropic request shapes, recorded
Messages to neutral answers, and the client direction (Messages requests in, Messages out)."""

from __future__ import annotations

import json
from typing import Any

import orjson
import pytest
from tests.fixtures_path import fixture

from aigw.core.chat import Completion, ToolCall
from aigw.core.usage import Usage
from aigw.errors import InvalidRequest
from aigw.formats import anthropic_inbound as inbound
from aigw.formats.anthropic_messages import (
    completion_from_anthropic,
    completion_to_anthropic,
    encode_request,
    error_fields,
)


def recorded_request(name: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(fixture(f"anthropic/{name}").read_text())["body"]
    return body


def test_system_tools_and_tool_choice_match_the_recorded_request() -> None:
    recorded = recorded_request("messages_tool_use_parallel.request.json")
    tool = recorded["tools"][0]
    body = {
        "model": "anthropic/claude-haiku-4-5",
        "messages": [
            {"role": "system", "content": recorded["system"]},
            {"role": "user", "content": recorded["messages"][0]["content"][0]["text"]},
        ],
        "max_tokens": 4096,
        "tools": [
            {
                "type": "function",
                "function": {
                    "name": tool["name"],
                    "description": tool["description"],
                    "parameters": tool["input_schema"],
                },
            }
        ],
        "tool_choice": "auto",
    }
    out = encode_request(body, "claude-haiku-4-5", max_output=64000, stream=False).body
    recorded.pop("stream")
    assert out == recorded


def test_reasoning_effort_becomes_a_thinking_budget() -> None:
    recorded = recorded_request("stream_thinking_text.request.json")
    body = {
        "model": "x",
        "messages": [{"role": "user", "content": "How do I cross the street?"}],
        "max_completion_tokens": 4096,
        "reasoning_effort": "minimal",
    }
    out = encode_request(body, "claude-sonnet-4-0", max_output=None, stream=True).body
    assert out["thinking"] == recorded["thinking"]
    assert out["max_tokens"] == recorded["max_tokens"] and out["stream"] is True
    assert out["messages"] == recorded["messages"]


def test_thinking_drops_sampling_and_defaults_max_tokens() -> None:
    body = {
        "model": "x",
        "messages": [{"role": "user", "content": "hi"}],
        "reasoning_effort": "high",
        "temperature": 0.2,
        "seed": 7,
    }
    encoded = encode_request(body, "claude", max_output=64000, stream=False)
    assert encoded.body["thinking"] == {"type": "enabled", "budget_tokens": 16384}
    assert encoded.body["max_tokens"] > 16384 and "temperature" not in encoded.body
    assert any("seed" in w for w in encoded.warnings)
    assert any("temperature" in w for w in encoded.warnings)


def test_images_tool_history_and_signatures_round_trip() -> None:
    body = {
        "model": "x",
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "what is this?"},
                    {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBOR"}},
                    {"type": "image_url", "image_url": {"url": "https://x.test/cat.jpg"}},
                ],
            },
            {
                "role": "assistant",
                "content": None,
                "reasoning_content": "think",
                "reasoning_signature": "sig",
                "tool_calls": [
                    {
                        "id": "t1",
                        "type": "function",
                        "function": {"name": "look", "arguments": '{"q": 1}'},
                    },
                    {
                        "id": "t2",
                        "type": "function",
                        "function": {"name": "look", "arguments": "{}"},
                    },
                ],
            },  # fmt: skip
            {"role": "tool", "tool_call_id": "t1", "content": "one"},
            {"role": "tool", "tool_call_id": "t2", "content": "two"},
            {"role": "user", "content": "and now?"},
        ],
    }
    out = encode_request(body, "claude", max_output=None, stream=False).body
    user, assistant, results = out["messages"]
    assert user["content"][1] == {
        "type": "image",
        "source": {"type": "base64", "media_type": "image/png", "data": "iVBOR"},
    }
    assert user["content"][2]["source"] == {"type": "url", "url": "https://x.test/cat.jpg"}
    assert assistant["content"][0] == {"type": "thinking", "thinking": "think", "signature": "sig"}
    assert assistant["content"][1]["input"] == {"q": 1}
    assert [b["type"] for b in results["content"]] == ["tool_result", "tool_result", "text"]
    back = inbound.to_openai({**out, "max_tokens": 10, "model": "m"})
    assert back["messages"][1]["reasoning_signature"] == "sig"
    assert back["messages"][1]["tool_calls"][0]["function"]["arguments"] == '{"q":1}'
    assert [m["role"] for m in back["messages"]] == ["user", "assistant", "tool", "tool", "user"]


@pytest.mark.parametrize(
    ("patch", "param"),
    [
        ({"n": 2}, "n"),
        ({"logprobs": True}, "logprobs"),
        ({"response_format": {"type": "json_object"}}, "response_format"),
        ({"reasoning_effort": "high", "max_tokens": 500}, "max_completion_tokens"),
        ({"reasoning_effort": "extreme"}, "reasoning_effort"),
    ],
)
def test_what_cannot_be_translated_is_refused(patch: dict[str, Any], param: str) -> None:
    body = {"model": "x", "messages": [{"role": "user", "content": "hi"}], **patch}
    with pytest.raises(InvalidRequest) as info:
        encode_request(body, "claude", max_output=None, stream=False)
    assert info.value.param == param


def test_structured_output_and_parallel_tool_calls() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "string"}}}
    body = {
        "model": "x",
        "messages": [{"role": "user", "content": "hi"}],
        "response_format": {"type": "json_schema", "json_schema": {"name": "n", "schema": schema}},
        "tools": [{"type": "function", "function": {"name": "f"}}],
        "parallel_tool_calls": False,
        "tool_choice": {"type": "function", "function": {"name": "f"}},
    }
    out = encode_request(body, "claude", max_output=None, stream=False).body
    assert out["output_config"] == {"format": {"type": "json_schema", "schema": schema}}
    assert out["tool_choice"] == {"type": "tool", "name": "f", "disable_parallel_tool_use": True}
    assert out["tools"] == [{"name": "f", "input_schema": {"type": "object", "properties": {}}}]


def test_recorded_messages_decode() -> None:
    text = completion_from_anthropic(
        json.loads(fixture("anthropic/messages_text.json").read_text())
    )
    assert text.text.startswith("Hello! I'm doing well") and text.finish_reason == "stop"
    assert text.usage == Usage(prompt_tokens=12, completion_tokens=29)
    thinking = completion_from_anthropic(
        json.loads(fixture("anthropic/messages_thinking_tool_use.json").read_text())
    )
    assert thinking.reasoning.startswith("The user is asking")
    assert thinking.reasoning_signature and thinking.reasoning_signature.startswith("EqEE")
    assert [(c.name, c.arguments) for c in thinking.tool_calls] == [("get_user_country", "{}")]
    assert thinking.finish_reason == "tool_calls"
    parallel = completion_from_anthropic(
        json.loads(fixture("anthropic/messages_tool_use_parallel.json").read_text())
    )
    names = [json.loads(c.arguments)["name"] for c in parallel.tool_calls]
    assert names == ["Alice", "Bob", "Charlie", "Daisy"]


def test_cached_tokens_count_as_input() -> None:
    data = {
        "id": "m", "model": "c", "content": [], "stop_reason": "max_tokens",
        "usage": {"input_tokens": 10, "cache_read_input_tokens": 90,
                  "cache_creation_input_tokens": 5, "output_tokens": 7,
                  "output_tokens_details": {"thinking_tokens": 3}},
    }  # fmt: skip
    got = completion_from_anthropic(data)
    assert got.usage == Usage(prompt_tokens=105, completion_tokens=7, cached_tokens=90,
                              reasoning_tokens=3)  # fmt: skip
    assert got.finish_reason == "length"


@pytest.mark.parametrize(
    ("name", "kind", "code"),
    [
        ("error_529_overloaded.json", "overloaded_error", None),
        ("error_429_rate_limit.json", "rate_limit_error", None),
        ("error_401_authentication.json", "authentication_error", None),
        ("error_400_invalid_request.json", "invalid_request_error", None),
    ],
)
def test_error_fields_are_structured(name: str, kind: str, code: str | None) -> None:
    assert error_fields(fixture(f"anthropic/{name}").read_bytes()) == (kind, code)


def test_client_direction_message() -> None:
    c = Completion(
        id="chatcmpl-abc",
        model="grok",
        text="hi",
        reasoning="because",
        tool_calls=[ToolCall("call_1", "f", '{"x": 1}')],
        finish_reason="tool_calls",
        usage=Usage(20, 9, cached_tokens=5, reasoning_tokens=4),
    )
    out = completion_to_anthropic(c, "xai/grok-4.3")
    assert out["id"] == "msg_abc" and out["stop_reason"] == "tool_use"
    assert [b["type"] for b in out["content"]] == ["thinking", "text", "tool_use"]
    assert out["content"][2]["input"] == {"x": 1}
    assert out["usage"]["input_tokens"] == 15 and out["usage"]["cache_read_input_tokens"] == 5
    assert out["usage"]["output_tokens_details"] == {"thinking_tokens": 4}


def test_inbound_request_checks_and_translation() -> None:
    raw = orjson.dumps(recorded_request("messages_thinking_tool_use.request.json"))
    body = inbound.parse_request(raw)
    out = inbound.to_openai(body)
    assert out["reasoning_effort"] == "low" and out["max_tokens"] == 4096
    assert out["tools"][0]["function"]["name"] == "get_user_country"
    for bad, param in [
        (b"{}", "model"),
        (b'{"model": "m", "messages": []}', "max_tokens"),
        (b'{"model": "m", "max_tokens": 5, "messages": [{"role": "system", "content": "x"}]}',
         "messages[0].role"),
    ]:  # fmt: skip
        with pytest.raises(InvalidRequest) as info:
            inbound.parse_request(bad)
        assert info.value.param == param
    with pytest.raises(InvalidRequest):
        inbound.to_openai({**body, "tools": [{"type": "web_search_20250305", "name": "w"}]})
