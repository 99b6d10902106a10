from __future__ import annotations

import orjson
import pytest
from tests.fixtures_path import fixture

from aigw.core.usage import Usage
from aigw.errors import InvalidRequest
from aigw.formats.openai_chat import parse_request, prepare_upstream, usage_from_openai


def _body(**fields: object) -> bytes:
    base: dict[str, object] = {
        "model": "xai/grok-4.3",
        "messages": [{"role": "user", "content": "hi"}],
    }
    base.update(fields)
    return orjson.dumps({k: v for k, v in base.items() if v is not ...})


@pytest.mark.parametrize(
    ("raw", "param"),
    [
        (b"", "body"),
        (b"{not json", "body"),
        (b"[1,2]", "body"),
        (_body(model=""), "model"),
        (_body(model=3), "model"),
        (_body(messages=...), "messages"),
        (_body(messages="hi"), "messages"),
        (_body(messages=[]), "messages"),
        (_body(messages=["hi"]), "messages[0]"),
        (_body(messages=[{"content": "x"}]), "messages[0].role"),
        (_body(messages=[{"role": "wizard", "content": "x"}]), "messages[0].role"),
        (_body(messages=[{"role": "user", "content": 5}]), "messages[0].content"),
        (_body(messages=[{"role": "user", "content": [{"text": "x"}]}]), "messages[0].content[0]"),
        (_body(temperature="hot"), "temperature"),
        (_body(max_tokens=1.5), "max_tokens"),
        (_body(max_tokens=True), "max_tokens"),
        (_body(max_tokens=-1), "max_tokens"),
        (_body(stream="yes"), "stream"),
        (_body(n=0), "n"),
        (_body(stop=[1]), "stop"),
        (_body(tools={"a": 1}), "tools"),
        (_body(tools=[1]), "tools[0]"),
        (_body(stream_options=True), "stream_options"),
    ],
)
def test_bad_requests_name_the_field(raw: bytes, param: str) -> None:
    with pytest.raises(InvalidRequest) as info:
        parse_request(raw)
    assert info.value.param == param
    assert info.value.status == 400


def test_recorded_requests_are_accepted() -> None:
    for name in (
        "openai/chat_stream_tool_calls.request.json",
        "openai/chat_structured_output_json_schema.request.json",
        "openai/chat_tool_call_nonstream.request.json",
        "openai_compatible/deepseek_stream_reasoning_content.request.json",
    ):
        recorded = orjson.loads(fixture(name).read_bytes())
        body = parse_request(orjson.dumps(recorded["body"]))
        assert body["messages"]


def test_prepare_upstream_asks_for_usage_but_remembers_the_client_did_not() -> None:
    body = parse_request(_body(stream=True, routing={"policy": "pinned"}))
    payload, show = prepare_upstream(body, "grok-4.3", stream=True)
    sent = orjson.loads(payload)
    assert show is False
    assert sent["model"] == "grok-4.3"
    assert sent["stream_options"] == {"include_usage": True}
    assert "routing" not in sent


def test_prepare_upstream_keeps_client_usage_request() -> None:
    body = parse_request(_body(stream=True, stream_options={"include_usage": True}))
    payload, show = prepare_upstream(body, "grok-4.3", stream=True)
    assert show is True
    assert orjson.loads(payload)["stream_options"] == {"include_usage": True}


def test_non_stream_body_is_untouched_but_the_model() -> None:
    body = parse_request(_body(tools=[{"type": "function", "function": {"name": "f"}}], seed=7))
    payload, show = prepare_upstream(body, "grok-4.3", stream=False)
    sent = orjson.loads(payload)
    assert show is False and "stream_options" not in sent
    assert sent["seed"] == 7 and sent["tools"][0]["function"]["name"] == "f"


def test_usage_openai_counts_reasoning_inside_completion() -> None:
    usage = usage_from_openai(
        {
            "prompt_tokens": 100,
            "completion_tokens": 50,
            "total_tokens": 150,
            "prompt_tokens_details": {"cached_tokens": 40},
            "completion_tokens_details": {"reasoning_tokens": 30},
        }
    )
    assert usage == Usage(
        prompt_tokens=100, completion_tokens=50, cached_tokens=40, reasoning_tokens=30
    )


def test_usage_xai_recorded_reasoning_outside_completion() -> None:
    last = fixture("xai/chat_stream_reasoning.chunks.jsonl").read_bytes().splitlines()[-1]
    usage = usage_from_openai(orjson.loads(last)["usage"])
    # 12 prompt + 2 completion + 340 reasoning = 354 total: xAI leaves reasoning out.
    assert usage == Usage(
        prompt_tokens=12, completion_tokens=342, cached_tokens=11, reasoning_tokens=340
    )


def test_usage_deepseek_cache_hit_tokens() -> None:
    usage = usage_from_openai(
        {
            "prompt_tokens": 10,
            "completion_tokens": 5,
            "total_tokens": 15,
            "prompt_cache_hit_tokens": 8,
        }
    )
    assert usage is not None and usage.cached_tokens == 8


def test_usage_garbage_is_none_or_zero() -> None:
    assert usage_from_openai(None) is None
    assert usage_from_openai({"prompt_tokens": "x", "completion_tokens": -3}) == Usage()


def test_no_model_means_the_auto_router() -> None:
    body = parse_request(_body(model=...))
    assert body["model"] == "auto"
