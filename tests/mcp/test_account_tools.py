"""replay, run_eval / get_eval, get_balance and get_usage through the official ``mcp`` SDK:
the records are the HTTP API's, and the calls they start are billed to the account."""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal

from tests.mcp.conftest import charge, mcp_calls, payload
from tests.server.conftest import Stack

CHAT = "xai/grok-4.3"
OTHER = "openai/gpt-4o"


async def test_chat_then_replay_it_on_another_model(stack: Stack) -> None:
    (chat,) = await mcp_calls(stack, [("chat", {"model": CHAT, "prompt": "Say hi"})])
    source = payload(chat)["id"]
    assert source.startswith("req_") and charge(stack, source) > 0
    replayed, missing = await mcp_calls(
        stack,
        [
            ("replay", {"source_request_id": source, "target_model": OTHER}),
            ("replay", {"source_request_id": "req_nope", "target_model": OTHER}),
        ],
    )
    assert not replayed.is_error, replayed.content
    record = payload(replayed)
    assert record["source_request_id"] == source and record["status"] == "completed"
    assert record["source_model"] == CHAT and record["target_model"] == OTHER
    assert record["source_output"] and record["target_output"]
    assert charge(stack, record["target_request_id"]) > 0
    assert record["score_delta"] is not None
    assert missing.is_error
    error = payload(missing)["error"]
    assert error["type"] == "not_found" and error["param"] == "source_request_id"


async def test_run_eval_and_get_it(stack: Stack) -> None:
    dataset = [{"input": "What is 2+2?", "expected": "4"}, {"input": "Say hi", "expected": "hi"}]
    (started,) = await mcp_calls(
        stack,
        [("run_eval", {"name": "mcp", "candidate_models": [CHAT, OTHER], "dataset": dataset})],
    )
    assert not started.is_error, started.content
    run = payload(started)
    assert run["object"] == "eval_run" and run["status"] in ("running", "completed")
    assert run["candidate_models"] == [CHAT, OTHER] and run["progress"]["total"] == 4
    deadline = time.monotonic() + 30
    while True:  # the run goes on in the background when it outlasts the wait
        got, unknown = await mcp_calls(
            stack,
            [
                ("get_eval", {"id": run["id"], "include_results": True}),
                ("get_eval", {"id": "eval_nope"}),
            ],
        )
        again = payload(got)
        if again["status"] != "running" or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.2)
    assert again["id"] == run["id"] and again["status"] == "completed"
    assert len(again["results"]) == 4 and again["winner_model"] in (CHAT, OTHER)
    assert unknown.is_error and payload(unknown)["error"]["param"] == "id"


async def test_balance_and_usage_show_the_calls(stack: Stack) -> None:
    (before,) = await mcp_calls(stack, [("get_balance", {})])
    start = Decimal(str(payload(before)["available_cents"]))
    chat, after, usage = await mcp_calls(
        stack,
        [
            ("chat", {"model": CHAT, "prompt": "count", "max_tokens": 5}),
            ("get_balance", {}),
            ("get_usage", {"limit": 5}),
        ],
    )
    request_id = payload(chat)["id"]
    spent = charge(stack, request_id)
    balance = payload(after)
    assert balance["object"] == "balance" and balance["account_id"] == stack.account_id
    assert start - Decimal(str(balance["available_cents"])) == Decimal(spent) / 10**6
    report = payload(usage)
    assert report["recent"][0]["id"] == request_id
    assert report["recent"][0]["model"] == CHAT and len(report["recent"]) <= 5
    assert report["by_tag"] and report["month"]


def test_clear_cache_flushes_the_accounts_cached_answers(stack: Stack) -> None:
    ask = {"model": CHAT, "temperature": 0, "messages": [{"role": "user", "content": "cache me"}]}
    with stack.client() as client:
        client.chat.completions.create(**ask)  # a miss, then stored
        deadline = time.monotonic() + 5
        while client.chat.completions.with_raw_response.create(**ask).headers["x-cache"] != "hit":
            assert time.monotonic() < deadline, "the answer was never cached"
            time.sleep(0.05)
        (cleared,) = asyncio.run(mcp_calls(stack, [("clear_cache", {})]))
        assert payload(cleared) == {"object": "cache", "cleared": True, "deleted": 1}
        assert client.chat.completions.with_raw_response.create(**ask).headers["x-cache"] == "miss"
