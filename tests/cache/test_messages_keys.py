"""Keys of /v1/messages requests: what changes the answer is keyed, delivery is not."""

from __future__ import annotations

from typing import Any

from aigw.cache.keys import CacheAsk
from aigw.cache.keys import exact_key as chat_key
from aigw.cache.messages_keys import exact_key, plan, semantic_parts
from aigw.cache.service import ResponseCache
from aigw.cache.store import MemoryCache

MODEL = "anthropic/claude-haiku-4-5"


def _body(**extra: Any) -> dict[str, Any]:
    return {
        "model": "claude-haiku-4-5",
        "max_tokens": 100,
        "system": "Be brief.",
        "messages": [{"role": "user", "content": "Hi there"}],
        "temperature": 0,
        **extra,
    }


def test_delivery_fields_are_not_keyed_and_one_text_block_is_its_text() -> None:
    base = exact_key("acct", MODEL, _body())
    assert exact_key("acct", MODEL, _body(stream=True, metadata={"user_id": "u1"})) == base
    blocks = _body(
        system=[{"type": "text", "text": "Be brief."}],
        messages=[{"role": "user", "content": [{"type": "text", "text": "Hi there"}]}],
    )
    assert exact_key("acct", MODEL, blocks) == base


def test_what_changes_the_answer_changes_the_key() -> None:
    base = exact_key("acct", MODEL, _body())
    assert exact_key("other", MODEL, _body()) != base
    assert exact_key("acct", "xai/grok-4.3", _body()) != base
    assert exact_key("acct", MODEL, _body(max_tokens=50)) != base
    assert exact_key("acct", MODEL, _body(temperature=1)) != base
    assert exact_key("acct", MODEL, _body(system="Be long.")) != base
    assert exact_key("acct", MODEL, _body(stop_sequences=["x"])) != base


def test_never_the_chat_key_of_the_same_conversation() -> None:
    chat = {
        "model": MODEL,
        "max_tokens": 100,
        "temperature": 0,
        "messages": [{"role": "system", "content": "Be brief."}, *_body()["messages"]],
    }
    assert exact_key("acct", MODEL, _body()) != chat_key("acct", MODEL, chat)


def test_semantic_scope_holds_all_but_the_trailing_user_text() -> None:
    scope, text = semantic_parts("acct", MODEL, _body())
    assert text == "Hi there"
    other_scope, _ = semantic_parts("acct", MODEL, _body(system="Be long."))
    assert other_scope != scope
    same_scope, other_text = semantic_parts(
        "acct", MODEL, _body(messages=[{"role": "user", "content": "Hello"}])
    )
    assert same_scope == scope and other_text == "Hello"


def test_auto_caches_temperature_zero_only_and_skip_nothing() -> None:
    cache = ResponseCache(MemoryCache(1 << 20))
    auto = CacheAsk("auto", 60, False, 0.9)
    assert plan(cache, auto, "acct", MODEL, _body()) is not None
    assert plan(cache, auto, "acct", MODEL, _body(temperature=0.5)) is None
    unset = _body()
    del unset["temperature"]
    assert plan(cache, auto, "acct", MODEL, unset) is None
    assert plan(cache, CacheAsk("force", 60, False, 0.9), "acct", MODEL, unset) is not None
    assert plan(cache, CacheAsk("skip", 60, False, 0.9), "acct", MODEL, _body()) is None
