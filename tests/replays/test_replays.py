"""Replays over real sockets: a logged request re-run on another model (costs against the
ledger, outputs and similarity), account scoping, the opt-out, retention, and the
aigateway-py SDK's ``replays`` methods against the gateway unchanged."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from aigateway import AIgateway, AIgatewayError
from sqlalchemy import select

from aigw.replays.lifecycle import prune_once
from aigw.server.appkeys import DATABASE, SETTINGS
from aigw.store.tables import ledger_entries, request_log
from tests.harness import http
from tests.replays.kit import ALPHA, BETA, script
from tests.server.conftest import Stack
from tests.server.spendkit import new_account

DAY_MS = 86_400_000


@pytest.fixture
def sdk(stack: Stack) -> Iterator[AIgateway]:
    with AIgateway(api_key=stack.key, base_url=stack.gw.url, timeout=30) as client:
        yield client


def chat(stack: Stack, prompt: str, model: str = ALPHA, **extra: Any) -> tuple[str, str]:
    """(gateway request id, answer text) of one chat completion."""
    raw = stack.client().chat.completions.with_raw_response.create(
        model=model, messages=[{"role": "user", "content": prompt}], max_tokens=60, **extra
    )
    rid = raw.headers["x-request-id"]
    answer = raw.parse()
    if extra.get("stream"):
        text = "".join(c.choices[0].delta.content or "" for c in answer if c.choices)
    else:
        text = answer.choices[0].message.content or ""
    stack.gw.flush_log()
    return rid, text


def ledger_charge(stack: Stack, request_id: str) -> int:
    stack.gw.drain_charges()  # (journaled charges reach the ledger moments later)

    async def go() -> int:
        db = stack.gw.app[DATABASE]
        async with db.engine.connect() as conn:
            rows = await conn.execute(
                select(ledger_entries.c.amount_micro_cents).where(
                    ledger_entries.c.request_id == request_id
                )
            )
            return -sum(rows.scalars())

    return stack.gw.call(go())


def logged_cost(stack: Stack, request_id: str) -> int:
    async def go() -> int:
        db = stack.gw.app[DATABASE]
        async with db.engine.connect() as conn:
            query = select(request_log.c.cost_micro_cents).where(request_log.c.id == request_id)
            return int((await conn.execute(query)).scalar_one())

    return stack.gw.call(go())


def check_replay_against_ledger(stack: Stack, sdk: AIgateway) -> None:
    rid, text = chat(stack, "Explain how lighthouses guide ships at night")
    record = sdk.replays.run(source_request_id=rid, target_model=BETA)
    assert record["id"].startswith("rpl_") and record["status"] == "completed"
    assert (record["source_request_id"], record["source_model"]) == (rid, ALPHA)
    assert record["target_model"] == BETA and record["shadow"] is False
    assert record["source_output"] == text
    assert record["target_output"] and record["target_output"] != text
    assert 0.0 <= record["score_delta"] < 1.0
    # Costs: the source's as logged, the target's as charged to the wallet (same request id).
    stack.gw.flush_log()
    assert record["cost_source_cents"] * 1_000_000 == pytest.approx(logged_cost(stack, rid))
    target = record["target_request_id"]
    assert ledger_charge(stack, target) > 0
    assert record["cost_target_cents"] * 1_000_000 == pytest.approx(ledger_charge(stack, target))
    assert logged_cost(stack, target) == ledger_charge(stack, target)
    assert record["latency_source_ms"] >= 0 and record["latency_target_ms"] >= 0
    # The target call really went to beta upstream, with the source's messages.
    sent = [r for r in stack.sim.requests if r["body"].get("model") == "beta"]
    assert sent and sent[-1]["body"]["messages"][0]["content"].startswith("Explain how")
    assert sdk.replays.get(record["id"]) == record
    assert record["id"] in [r["id"] for r in sdk.replays.list(limit=10)]


def test_replay_on_another_model_costs_match_the_ledger(stack: Stack, sdk: AIgateway) -> None:
    check_replay_against_ledger(stack, sdk)


def test_replay_on_postgres(pg_stack: Stack) -> None:
    with AIgateway(api_key=pg_stack.key, base_url=pg_stack.gw.url, timeout=30) as client:
        check_replay_against_ledger(pg_stack, client)


def test_identical_outputs_score_one(stack: Stack, sdk: AIgateway) -> None:
    same = "Paris is the capital of France."
    script(
        stack,
        {"contains": "capital of France", "text": same, "model": "alpha"},
        {"contains": "capital of France", "text": same, "model": "beta"},
    )
    rid, text = chat(stack, "What is the capital of France?")
    assert text == same
    record = sdk.replays.run(source_request_id=rid, target_model=BETA)
    assert record["target_output"] == same and record["score_delta"] == 1.0


def test_a_streamed_request_keeps_its_output(stack: Stack, sdk: AIgateway) -> None:
    rid, text = chat(stack, "Describe a quiet harbour town", stream=True)
    assert text
    record = sdk.replays.run(source_request_id=rid, target_model=ALPHA)
    assert record["source_output"] == text
    # Same model, same prompt: the simulator answers the same, so the outputs match.
    assert record["target_output"] == text and record["score_delta"] == 1.0


def test_unknown_other_account_and_bad_model_are_clear_errors(stack: Stack, sdk: AIgateway) -> None:
    with pytest.raises(AIgatewayError) as unknown:
        sdk.replays.run(source_request_id="req_nope", target_model=BETA)
    assert (unknown.value.status_code, unknown.value.type) == (404, "not_found")
    rid, _ = chat(stack, "Tell me about tides")
    with pytest.raises(AIgatewayError) as bad_model:
        sdk.replays.run(source_request_id=rid, target_model="nope/none")
    assert (bad_model.value.status_code, bad_model.value.type) == (404, "model_not_found")
    _, other_key = new_account(stack, "replay-other")
    with AIgateway(api_key=other_key, base_url=stack.gw.url, timeout=30) as other:
        with pytest.raises(AIgatewayError) as foreign:
            other.replays.run(source_request_id=rid, target_model=BETA)
        assert foreign.value.status_code == 404
        mine = sdk.replays.run(source_request_id=rid, target_model=BETA)
        with pytest.raises(AIgatewayError) as hidden:
            other.replays.get(mine["id"])
        assert hidden.value.status_code == 404
        assert mine["id"] not in [r["id"] for r in other.replays.list()]
    status, _, body = http(
        "POST",
        stack.gw.url + "/v1/replays",
        json={"source_request_id": rid},
        headers={"Authorization": f"Bearer {stack.key}"},
    )
    assert status == 400 and b'"param":"target_model"' in body


def test_an_account_that_opted_out_keeps_no_bodies(stack: Stack, sdk: AIgateway) -> None:
    status, account = stack.admin("PATCH", "/admin/accounts/acme", {"store_bodies": False})
    assert status == 200 and account["store_bodies"] is False
    try:
        rid, _ = chat(stack, "A private question about gardens")
        with pytest.raises(AIgatewayError) as refused:
            sdk.replays.run(source_request_id=rid, target_model=BETA)
        assert (refused.value.status_code, refused.value.type) == (409, "conflict")
        assert "opted out" in str(refused.value)
    finally:
        status, account = stack.admin("PATCH", "/admin/accounts/acme", {"store_bodies": True})
        assert status == 200 and account["store_bodies"] is True
    # The rate limits were left alone by a PATCH that only set store_bodies.
    assert account.get("rate_limit_rpm") is None


def test_bodies_past_retention_are_pruned(stack: Stack, sdk: AIgateway) -> None:
    rid, _ = chat(stack, "Old news about railways")
    app = stack.gw.app
    removed = stack.gw.call(
        prune_once(app[DATABASE], app[SETTINGS], now=int(time.time() * 1000) + 31 * DAY_MS)
    )
    assert removed >= 1
    with pytest.raises(AIgatewayError) as expired:
        sdk.replays.run(source_request_id=rid, target_model=BETA)
    assert expired.value.status_code == 409  # the log row is young: its body is just gone
    # A body inside the retention survives a prune at the real time.
    rid2, _ = chat(stack, "Fresh news about railways")
    stack.gw.call(prune_once(app[DATABASE], app[SETTINGS]))
    assert sdk.replays.run(source_request_id=rid2, target_model=BETA)["status"] == "completed"


def test_shadow_replay_runs_in_the_background(stack: Stack, sdk: AIgateway) -> None:
    rid, text = chat(stack, "Compare rivers and canals")
    pending = sdk.replays.run(source_request_id=rid, target_model=BETA, shadow=True)
    assert pending["shadow"] is True and pending["status"] == "pending"
    assert pending["target_output"] is None
    deadline = time.time() + 10
    while time.time() < deadline:
        done = sdk.replays.get(pending["id"])
        if done["status"] != "pending":
            break
        time.sleep(0.1)
    assert done["status"] == "completed" and done["target_output"]
    assert done["source_output"] == text and 0 <= done["score_delta"] <= 1
