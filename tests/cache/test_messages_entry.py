"""Cached Messages: stored from a whole Message or an Anthropic stream, replayed either way."""

from __future__ import annotations

import orjson

from aigw.cache import messages_entry
from aigw.core.chat import (
    Event,
    Finished,
    Started,
    TextDelta,
    ToolArgsDelta,
    ToolCallStart,
    UsageReport,
)
from aigw.core.usage import Usage
from aigw.formats.anthropic_stream import AnthropicEventWriter, AnthropicStreamDecoder

MODEL = "anthropic/claude-haiku-4-5"


def _stream() -> bytes:
    writer = AnthropicEventWriter(id="msg_abc", model=MODEL)
    events: list[Event] = [
        Started("msg_abc", MODEL),
        TextDelta("Pelicans "),
        TextDelta("fish."),
        ToolCallStart(0, "toolu_1", "get_weather"),
        ToolArgsDelta(0, '{"city": "Paris"}'),
        Finished("tool_calls"),
        UsageReport(Usage(12, 7)),
    ]
    return writer.feed(events) + writer.finish()


def test_a_stream_folds_into_a_message_and_replays_the_same() -> None:
    entry = messages_entry.from_stream(_stream(), MODEL, 1234)
    assert entry is not None and entry.cost == 1234
    body = entry.body
    assert body["id"] == "msg_abc" and body["type"] == "message" and body["model"] == MODEL
    assert body["content"][0] == {"type": "text", "text": "Pelicans fish."}
    assert body["content"][1]["input"] == {"city": "Paris"}
    assert body["stop_reason"] == "tool_use"
    assert messages_entry.usage_of(entry) == Usage(12, 7)
    replay = messages_entry.stream_answer(entry)
    assert replay is not None
    decoder = AnthropicStreamDecoder()
    events = decoder.feed(replay) + decoder.finish()
    assert decoder.done
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "Pelicans fish."
    again = messages_entry.from_stream(replay, MODEL, 1234)
    assert again is not None and again.body == body


def test_a_cut_stream_is_not_stored() -> None:
    whole = _stream()
    cut = whole[: whole.index(b"event: message_delta")]
    assert messages_entry.from_stream(cut, MODEL, 1) is None


def test_whole_messages_only() -> None:
    entry = messages_entry.from_stream(_stream(), MODEL, 5)
    assert entry is not None
    raw = messages_entry.whole_answer(entry)
    assert raw is not None
    stored = messages_entry.from_whole(raw, 5)
    assert stored is not None and stored.body == entry.body
    chat = orjson.dumps({"object": "chat.completion", "choices": []})
    assert messages_entry.from_whole(chat, 5) is None
    assert messages_entry.from_whole(b"not json", 5) is None
