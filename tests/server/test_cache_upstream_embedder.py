"""The semantic cache with a catalog (upstream) embedding model: the simulator's
``openai/text-embedding-3-small`` embeds each semantic lookup, billed to the requesting account
and request-logged like any embeddings call."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from typing import Any

import openai
import pytest
from tests.server.conftest import Stack, start_stack

from aigw.billing import ledger
from aigw.billing.pricing import cost_micro_cents
from aigw.core.usage import Usage
from aigw.server.appkeys import CATALOG, DATABASE
from aigw.server.cache import CACHE
from aigw.simulator import SimulatorThread
from aigw.simulator import media_content as mc
from aigw.store import request_log

EMBEDDER = "openai/text-embedding-3-small"
MODEL = "xai/grok-4.3"
SEMANTIC = {"x-aig-cache": "semantic"}


@pytest.fixture(scope="module")
def emb_stack(
    sim_server: SimulatorThread, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    path = tmp_path_factory.mktemp("cache-emb") / "aigw.db"
    yield from start_stack(
        f"sqlite:///{path}", sim_server, cache_embedding_model=EMBEDDER, log_flush_seconds=0.05
    )


def _account(stack: Stack) -> tuple[openai.OpenAI, str]:
    name = "emb-" + secrets.token_hex(4)
    status, account = stack.admin("POST", "/admin/accounts", {"name": name})
    assert status == 201, account
    status, _ = stack.admin("POST", f"/admin/accounts/{name}/topup", {"amount": "10"})
    assert status == 201
    status, key = stack.admin("POST", "/admin/keys", {"account": name})
    assert status == 201
    client = openai.OpenAI(base_url=stack.base_url, api_key=key["key"], max_retries=0)
    return client, str(account["id"])


def _ask(system: str, *users: Any) -> dict[str, Any]:
    messages = [{"role": "system", "content": system}]
    messages += [{"role": "user", "content": u} for u in users]
    return {"model": MODEL, "messages": messages, "temperature": 0}


def _embedding_calls(stack: Stack) -> list[dict[str, Any]]:
    return [r for r in stack.sim.requests if r["path"].endswith("/embeddings")]


def test_the_cache_uses_the_catalog_model(emb_stack: Stack) -> None:
    embedder = emb_stack.gw.app[CACHE].embedder
    assert embedder is not None and embedder.name == EMBEDDER


def test_same_question_other_framing_hits_other_scope_misses(emb_stack: Stack) -> None:
    stack = emb_stack
    client, _ = _account(stack)
    system, tail = "You are terse. " + secrets.token_hex(4), secrets.token_hex(6)
    with client:
        first = client.chat.completions.with_raw_response.create(
            **_ask(system, f"line one\n{tail}"), extra_headers=SEMANTIC
        )
        assert first.headers["x-cache"] == "miss"
        time.sleep(0.05)  # stored in the background
        # The same trailing user text in two messages: another exact key, the same meaning.
        split = client.chat.completions.with_raw_response.create(
            **_ask(system, "line one", tail), extra_headers=SEMANTIC
        )
        assert split.headers["x-cache"] == "semantic-hit"
        assert float(split.headers["x-aig-cache-similarity"]) == pytest.approx(1.0, abs=1e-4)
        answer = first.parse().choices[0].message.content
        assert split.parse().choices[0].message.content == answer
        # Another system prompt is another scope: the same text misses.
        other = client.chat.completions.with_raw_response.create(
            **_ask(system + " Be formal.", f"line one\n{tail}"), extra_headers=SEMANTIC
        )
        assert other.headers["x-cache"] == "miss"
        # The simulator's vectors come from a hash of the text: a paraphrase is not near.
        para = client.chat.completions.with_raw_response.create(
            **_ask(system, f"first line\n{tail}"), extra_headers=SEMANTIC
        )
        assert para.headers["x-cache"] == "miss"


def test_the_embedding_call_is_billed_to_the_caller_and_logged(emb_stack: Stack) -> None:
    stack = emb_stack
    stack.sim.reset()
    client, account_id = _account(stack)
    text = "What is an AI gateway? " + secrets.token_hex(4)
    with client:
        raw = client.chat.completions.with_raw_response.create(
            **_ask("sys", text), extra_headers={**SEMANTIC, "x-aig-tag": "search"}
        )
    assert raw.headers["x-cache"] == "miss"
    calls = _embedding_calls(stack)
    assert len(calls) == 1 and calls[0]["body"]["input"] == [text]
    stack.gw.flush_log()
    db = stack.gw.app[DATABASE]
    rows = stack.gw.call(request_log.recent(db, 10, account_id=account_id))
    emb = [r for r in rows if r.model == EMBEDDER]
    assert len(emb) == 1 and emb[0].id.startswith("emb_")
    assert emb[0].provider == "openai" and emb[0].tag == "search" and emb[0].status == 200
    model = stack.gw.app[CATALOG].get(EMBEDDER)
    assert model is not None
    expected = cost_micro_cents(model.price, Usage(mc.tokens_of(text)))
    assert emb[0].cost_micro_cents == expected > 0
    # Two charges: the embedding and the chat call (the ledger commits in the background).
    deadline = time.monotonic() + 5
    while True:
        charges = stack.gw.call(ledger.entries_for(db, account_id, ["charge"]))
        if len(charges) >= 2 or time.monotonic() > deadline:
            break
        time.sleep(0.02)
    assert sorted(-c.amount_micro_cents for c in charges) == sorted(
        r.charged_micro_cents for r in rows
    )
    assert expected in [-c.amount_micro_cents for c in charges]


def test_without_the_opt_in_no_embedding_is_made(emb_stack: Stack) -> None:
    stack = emb_stack
    stack.sim.reset()
    client, _ = _account(stack)
    with client:
        raw = client.chat.completions.with_raw_response.create(**_ask("sys", secrets.token_hex(5)))
    assert raw.headers["x-cache"] == "miss"
    assert _embedding_calls(stack) == []
