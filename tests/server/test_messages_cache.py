"""The response cache on ``/v1/messages`` with the official anthropic SDK: a Claude model
passed through and a translated one; hits in Anthropic's shape (whole and streamed), billed
at the hit price, per account, never mixed with chat's entries."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import anthropic
import openai
import pytest
from tests.server.conftest import Stack

from aigw.server.appkeys import DATABASE
from aigw.store import request_log

CLAUDE = "claude-haiku-4-5"
MODELS = [CLAUDE, "xai/grok-4.3"]


def _account(stack: Stack) -> str:
    name = "mcache-" + secrets.token_hex(4)
    status, account = stack.admin("POST", "/admin/accounts", {"name": name})
    assert status == 201, account
    status, _ = stack.admin("POST", f"/admin/accounts/{name}/topup", {"amount": "10"})
    assert status == 201
    status, key = stack.admin("POST", "/admin/keys", {"account": name})
    assert status == 201
    return str(key["key"])


@pytest.fixture
def client(stack: Stack) -> Iterator[anthropic.Anthropic]:
    with anthropic.Anthropic(base_url=stack.gw.url, api_key=_account(stack), max_retries=0) as c:
        yield c


def _ask(model: str, temperature: float = 0) -> dict[str, Any]:
    """A request ``auto`` caches: temperature 0 (the anthropic 2.x SDK has no ``temperature``
    argument any more; the API field still exists, so it goes as an extra body field)."""
    question = "Tell me about pelicans. " + secrets.token_hex(4)
    return {
        "model": model,
        "max_tokens": 200,
        "system": "Answer briefly.",
        "messages": [{"role": "user", "content": question}],
        "extra_body": {"temperature": temperature},
    }


def _upstream_calls(stack: Stack) -> int:
    return stack.sim.stats["requests"]


def _settle() -> None:
    time.sleep(0.05)  # answers are stored in the background


def _text(message: Any) -> str:
    return "".join(b.text for b in message.content if b.type == "text")


@pytest.mark.parametrize("model", MODELS)
def test_miss_then_hit_billed_at_the_hit_price(
    client: anthropic.Anthropic, stack: Stack, model: str
) -> None:
    body = _ask(model)
    first = client.messages.with_raw_response.create(**body)
    assert first.headers["x-cache"] == "miss"
    _settle()
    calls = _upstream_calls(stack)
    second = client.messages.with_raw_response.create(**body)
    assert second.headers["x-cache"] == "hit"
    assert _upstream_calls(stack) == calls, "a hit never reaches the upstream"
    a, b = first.parse(), second.parse()
    assert b.type == "message" and _text(b) == _text(a) and b.stop_reason == a.stop_reason
    assert b.model == a.model and b.usage.output_tokens == a.usage.output_tokens
    full = Decimal(first.headers["x-cost-cents"])
    hit = Decimal(second.headers["x-cost-cents"])
    assert full > 0
    expected = (full * 1_000_000 / 10).to_integral_value(ROUND_HALF_UP)
    assert hit * 1_000_000 == expected
    stack.gw.flush_log()
    entry = stack.gw.call(request_log.get(stack.gw.app[DATABASE], second.headers["x-request-id"]))
    assert entry is not None and entry.provider == "cache" and entry.status == 200
    assert entry.cost_micro_cents == expected


@pytest.mark.parametrize("model", MODELS)
def test_stream_hit_with_the_sdk_helper(
    client: anthropic.Anthropic, stack: Stack, model: str
) -> None:
    streamed_first = _ask(model)
    with client.messages.stream(**streamed_first) as stream:  # a streamed miss is stored
        live_text = "".join(stream.text_stream)
        live = stream.get_final_message()
    _settle()
    calls = _upstream_calls(stack)
    whole = client.messages.with_raw_response.create(**streamed_first)
    assert whole.headers["x-cache"] == "hit"
    assert _text(whole.parse()) == live_text
    with client.messages.stream(**streamed_first) as stream:
        replay_text = "".join(stream.text_stream)
        replay = stream.get_final_message()
    assert replay_text == live_text and replay.stop_reason == live.stop_reason
    assert replay.usage.output_tokens == live.usage.output_tokens
    assert _upstream_calls(stack) == calls
    # A whole answer replays as a stream too.
    whole_first = _ask(model)
    message = client.messages.create(**whole_first)
    _settle()
    raw = client.messages.with_raw_response.create(**whole_first, stream=True)
    assert raw.headers["x-cache"] == "hit"
    assert raw.headers["content-type"].startswith("text/event-stream")
    kinds = [event.type for event in raw.parse()]
    assert kinds[0] == "message_start" and kinds[-1] == "message_stop"
    with client.messages.stream(**whole_first) as stream:
        assert "".join(stream.text_stream) == _text(message)


def test_skip_and_auto(client: anthropic.Anthropic, stack: Stack) -> None:
    body = _ask(CLAUDE)
    skipped = client.messages.with_raw_response.create(**body, extra_headers={"x-cache": "skip"})
    assert skipped.headers["x-cache"] == "bypass"
    miss = client.messages.with_raw_response.create(**body)
    assert miss.headers["x-cache"] == "miss", "skip neither reads nor writes"
    _settle()
    skipped = client.messages.with_raw_response.create(**body, extra_headers={"x-cache": "skip"})
    assert skipped.headers["x-cache"] == "bypass"
    warm = {**body, "extra_body": {"temperature": 0.7}}  # auto: only temperature 0 is cached
    assert client.messages.with_raw_response.create(**warm).headers["x-cache"] == "bypass"
    forced = client.messages.with_raw_response.create(**warm, extra_headers={"x-cache": "force"})
    assert forced.headers["x-cache"] == "miss"
    # Parameters that change the answer change the key.
    shorter = client.messages.with_raw_response.create(**{**body, "max_tokens": 50})
    assert shorter.headers["x-cache"] == "miss"


def test_accounts_do_not_share_and_chat_is_keyed_apart(stack: Stack) -> None:
    body = _ask("xai/grok-4.3")
    keys = [_account(stack), _account(stack)]
    first, second = (
        anthropic.Anthropic(base_url=stack.gw.url, api_key=k, max_retries=0) for k in keys
    )
    with first, second:
        assert first.messages.with_raw_response.create(**body).headers["x-cache"] == "miss"
        _settle()
        assert first.messages.with_raw_response.create(**body).headers["x-cache"] == "hit"
        assert second.messages.with_raw_response.create(**body).headers["x-cache"] == "miss"
    # The same conversation on /v1/chat/completions is another entry.
    chat = openai.OpenAI(base_url=stack.base_url, api_key=keys[0], max_retries=0)
    with chat:
        raw = chat.chat.completions.with_raw_response.create(
            model=body["model"],
            max_tokens=body["max_tokens"],
            temperature=0,
            messages=[{"role": "system", "content": body["system"]}, *body["messages"]],
        )
    assert raw.headers["x-cache"] == "miss"


def test_semantic_hit_on_a_paraphrase(client: anthropic.Anthropic, stack: Stack) -> None:
    semantic = {"x-aig-cache": "semantic"}
    system = "Answer briefly. " + secrets.token_hex(4)

    def ask(question: str) -> dict[str, Any]:
        return {
            "model": "xai/grok-4.3",
            "max_tokens": 100,
            "system": system,
            "messages": [{"role": "user", "content": question}],
            "extra_body": {"temperature": 0},
            "extra_headers": semantic,
        }

    first = client.messages.with_raw_response.create(**ask("What is the capital of France?"))
    assert first.headers["x-cache"] == "miss"
    _settle()
    para = client.messages.with_raw_response.create(**ask("What's the capital of France?"))
    assert para.headers["x-cache"] == "semantic-hit"
    assert float(para.headers["x-aig-cache-similarity"]) >= 0.95
    assert _text(para.parse()) == _text(first.parse())
    other = client.messages.with_raw_response.create(**ask("How do I bake sourdough bread?"))
    assert other.headers["x-cache"] == "miss"
