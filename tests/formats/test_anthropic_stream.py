"""Anthropic streams: recorded upstream streams decoded, client streams written in the
recorded event sequence, and the pass-through tap."""

from __future__ import annotations

import json

import orjson
import pytest
from tests.fixtures_path import fixture

from aigw.core.chat import Completion, Event, StreamDecoder, StreamFailed, collect
from aigw.core.usage import Usage
from aigw.errors import UpstreamSaturated
from aigw.formats.anthropic_stream import (
    AnthropicEventWriter,
    AnthropicStreamDecoder,
    AnthropicStreamTap,
)
from aigw.formats.openai_translate import OpenAIChunkWriter
from aigw.formats.sse import SSEParser


def decode(decoder: StreamDecoder, raw: bytes, step: int = 7) -> list[Event]:
    """Feed ``raw`` in awkward slices, as a network would."""
    events: list[Event] = []
    for i in range(0, len(raw), step):
        events += decoder.feed(raw[i : i + step])
    return events + decoder.finish()


def recorded_events(name: str) -> list[dict[str, object]]:
    raw = fixture(f"anthropic/{name}").read_bytes()
    return [orjson.loads(data) for _, data in SSEParser().feed(raw) + SSEParser().finish()]


def test_text_stream() -> None:
    decoder = AnthropicStreamDecoder()
    events = decode(decoder, fixture("anthropic/stream_text.sse").read_bytes())
    got = collect(events, Completion("", ""))
    assert decoder.done
    assert (got.id, got.model) == ("msg_01T8kTq7cYyYJeQ5DxcVUc6D", "claude-haiku-4-5-20251001")
    assert got.text == "Hello" and got.finish_reason == "stop"
    assert got.usage == Usage(prompt_tokens=10, completion_tokens=4)


def test_thinking_stream_keeps_reasoning_and_signature() -> None:
    raw = fixture("anthropic/stream_thinking_text.sse").read_bytes()
    got = collect(decode(AnthropicStreamDecoder(), raw), Completion("", ""))
    recorded = recorded_events("stream_thinking_text.sse")
    thinking = "".join(
        e["delta"]["thinking"]  # type: ignore[index]
        for e in recorded
        if e["type"] == "content_block_delta" and e["delta"]["type"] == "thinking_delta"  # type: ignore[index]
    )
    signature = next(
        e["delta"]["signature"]  # type: ignore[index]
        for e in recorded
        if e["type"] == "content_block_delta" and e["delta"]["type"] == "signature_delta"  # type: ignore[index]
    )
    assert got.reasoning == thinking and thinking.startswith("This is a straightforward")
    assert got.reasoning_signature == signature
    assert got.text.endswith("when crossing streets.")
    assert got.usage == Usage(prompt_tokens=43, completion_tokens=282)


def test_client_tool_call_among_server_tool_blocks() -> None:
    raw = fixture("anthropic/stream_text_tool_use_input_json_delta.sse").read_bytes()
    got = collect(decode(AnthropicStreamDecoder(), raw, step=13), Completion("", ""))
    assert [c.name for c in got.tool_calls] == ["get_exchange_rate"]
    assert json.loads(got.tool_calls[0].arguments) == {"from_currency": "USD", "to_currency": "EUR"}
    assert got.tool_calls[0].id == "toolu_01EFn5wTNBYA8Reni8rbmnHT"
    assert got.text.startswith("Let me search") and "I found the right tool!" in got.text
    assert got.finish_reason == "tool_calls"
    assert got.usage == Usage(prompt_tokens=1591, completion_tokens=175)


def test_tools_without_arguments_get_an_empty_object() -> None:
    raw = fixture("anthropic/stream_parallel_tool_use_empty_input.sse").read_bytes()
    got = collect(decode(AnthropicStreamDecoder(), raw), Completion("", ""))
    assert [(c.name, c.arguments) for c in got.tool_calls] == [
        ("pelican_name_generator", "{}"),
        ("pelican_name_generator", "{}"),
    ]


def test_mid_stream_error_event() -> None:
    decoder = AnthropicStreamDecoder()
    events = decode(decoder, fixture("anthropic/stream_error_overloaded.sse").read_bytes())
    failures = [e for e in events if isinstance(e, StreamFailed)]
    assert len(failures) == 1 and isinstance(failures[0].error, UpstreamSaturated)
    assert not decoder.done


@pytest.mark.parametrize(
    "name",
    ["stream_text.sse", "stream_thinking_text.sse", "stream_parallel_tool_use_empty_input.sse"],
)
def test_writer_reproduces_the_recorded_event_sequence(name: str) -> None:
    raw = fixture(f"anthropic/{name}").read_bytes()
    events = decode(AnthropicStreamDecoder(), raw)
    writer = AnthropicEventWriter(id="msg_x", model="anthropic/claude")
    written = writer.feed(events) + writer.finish()
    recorded = [(e["type"], e.get("index")) for e in recorded_events(name)]
    frames = SSEParser().feed(written)
    ours = [(orjson.loads(d)["type"], orjson.loads(d).get("index")) for _, d in frames]
    assert ours == recorded
    assert all(name == orjson.loads(d)["type"] for name, d in frames)
    again = collect(decode(AnthropicStreamDecoder(), written), Completion("", ""))
    original = collect(events, Completion("", ""))
    assert (again.text, again.reasoning, again.reasoning_signature, again.finish_reason) == (
        original.text,
        original.reasoning,
        original.reasoning_signature,
        original.finish_reason,
    )
    assert again.usage == original.usage
    assert [(c.name, c.arguments) for c in again.tool_calls] == [
        (c.name, c.arguments) for c in original.tool_calls
    ]


def test_openai_chunks_from_an_anthropic_stream() -> None:
    raw = fixture("anthropic/stream_text_tool_use_input_json_delta.sse").read_bytes()
    events = decode(AnthropicStreamDecoder(), raw)
    writer = OpenAIChunkWriter(id="chatcmpl-1", model="anthropic/claude-sonnet-4-6",
                               include_usage=True)  # fmt: skip
    out = writer.feed(events) + writer.finish()
    assert out.endswith(b"data: [DONE]\n\n")
    chunks = [orjson.loads(d) for _, d in SSEParser().feed(out) if d != b"[DONE]"]
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    args = "".join(
        call["function"].get("arguments", "")
        for c in chunks
        for choice in c["choices"]
        for call in choice["delta"].get("tool_calls", [])
    )
    assert json.loads(args) == {"from_currency": "USD", "to_currency": "EUR"}
    finishes = [ch["finish_reason"] for c in chunks for ch in c["choices"] if ch["finish_reason"]]
    assert finishes == ["tool_calls"]
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["prompt_tokens"] == 1591


def test_tap_forwards_bytes_and_reads_usage() -> None:
    raw = fixture("anthropic/stream_thinking_text.sse").read_bytes()
    tap = AnthropicStreamTap(gateway_model="anthropic/claude-sonnet-4")
    out = b"".join(tap.feed(raw[i : i + 50]) for i in range(0, len(raw), 50)) + tap.finish()
    assert tap.done and tap.error is None
    assert tap.usage == Usage(prompt_tokens=43, completion_tokens=282)
    first = SSEParser().feed(out)[0]
    assert orjson.loads(first[1])["message"]["model"] == "anthropic/claude-sonnet-4"
    assert out.split(b"\n\n", 1)[1] == raw.split(b"\n\n", 1)[1]


def test_tap_sees_mid_stream_errors() -> None:
    tap = AnthropicStreamTap(gateway_model="m")
    tap.feed(fixture("anthropic/stream_error_overloaded.sse").read_bytes())
    assert isinstance(tap.error, UpstreamSaturated) and not tap.done


def test_pass_through_stops_at_a_malformed_event() -> None:
    from aigw.formats.anthropic_stream import AnthropicStreamTap

    tap = AnthropicStreamTap(gateway_model="anthropic/claude")
    good = b'event: ping\ndata: {"type": "ping"}\n\n'
    out = tap.feed(good + b"event: content_block_delta\ndata: {not json\n\n" + good)
    assert out == good and tap.malformed
    assert tap.feed(good) == b""
