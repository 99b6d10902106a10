"""The stream tap on recorded OpenAI, xAI and DeepSeek streams, split at every awkward place."""

from __future__ import annotations

import random
import re

import orjson
import pytest
from tests.fixtures_path import fixture, sse_from_chunks_jsonl

from aigw.core.usage import Usage
from aigw.formats.openai_stream import OpenAIStreamTap

RECORDINGS = {
    "openai_usage": (
        fixture("openai/chat_stream_text_usage.sse").read_bytes(),
        "gpt-4o-mini-2024-07-18",
    ),
    "openai_tools": (
        fixture("openai/chat_stream_tool_calls.sse").read_bytes(),
        "gpt-4o-mini-2024-07-18",
    ),
    "deepseek": (
        fixture("openai_compatible/deepseek_stream_reasoning_content.sse").read_bytes(),
        "deepseek-reasoner",
    ),
    "xai": (sse_from_chunks_jsonl("xai/chat_stream_reasoning.chunks.jsonl"), "grok-3-mini"),
    "xai_tools": (sse_from_chunks_jsonl("xai/chat_stream_tool_call.chunks.jsonl"), "grok-3-mini"),
}


def _events(data: bytes) -> list[bytes]:
    return [e for e in re.split(rb"\r?\n\r?\n", data) if e.strip()]


def _payloads(data: bytes) -> list[dict[str, object] | str]:
    out: list[dict[str, object] | str] = []
    for event in _events(data):
        payload = event.split(b"data:", 1)[1].strip()
        out.append("[DONE]" if payload == b"[DONE]" else orjson.loads(payload))
    return out


def _run(data: bytes, tap: OpenAIStreamTap, seed: int) -> bytes:
    rng = random.Random(seed)
    out, i = [], 0
    while i < len(data):
        n = rng.choice([1, 2, 3, 7, 50, 400, 4096])
        out.append(tap.feed(data[i : i + n]))
        i += n
    out.append(tap.finish())
    return b"".join(out)


def _recorded_usage(data: bytes) -> dict[str, object]:
    usages = [p["usage"] for p in _payloads(data) if isinstance(p, dict) and p.get("usage")]
    assert usages, "recording has a usage object"
    return usages[-1]  # type: ignore[return-value]


@pytest.mark.parametrize("name", sorted(RECORDINGS))
@pytest.mark.parametrize("seed", range(5))
def test_client_who_asked_for_usage_gets_every_event_plus_cost(name: str, seed: int) -> None:
    data, upstream_model = RECORDINGS[name]
    tap = OpenAIStreamTap(
        upstream_model=upstream_model,
        gateway_model="gw/model",
        show_usage=True,
        usage_extras=lambda usage: {"cost": usage.total_tokens / 1000},
    )
    out = _run(data, tap, seed)
    sent, got = _payloads(data), _payloads(out)
    assert len(got) == len(sent)
    assert tap.done and tap.usage is not None
    for before, after in zip(sent, got, strict=True):
        if before == "[DONE]":
            assert after == "[DONE]"
            continue
        assert isinstance(before, dict) and isinstance(after, dict)
        assert after["model"] == "gw/model"
        if isinstance(before.get("usage"), dict):
            assert after["usage"]["cost"] == tap.usage.total_tokens / 1000  # type: ignore[index]
            after["usage"].pop("cost")  # type: ignore[union-attr]
        after["model"] = before["model"]
        assert after == before


@pytest.mark.parametrize("name", sorted(RECORDINGS))
def test_client_who_did_not_ask_sees_no_usage(name: str) -> None:
    data, upstream_model = RECORDINGS[name]
    tap = OpenAIStreamTap(upstream_model=upstream_model, gateway_model="gw/model", show_usage=False)
    out = _run(data, tap, 1)
    got = _payloads(out)
    assert got[-1] == "[DONE]"
    assert not any(isinstance(p, dict) and p.get("usage") for p in got)
    assert all(isinstance(p, str) or p["choices"] for p in got), "usage-only chunk hidden"
    assert tap.usage is not None  # ...but the gateway still read it


def test_usage_read_matches_recording_dialects() -> None:
    tap = OpenAIStreamTap(upstream_model="x", gateway_model="x", show_usage=False)
    _run(RECORDINGS["xai"][0], tap, 0)
    assert tap.usage == Usage(
        prompt_tokens=12, completion_tokens=342, cached_tokens=11, reasoning_tokens=340
    )
    tap = OpenAIStreamTap(upstream_model="x", gateway_model="x", show_usage=False)
    _run(RECORDINGS["deepseek"][0], tap, 0)
    assert tap.usage == Usage(prompt_tokens=6, completion_tokens=212, reasoning_tokens=198)
    assert _recorded_usage(RECORDINGS["deepseek"][0])["total_tokens"] == 218


def test_passthrough_bytes_are_untouched_when_model_is_the_same() -> None:
    data = fixture("openai/chat_stream_tool_calls.sse").read_bytes()
    tap = OpenAIStreamTap(
        upstream_model="gpt-4o-mini-2024-07-18",
        gateway_model="gpt-4o-mini-2024-07-18",
        show_usage=True,
    )
    assert _run(data, tap, 3) == data


def test_cut_stream_is_not_done_and_error_event_is_seen() -> None:
    data = fixture("openai/chat_stream_text_usage.sse").read_bytes()
    tap = OpenAIStreamTap(upstream_model="a", gateway_model="b", show_usage=True)
    tap.feed(data[: len(data) // 2])
    assert not tap.done
    tap = OpenAIStreamTap(upstream_model="a", gateway_model="b", show_usage=True)
    out = tap.feed(b'data: {"error":{"message":"boom","type":"server_error"}}\n\n')
    assert tap.error == {"message": "boom", "type": "server_error"}
    assert b"boom" in out


def test_content_mentioning_model_or_usage_is_not_rewritten() -> None:
    chunk = {
        "model": "up",
        "choices": [{"index": 0, "delta": {"content": 'say "model":"up" and "usage":{"x":1}'}}],
    }
    data = b"data: " + orjson.dumps(chunk) + b"\n\n"
    tap = OpenAIStreamTap(upstream_model="up", gateway_model="gw", show_usage=False)
    got = orjson.loads(tap.feed(data)[6:])
    assert got["model"] == "gw"
    assert got["choices"][0]["delta"]["content"] == 'say "model":"up" and "usage":{"x":1}'


def test_dated_snapshot_model_names_are_rewritten_too() -> None:
    data = fixture("openai/chat_stream_tool_calls.sse").read_bytes()
    tap = OpenAIStreamTap(upstream_model="gpt-4o-mini", gateway_model="gw/m", show_usage=True)
    got = _payloads(_run(data, tap, 2))
    assert all(p["model"] == "gw/m" for p in got if isinstance(p, dict))


@pytest.mark.parametrize("show_usage", [True, False])
def test_whole_stream_in_one_read_lf_or_crlf(show_usage: bool) -> None:
    """The usage event is found and rewritten inside one big read; the other events pass
    through byte for byte, whatever the framing."""
    lf = fixture("openai/chat_stream_text_usage.sse").read_bytes()
    for data in (lf, lf.replace(b"\n\n", b"\r\n\r\n")):
        tap = OpenAIStreamTap(
            upstream_model="gpt-4o-mini-2024-07-18",
            gateway_model="gpt-4o-mini-2024-07-18",
            show_usage=show_usage,
            usage_extras=lambda usage: {"cost": 0.5},
        )
        out = tap.feed(data) + tap.finish()
        assert tap.done and tap.usage is not None
        sent = [p for p in _payloads(data) if not (isinstance(p, dict) and p.get("usage"))]
        got = _payloads(out)
        if show_usage:
            assert got[-2]["usage"]["cost"] == 0.5  # type: ignore[index]
            got = got[:-2] + got[-1:]
        assert got == sent
        usage_free = [e for e in _events(data) if b'"usage":{' not in e]
        assert all(e in out for e in usage_free)


def test_a_malformed_event_stops_the_pass_through() -> None:
    tap = OpenAIStreamTap(upstream_model="m", gateway_model="m", show_usage=False)
    good = b'data: {"model":"m","choices":[{"delta":{"content":"hi"}}]}\n\n'
    out = tap.feed(good + b"data: {not json\n\n" + good)
    assert out == good and tap.malformed
    assert tap.feed(good) == b""


@pytest.mark.parametrize("name", sorted(RECORDINGS))
def test_whole_runs_and_single_events_give_the_same_bytes(name: str) -> None:
    """Reads of whole one-line events take a fast path (no per-event loop); it must send
    exactly what feeding the events one at a time sends."""
    data, upstream = RECORDINGS[name]
    events = [e + b"\n\n" for e in _events(data.replace(b"\r\n", b"\n"))]

    def run(reads: list[bytes]) -> tuple[bytes, Usage | None, int]:
        tap = OpenAIStreamTap(upstream_model=upstream, gateway_model="gw/m", show_usage=True)
        out = b"".join(tap.feed(r) for r in reads) + tap.finish()
        return out, tap.usage, tap.events

    one_by_one = run(events)
    assert run([b"".join(events)]) == one_by_one
    assert run([b"".join(events[:2]), b"".join(events[2:-3]), b"".join(events[-3:])]) == one_by_one


def test_a_malformed_event_inside_a_run_of_objects_is_caught() -> None:
    tap = OpenAIStreamTap(upstream_model="m", gateway_model="m", show_usage=False)
    good = b'data: {"model":"m","choices":[{"delta":{"content":"hi"}}]}\n\n'
    assert tap.feed(good) == good  # the first read: the tap learns the model's name
    out = tap.feed(good + b'data: {"choices":[\n\n' + b'data: {"x":1}}\n\n')
    assert out == good and tap.malformed


def test_a_stream_in_spaced_json_is_renamed_and_its_usage_read() -> None:
    """Some servers put a space after each colon: the model is renamed in that spelling
    (learnt from the first read) and the usage event is still found and hidden."""

    def event(obj: dict[str, object]) -> bytes:
        return b"data: " + orjson.dumps(obj).replace(b'":', b'": ') + b"\n\n"

    first = event({"model": "up", "choices": [{"delta": {"role": "assistant"}}]})
    more = event({"model": "up", "choices": [{"delta": {"content": "hi"}}]})
    usage = event({"model": "up", "choices": [], "usage": {"prompt_tokens": 3}})
    tap = OpenAIStreamTap(upstream_model="up", gateway_model="gw", show_usage=False)
    out = tap.feed(first) + tap.feed(more * 3) + tap.feed(usage + b"data: [DONE]\n\n")
    assert out.count(b'"model": "gw"') == 4 and b'"up"' not in out
    assert b"usage" not in out and tap.done
    assert tap.usage is not None and tap.usage.prompt_tokens == 3
    assert tap.events == 6
