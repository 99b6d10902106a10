"""The response cache end to end: real gateway, real simulator, the openai SDK over sockets."""

from __future__ import annotations

import secrets
import time
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import openai
import pytest
from tests.harness import http
from tests.server.conftest import Stack

from aigw.server.appkeys import BILLING, DATABASE
from aigw.store import request_log

USD = 100_000_000
MODEL = "xai/grok-4.3"


def _account(stack: Stack) -> tuple[str, str]:
    """A fresh account (own cache, own wallet): (key, account id)."""
    name = "cache-" + secrets.token_hex(4)
    status, account = stack.admin("POST", "/admin/accounts", {"name": name})
    assert status == 201, account
    status, _ = stack.admin("POST", f"/admin/accounts/{name}/topup", {"amount": "10"})
    assert status == 201
    status, key = stack.admin("POST", "/admin/keys", {"account": name})
    assert status == 201
    return str(key["key"]), str(account["id"])


def _client(stack: Stack, key: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=stack.base_url, api_key=key, max_retries=0)


def _ask(question: str, **extra: Any) -> dict[str, Any]:
    return {
        "model": MODEL,
        "messages": [{"role": "user", "content": question}],
        "temperature": 0,
        **extra,
    }


def _upstream_calls(stack: Stack) -> int:
    return stack.sim.stats["requests"]


def _cost(completion: Any) -> int:
    return round(completion.usage.model_extra["cost"] * USD)


def _settle() -> None:
    """Answers are stored in the background, right after they are sent."""
    time.sleep(0.05)


def test_miss_then_hit_with_identical_content(stack: Stack) -> None:
    key, _ = _account(stack)
    body = _ask("What is an AI gateway? " + secrets.token_hex(4))
    with _client(stack, key) as client:
        first = client.chat.completions.with_raw_response.create(**body)
        assert first.headers["x-cache"] == "miss"
        calls = _upstream_calls(stack)
        _settle()
        second = client.chat.completions.with_raw_response.create(**body)
    assert second.headers["x-cache"] == "hit"
    assert _upstream_calls(stack) == calls, "a hit never reaches the upstream"
    a, b = first.parse(), second.parse()
    assert a.choices[0].message.content == b.choices[0].message.content
    assert a.choices[0].finish_reason == b.choices[0].finish_reason
    assert a.model == b.model == MODEL
    assert a.usage is not None and b.usage is not None
    assert b.usage.completion_tokens == a.usage.completion_tokens


def test_stream_hit_from_a_whole_answer_and_whole_hit_from_a_stream(stack: Stack) -> None:
    key, _ = _account(stack)
    whole_first = _ask("Name three rivers. " + secrets.token_hex(4))
    stream_first = _ask("Name three mountains. " + secrets.token_hex(4), seed=7)
    with _client(stack, key) as client:
        text = client.chat.completions.create(**whole_first).choices[0].message.content
        _settle()
        calls = _upstream_calls(stack)
        raw = client.chat.completions.with_raw_response.create(
            **whole_first, stream=True, stream_options={"include_usage": True}
        )
        assert raw.headers["x-cache"] == "hit"
        assert raw.headers["content-type"].startswith("text/event-stream")
        chunks = list(raw.parse())
        assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == text
        assert chunks[-1].usage is not None and chunks[-1].usage.model_extra["cost"] > 0
        assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
        assert _upstream_calls(stack) == calls

        streamed = client.chat.completions.create(**stream_first, stream=True)
        streamed_text = "".join(c.choices[0].delta.content or "" for c in streamed if c.choices)
        _settle()
        calls = _upstream_calls(stack)
        hit = client.chat.completions.with_raw_response.create(**stream_first)
        assert hit.headers["x-cache"] == "hit"
        assert hit.parse().choices[0].message.content == streamed_text
        # Without include_usage the replayed stream has no usage chunk, like a live one.
        replay = list(client.chat.completions.create(**stream_first, stream=True))
        assert all(c.usage is None for c in replay)
        assert "".join(c.choices[0].delta.content or "" for c in replay if c.choices) == (
            streamed_text
        )
        assert _upstream_calls(stack) == calls


def test_auto_caches_only_deterministic_requests(stack: Stack) -> None:
    key, _ = _account(stack)
    body = {"model": MODEL, "messages": [{"role": "user", "content": secrets.token_hex(8)}]}
    with _client(stack, key) as client:
        for _ in range(2):
            raw = client.chat.completions.with_raw_response.create(**body, temperature=0.7)
            assert raw.headers["x-cache"] == "bypass"
        calls = _upstream_calls(stack)
        raw = client.chat.completions.with_raw_response.create(**body, temperature=0.7)
        assert _upstream_calls(stack) == calls + 1


def test_force_caches_and_skip_neither_reads_nor_writes(stack: Stack) -> None:
    key, _ = _account(stack)
    body = {"model": MODEL, "messages": [{"role": "user", "content": secrets.token_hex(8)}]}
    force = {"x-cache": "force"}
    skip = {"x-cache": "skip"}
    with _client(stack, key) as client:
        # skip first: nothing is written, so force still misses afterwards.
        raw = client.chat.completions.with_raw_response.create(**body, extra_headers=skip)
        assert raw.headers["x-cache"] == "bypass"
        raw = client.chat.completions.with_raw_response.create(**body, extra_headers=force)
        assert raw.headers["x-cache"] == "miss"
        _settle()
        raw = client.chat.completions.with_raw_response.create(**body, extra_headers=force)
        assert raw.headers["x-cache"] == "hit"
        calls = _upstream_calls(stack)
        raw = client.chat.completions.with_raw_response.create(**body, extra_headers=skip)
        assert raw.headers["x-cache"] == "bypass"
        assert _upstream_calls(stack) == calls + 1


def test_parameters_that_change_the_answer_change_the_key(stack: Stack) -> None:
    key, _ = _account(stack)
    body = _ask("Tell me a fact. " + secrets.token_hex(4))
    with _client(stack, key) as client:
        client.chat.completions.create(**body)
        _settle()
        # Delivery-only fields and spellings keep the key: user, 0.0 for 0, a model alias.
        same = client.chat.completions.with_raw_response.create(
            **{**body, "model": "grok-4.3", "temperature": 0.0}, user="someone"
        )
        assert same.headers["x-cache"] == "hit"
        for change in ({"max_tokens": 5}, {"top_p": 0.5}, {"stop": ["x"]}, {"seed": 1}):
            raw = client.chat.completions.with_raw_response.create(**{**body, **change})
            assert raw.headers["x-cache"] == "miss", change


def test_semantic_hit_on_a_paraphrase_and_miss_on_another_question(stack: Stack) -> None:
    key, _ = _account(stack)
    semantic = {"x-aig-cache": "semantic"}
    with _client(stack, key) as client:
        first = client.chat.completions.with_raw_response.create(
            **_ask("What is the capital of France?"), extra_headers=semantic
        )
        assert first.headers["x-cache"] == "miss"
        _settle()
        calls = _upstream_calls(stack)
        para = client.chat.completions.with_raw_response.create(
            **_ask("What's the capital of France?"), extra_headers=semantic
        )
        assert para.headers["x-cache"] == "semantic-hit"
        assert float(para.headers["x-aig-cache-similarity"]) >= 0.95
        assert para.parse().choices[0].message.content == first.parse().choices[0].message.content
        assert _upstream_calls(stack) == calls
        other = client.chat.completions.with_raw_response.create(
            **_ask("How do I bake sourdough bread?"), extra_headers=semantic
        )
        assert other.headers["x-cache"] == "miss"
        # A looser threshold admits a broader paraphrase; without the opt-in, exact only.
        loose = client.chat.completions.with_raw_response.create(
            **_ask("Which city is the capital of France?"),
            extra_headers={**semantic, "x-aig-cache-similarity": "0.85"},
        )
        assert loose.headers["x-cache"] == "semantic-hit"
        exact_only = client.chat.completions.with_raw_response.create(
            **_ask("What's the capital of France?")
        )
        assert exact_only.headers["x-cache"] == "miss"


def test_hit_is_billed_at_ten_percent_and_logged_as_cache(stack: Stack) -> None:
    key, account_id = _account(stack)
    billing = stack.gw.app[BILLING]
    body = _ask("Bill me. " + secrets.token_hex(4))
    with _client(stack, key) as client:
        miss = client.chat.completions.with_raw_response.create(**body)
        _settle()
        before = billing.wallets.view(account_id)
        hit = client.chat.completions.with_raw_response.create(**body)
    full = _cost(miss.parse())
    expected = int((Decimal(full) / 10).to_integral_value(ROUND_HALF_UP))
    assert full > 0 and expected > 0
    assert _cost(hit.parse()) == expected
    assert Decimal(hit.headers["x-cost-cents"]) * 1_000_000 == expected
    available = before[0] - before[1]  # committed, less what is settled but not in the ledger
    committed, uncommitted, reserved = billing.wallets.view(account_id)
    assert committed - uncommitted == available - expected and reserved == 0
    stack.gw.flush_log()
    db = stack.gw.app[DATABASE]
    entry = stack.gw.call(request_log.get(db, hit.headers["x-request-id"]))
    assert entry is not None
    assert entry.provider == "cache" and entry.model == MODEL and entry.status == 200
    assert entry.cost_micro_cents == entry.charged_micro_cents == expected
    miss_entry = stack.gw.call(request_log.get(db, miss.headers["x-request-id"]))
    assert miss_entry is not None and miss_entry.provider == "xai"
    # Once the ledger has every charge (flush_log drains them), nothing is left pending and
    # the wallet moved by exactly the hit's price.
    assert billing.wallets.view(account_id) == (available - expected, 0, 0)


def test_hit_with_an_empty_wallet_is_402(stack: Stack) -> None:
    key, account_id = _account(stack)
    body = _ask("Broke. " + secrets.token_hex(4))
    billing = stack.gw.app[BILLING]
    with _client(stack, key) as client:
        client.chat.completions.create(**body)
        _settle()
        committed, uncommitted, _ = billing.wallets.view(account_id)
        balance = committed - uncommitted  # what is left once the miss's charge is in
        status, drained = stack.admin(
            "POST",
            f"/admin/accounts/{account_id}/adjustments",
            {"amount": str(Decimal(-balance) / USD), "note": "drain"},
        )
        assert status == 201 and drained["balance_usd"] == 0, drained
        calls = _upstream_calls(stack)
        with pytest.raises(openai.APIStatusError) as info:
            client.chat.completions.create(**body)
    assert info.value.status_code == 402
    assert _upstream_calls(stack) == calls


def test_delete_cache_clears_only_the_callers_account(stack: Stack) -> None:
    key_a, _ = _account(stack)
    key_b, _ = _account(stack)
    body = _ask("Shared question " + secrets.token_hex(4))
    with _client(stack, key_a) as a, _client(stack, key_b) as b:
        a.chat.completions.create(**body)
        _settle()
        # Isolation: account B does not see A's entry.
        assert b.chat.completions.with_raw_response.create(**body).headers["x-cache"] == "miss"
        _settle()
        assert a.chat.completions.with_raw_response.create(**body).headers["x-cache"] == "hit"
        status, _, raw = http(
            "DELETE", stack.base_url + "/cache", headers={"Authorization": f"Bearer {key_a}"}
        )
        assert status == 200 and b'"deleted":1' in raw
        assert a.chat.completions.with_raw_response.create(**body).headers["x-cache"] == "miss"
        assert b.chat.completions.with_raw_response.create(**body).headers["x-cache"] == "hit"
    status, _, _ = http("DELETE", stack.base_url + "/cache")
    assert status == 401


@pytest.mark.parametrize(
    ("header", "value"),
    [
        ("x-cache", "sometimes"),
        ("x-aig-cache-ttl", "0"),
        ("x-aig-cache-ttl", "soon"),
        ("x-aig-cache", "fuzzy"),
        ("x-aig-cache-similarity", "1.5"),
    ],
)
def test_bad_cache_headers_are_400_naming_the_header(stack: Stack, header: str, value: str) -> None:
    with stack.client() as client, pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(**_ask("hi"), extra_headers={header: value})
    assert info.value.response.json()["error"]["param"] == header


def test_ttl_header_expires_the_entry(stack: Stack) -> None:
    key, _ = _account(stack)
    body = _ask("Short-lived " + secrets.token_hex(4))
    ttl = {"x-aig-cache-ttl": "1"}
    with _client(stack, key) as client:
        client.chat.completions.create(**body, extra_headers=ttl)
        _settle()
        assert client.chat.completions.with_raw_response.create(**body).headers["x-cache"] == "hit"
        time.sleep(1.1)
        assert client.chat.completions.with_raw_response.create(**body).headers["x-cache"] == "miss"


def test_translated_answers_are_cached_too(stack: Stack) -> None:
    """An Anthropic upstream behind /v1/chat/completions: streamed miss, then hits."""
    key, _ = _account(stack)
    body = {**_ask("Translate me. " + secrets.token_hex(4)), "model": "anthropic/claude-haiku-4-5"}
    with _client(stack, key) as client:
        streamed = client.chat.completions.create(**body, stream=True)
        text = "".join(c.choices[0].delta.content or "" for c in streamed if c.choices)
        assert text
        _settle()
        calls = _upstream_calls(stack)
        whole = client.chat.completions.with_raw_response.create(**body)
        assert whole.headers["x-cache"] == "hit"
        assert whole.parse().choices[0].message.content == text
        again = list(client.chat.completions.create(**body, stream=True))
        assert "".join(c.choices[0].delta.content or "" for c in again if c.choices) == text
    assert _upstream_calls(stack) == calls


def test_a_cut_stream_is_not_cached(stack: Stack) -> None:
    key, _ = _account(stack)
    body = _ask("Cut me off. " + secrets.token_hex(4))
    stack.sim.queue_fault("cut", count=1, after_chunks=3)
    with _client(stack, key) as client:
        stream = client.chat.completions.create(**body, stream=True)
        with pytest.raises(openai.APIError):
            for _ in stream:
                pass
        _settle()
        raw = client.chat.completions.with_raw_response.create(**body)
        assert raw.headers["x-cache"] == "miss", "the broken answer was not stored"
        _settle()
        assert client.chat.completions.with_raw_response.create(**body).headers["x-cache"] == "hit"
