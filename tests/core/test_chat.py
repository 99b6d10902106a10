"""Neutral answers: a whole answer replayed as stream events folds back into itself."""

from __future__ import annotations

from aigw.core.chat import (
    Completion,
    ReasoningDelta,
    ReasoningSignature,
    Started,
    ToolCall,
    collect,
    replay,
)
from aigw.core.usage import Usage
from aigw.formats.anthropic_stream import AnthropicEventWriter, AnthropicStreamDecoder
from aigw.formats.openai_translate import OpenAIChunkWriter


def _answer(**fields: object) -> Completion:
    whole = Completion(
        id="chatcmpl-1",
        model="m",
        text="Hello",
        reasoning="thinking",
        reasoning_signature="sig",
        tool_calls=[ToolCall("call_1", "f", '{"a":1}', "ts"), ToolCall("call_2", "g", "{}")],
        finish_reason="tool_calls",
        usage=Usage(5, 7, 1, 2),
    )
    for name, value in fields.items():
        setattr(whole, name, value)
    return whole


def test_replayed_events_fold_back_into_the_answer() -> None:
    for whole in (_answer(), _answer(reasoning="", reasoning_signature=None, tool_calls=[])):
        events = replay(whole)
        assert events[0] == Started("chatcmpl-1", "m")
        assert collect(events, Completion(id="", model="")) == whole


def test_an_answer_without_usage_replays_zero_usage() -> None:
    folded = collect(replay(_answer(usage=None)), Completion(id="", model=""))
    assert folded.usage == Usage()


def test_a_lone_signature_opens_a_thinking_block_for_anthropic_only() -> None:
    whole = _answer(reasoning="", text="", tool_calls=[], finish_reason="stop")
    events = replay(whole)
    assert events[1:3] == [ReasoningDelta(""), ReasoningSignature("sig")]

    anthropic = AnthropicEventWriter(id="msg_1", model="m")
    sent = anthropic.feed(events) + anthropic.finish()
    assert b'"thinking_delta","thinking":""' in sent and b'"signature":"sig"' in sent
    decoder = AnthropicStreamDecoder()
    back = collect(decoder.feed(sent) + decoder.finish(), Completion(id="", model=""))
    assert back.reasoning == "" and back.reasoning_signature == "sig"

    openai = OpenAIChunkWriter(id="chatcmpl-1", model="m", include_usage=False)
    chunks = openai.feed(events) + openai.finish()
    assert b"reasoning_content" not in chunks and b'"reasoning_signature":"sig"' in chunks
