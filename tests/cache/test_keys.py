"""Key normalisation: equal requests share a key, answer-changing ones never do."""

from __future__ import annotations

from typing import Any

import pytest

from aigw.cache.keys import (
    cacheable,
    deterministic,
    exact_key,
    read_ask,
    semantic_parts,
)
from aigw.errors import InvalidRequest

BASE: dict[str, Any] = {
    "model": "xai/grok-4.3",
    "messages": [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "What is a gateway?"},
    ],
    "temperature": 0,
}


def key(**changes: Any) -> str:
    return exact_key("acct_1", "xai/grok-4.3", {**BASE, **changes})


def test_delivery_fields_do_not_change_the_key() -> None:
    assert key() == key(stream=True, stream_options={"include_usage": True})
    assert key() == key(user="u-1", metadata={"a": "b"}, store=True)
    assert key() == key(routing={"policy": "lowest_cost"}, provider_key_id="pk_1")
    assert key() == key(temperature=0.0)
    assert key(max_completion_tokens=10) == key(max_tokens=10)
    assert key(stop="x") == key(stop=["x"])


def test_key_ignores_dict_order_and_single_text_parts() -> None:
    parts = [
        {"role": "system", "content": [{"type": "text", "text": "Be brief."}]},
        {"content": "What is a gateway?", "role": "user"},
    ]
    assert key() == key(messages=parts)
    reordered = {k: BASE[k] for k in reversed(list(BASE))}
    assert exact_key("acct_1", "xai/grok-4.3", reordered) == key()


@pytest.mark.parametrize(
    "change",
    [
        {"temperature": 0.5},
        {"top_p": 0.9},
        {"seed": 3},
        {"max_tokens": 5},
        {"stop": ["\n"]},
        {"tools": [{"type": "function", "function": {"name": "f"}}]},
        {"response_format": {"type": "json_object"}},
        {"reasoning_effort": "high"},
        {"some_future_parameter": 1},  # unknown: kept, so it can only cause a miss
        {"messages": [{"role": "user", "content": "What is a gateway!"}]},
    ],
)
def test_answer_changing_fields_change_the_key(change: dict[str, Any]) -> None:
    assert key(**change) != key()


def test_account_and_model_are_part_of_the_key() -> None:
    assert exact_key("acct_2", "xai/grok-4.3", BASE) != key()
    assert exact_key("acct_1", "openai/gpt-5", BASE) != key()


def test_semantic_scope_is_everything_but_the_trailing_user_turns() -> None:
    scope, text = semantic_parts("acct_1", "m", BASE)
    other_q = {**BASE, "messages": [BASE["messages"][0], {"role": "user", "content": "Hi?"}]}
    scope2, text2 = semantic_parts("acct_1", "m", other_q)
    assert scope == scope2 and text == "What is a gateway?" and text2 == "Hi?"
    other_system = {**BASE, "messages": [{"role": "system", "content": "Be long."}]}
    assert semantic_parts("acct_1", "m", other_system)[0] != scope
    assert semantic_parts("acct_1", "m", {**BASE, "temperature": 1})[0] != scope
    two = {**BASE, "messages": [*BASE["messages"], {"role": "user", "content": "And why?"}]}
    assert semantic_parts("acct_1", "m", two) == (scope, "What is a gateway?\nAnd why?")


def test_auto_caches_deterministic_requests_only() -> None:
    assert deterministic({"temperature": 0}) and deterministic({"seed": 4})
    assert not deterministic({}) and not deterministic({"temperature": 0.2})
    assert not deterministic({"temperature": 0, "n": 2})
    assert not deterministic({"temperature": 0, "logprobs": True})
    assert cacheable({"temperature": 1}) and not cacheable({"n": 3})


def test_headers_parse_with_defaults_and_name_bad_values() -> None:
    ask = read_ask({}, default_mode="auto", default_ttl=60, default_similarity=0.9)
    assert (ask.mode, ask.ttl, ask.semantic, ask.similarity) == ("auto", 60, False, 0.9)
    ask = read_ask(
        {
            "x-cache": "FORCE",
            "x-aig-cache-ttl": "5",
            "x-aig-cache": "semantic",
            "x-aig-cache-similarity": "0.8",
        },
        default_mode="auto",
        default_ttl=60,
        default_similarity=0.9,
    )
    assert (ask.mode, ask.ttl, ask.semantic, ask.similarity) == ("force", 5, True, 0.8)
    for header, value in [
        ("x-cache", "maybe"),
        ("x-aig-cache-ttl", "-1"),
        ("x-aig-cache-ttl", "99999999999"),
        ("x-aig-cache", "yes"),
        ("x-aig-cache-similarity", "0"),
        ("x-aig-cache-similarity", "nan"),
    ]:
        with pytest.raises(InvalidRequest) as info:
            read_ask({header: value}, default_mode="auto", default_ttl=1, default_similarity=1)
        assert info.value.param == header
