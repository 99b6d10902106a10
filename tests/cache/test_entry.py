"""Stored answers: folded from a stream, replayed whole or streamed, refused when cut."""

from __future__ import annotations

import orjson

from aigw.cache import entry as entries
from aigw.core.usage import Usage

CHUNK = b'data: {"id":"chatcmpl-1","object":"chat.completion.chunk","model":"m","choices":%s}\n\n'


def _sse(*choices: object, done: bool = True) -> bytes:
    out = b"".join(CHUNK % orjson.dumps([c]) for c in choices)
    return out + (b"data: [DONE]\n\n" if done else b"")


STREAM = _sse(
    {"index": 0, "delta": {"role": "assistant", "content": ""}},
    {"index": 0, "delta": {"reasoning_content": "thinking"}},
    {"index": 0, "delta": {"content": "Hel"}},
    {"index": 0, "delta": {"content": "lo"}},
    {
        "index": 0,
        "delta": {
            "tool_calls": [
                {"index": 0, "id": "call_1", "type": "function", "function": {"name": "f"}}
            ]
        },
    },
    {"index": 0, "delta": {"tool_calls": [{"index": 0, "function": {"arguments": '{"a":'}}]}},
    {"index": 0, "delta": {"tool_calls": [{"index": 0, "function": {"arguments": "1}"}}]}},
    {"index": 0, "delta": {}, "finish_reason": "tool_calls"},
)


def test_a_stream_folds_into_a_whole_answer_and_back() -> None:
    usage = Usage(prompt_tokens=5, completion_tokens=7)
    entry = entries.from_stream(STREAM, "xai/grok-4.3", usage, cost=1234)
    assert entry is not None and entry.cost == 1234
    message = entry.body["choices"][0]["message"]
    assert message["content"] == "Hello" and message["reasoning_content"] == "thinking"
    assert message["tool_calls"][0]["function"] == {"name": "f", "arguments": '{"a":1}'}
    assert entry.body["choices"][0]["finish_reason"] == "tool_calls"
    assert entry.body["id"] == "chatcmpl-1" and entry.body["model"] == "xai/grok-4.3"
    assert entry.usage == usage

    again = entries.decode(entries.encode(entry))
    assert again is not None and again.body == entry.body

    replay = entries.stream_answer(entry, include_usage=True, cost_usd=0.5)
    assert replay.endswith(b"data: [DONE]\n\n")
    folded = entries.from_stream(replay, "xai/grok-4.3", None, cost=0)
    assert folded is not None
    assert folded.body["choices"] == entry.body["choices"]
    last = orjson.loads(replay.split(b"\n\n")[-3][len(b"data: ") :])
    assert last["usage"]["cost"] == 0.5 and last["usage"]["completion_tokens"] == 7


def test_a_cut_or_unfinished_stream_is_not_stored() -> None:
    cut = _sse({"index": 0, "delta": {"content": "Hel"}}, done=False)
    assert entries.from_stream(cut, "m", None, 1) is None
    unfinished = _sse({"index": 0, "delta": {"content": "Hel"}})  # [DONE] but no finish
    assert entries.from_stream(unfinished, "m", None, 1) is None


def test_whole_answers_drop_the_cost_and_hits_carry_their_own() -> None:
    body = {
        "id": "x",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2, "cost": 9.0},
    }
    entry = entries.from_whole(orjson.dumps(body), cost=900)
    assert entry is not None and "cost" not in entry.body["usage"]
    hit = orjson.loads(entries.whole_answer(entry, 0.25))
    assert hit["usage"]["cost"] == 0.25 and hit["choices"] == body["choices"]
    assert entries.from_whole(b"not json", 1) is None
    assert entries.decode(b'{"v":0}') is None and entries.decode(b"[") is None
