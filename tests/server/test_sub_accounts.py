"""/v1/sub-accounts over real sockets: records, keys, caps (402, never 429), scoping, usage."""

from __future__ import annotations

import time
from typing import Any

import pytest
from tests.server import spendkit
from tests.server.conftest import Stack
from tests.server.spendkit import CENT, FLAT, call, chat, new_account, new_sub_account

from aigw.server.appkeys import DATABASE
from aigw.store import request_log

# The fixtures: a gateway whose simulator/flat costs 1 cent a call (tests/server/spendkit.py).
priced, stack = spendkit.priced, spendkit.stack


def test_create_returns_the_record_and_a_key_shown_once(stack: Stack) -> None:
    before = int(time.time())
    sub = new_sub_account(
        stack,
        stack.key,
        name="Customer A",
        external_ref="cus_123",
        spend_cap_cents=50_000,
        rate_limit_rpm=60,
        default_tag="cust-a",
    )
    assert sub["id"].startswith("sub_") and sub["key"].startswith("sk-aig-")
    record = {k: v for k, v in sub.items() if k != "key"}
    assert record == {
        "object": "sub_account",
        "id": sub["id"],
        "name": "Customer A",
        "external_ref": "cus_123",
        "spend_cap_cents": 50_000,
        "rate_limit_rpm": 60,
        "default_tag": "cust-a",
        "created_at": record["created_at"],
    }
    assert before <= record["created_at"] <= time.time(), "unix seconds"

    status, got, _ = call(stack, "GET", f"/v1/sub-accounts/{sub['id']}", stack.key)
    assert (status, got) == (200, record)
    status, listed, _ = call(stack, "GET", "/v1/sub-accounts", stack.key)
    assert status == 200 and listed["object"] == "list"
    assert record in listed["data"]
    assert all("key" not in s for s in listed["data"])

    # The key works, is logged as the sub-account's, and its default tag applies.
    status, _, _ = chat(stack, sub["key"])
    assert status == 200
    stack.gw.flush_log()
    status, recent, _ = call(stack, "GET", "/v1/usage/recent?limit=1", sub["key"])
    assert status == 200
    assert recent["data"][0]["sub_account_id"] == sub["id"]
    assert recent["data"][0]["tag"] == "cust-a"


def test_optional_fields_default_to_null(stack: Stack) -> None:
    sub = new_sub_account(stack, stack.key, name="bare")
    assert sub["external_ref"] is None and sub["spend_cap_cents"] is None
    assert sub["rate_limit_rpm"] is None and sub["default_tag"] is None


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": 5}, "name"),
        ({"name": "x" * 129}, "name"),
        ({"name": "a\nb"}, "name"),
        ({"name": "x", "spend_cap_cents": -1}, "spend_cap_cents"),
        ({"name": "x", "spend_cap_cents": 1.5}, "spend_cap_cents"),
        ({"name": "x", "spend_cap_cents": True}, "spend_cap_cents"),
        ({"name": "x", "spend_cap_cents": "500"}, "spend_cap_cents"),
        ({"name": "x", "spend_cap_cents": 10**14}, "spend_cap_cents"),
        ({"name": "x", "rate_limit_rpm": -5}, "rate_limit_rpm"),
        ({"name": "x", "rate_limit_rpm": 2**31}, "rate_limit_rpm"),
        ({"name": "x", "default_tag": "t" * 65}, "default_tag"),
        ({"name": "x", "default_tag": " padded"}, "default_tag"),
        ({"name": "x", "external_ref": "r" * 257}, "external_ref"),
        ({"name": "x", "spend_cap": 500}, "spend_cap"),
        ([{"name": "x"}], "body"),
    ],
)
def test_bad_fields_are_400_naming_the_field(stack: Stack, body: Any, param: str) -> None:
    status, got, _ = call(stack, "POST", "/v1/sub-accounts", stack.key, body)
    assert status == 400, got
    assert got["error"]["type"] == "invalid_request_error"
    assert got["error"]["param"] == param


def test_bad_window_is_400(stack: Stack) -> None:
    sub = new_sub_account(stack, stack.key)
    for window in ("30", "0d", "7w", "-1d", "401d", "1.5d"):
        status, got, _ = call(
            stack, "GET", f"/v1/sub-accounts/{sub['id']}/usage?window={window}", stack.key
        )
        assert (status, got["error"]["param"]) == (400, "window"), window


def test_a_sub_account_key_cannot_manage_sub_accounts(stack: Stack) -> None:
    sub = new_sub_account(stack, stack.key)
    key = sub["key"]
    for method, path, body in [
        ("POST", "/v1/sub-accounts", {"name": "grandchild"}),
        ("GET", "/v1/sub-accounts", None),
        ("GET", f"/v1/sub-accounts/{sub['id']}", None),
        ("GET", f"/v1/sub-accounts/{sub['id']}/usage", None),
        ("DELETE", f"/v1/sub-accounts/{sub['id']}", None),
    ]:
        status, got, _ = call(stack, method, path, key, body)
        assert status == 403, (method, path, got)
        assert got["error"]["type"] == "permission_error"
    status, _, _ = call(stack, "GET", f"/v1/sub-accounts/{sub['id']}", stack.key)
    assert status == 200, "still there"


def test_another_accounts_sub_accounts_are_not_found(stack: Stack) -> None:
    sub = new_sub_account(stack, stack.key)
    _, other = new_account(stack, "other-parent")
    for method, path in [
        ("GET", f"/v1/sub-accounts/{sub['id']}"),
        ("GET", f"/v1/sub-accounts/{sub['id']}/usage"),
        ("DELETE", f"/v1/sub-accounts/{sub['id']}"),
    ]:
        status, got, _ = call(stack, method, path, other)
        assert (status, got["error"]["type"]) == (404, "not_found"), (method, path)
    status, listed, _ = call(stack, "GET", "/v1/sub-accounts", other)
    assert (status, listed["data"]) == (200, [])
    status, _, _ = chat(stack, sub["key"])
    assert status == 200, "untouched"


def test_reaching_the_cap_is_402_budget_exceeded_never_429(stack: Stack) -> None:
    sub = new_sub_account(stack, stack.key, name="capped", spend_cap_cents=3)
    statuses = [chat(stack, sub["key"])[0] for _ in range(3)]
    assert statuses == [200, 200, 200]
    status, got, headers = chat(stack, sub["key"])
    assert status == 402, got
    assert got["error"]["type"] == "budget_exceeded"
    message = got["error"]["message"]
    assert message.startswith("Monthly spend cap of $0.03"), message
    assert "'capped'" in message and "(spent $0.03)" in message
    assert "Retry-After" not in headers
    assert stack.sim.stats["requests"] == 3, "refused before the upstream call"
    # The cap is the sub-account's: the parent's own key still spends.
    assert chat(stack, stack.key)[0] == 200


def test_deleting_a_sub_account_revokes_its_key_at_once(stack: Stack) -> None:
    sub = new_sub_account(stack, stack.key, name="leaving")
    assert chat(stack, sub["key"])[0] == 200
    status, got, _ = call(stack, "DELETE", f"/v1/sub-accounts/{sub['id']}", stack.key)
    assert status == 200, got
    assert got["id"] == sub["id"] and got["deleted"] is True and got["revoked_keys"] == 1
    status, got, _ = chat(stack, sub["key"])
    assert (status, got["error"]["type"]) == (401, "authentication_error")
    status, _, _ = call(stack, "GET", f"/v1/sub-accounts/{sub['id']}", stack.key)
    assert status == 404
    status, _, _ = call(stack, "DELETE", f"/v1/sub-accounts/{sub['id']}", stack.key)
    assert status == 404
    status, listed, _ = call(stack, "GET", "/v1/sub-accounts", stack.key)
    assert sub["id"] not in [s["id"] for s in listed["data"]]
    time.sleep(1.2)  # two key-cache and billing refreshes: nothing brings the key back
    assert chat(stack, sub["key"])[0] == 401


def test_usage_equals_the_sums_of_the_request_log(stack: Stack) -> None:
    sub = new_sub_account(stack, stack.key, name="metered")
    for model, tag in [(FLAT, None), (FLAT, "batch"), ("simulator/chat", None)]:
        assert chat(stack, sub["key"], model=model, tag=tag)[0] == 200
    assert chat(stack, stack.key)[0] == 200  # the parent's own call is not the sub-account's
    stack.sim.queue_fault("500", count=5)
    assert chat(stack, sub["key"])[0] == 500  # a failure counts as a request, costs nothing
    stack.gw.flush_log()
    db = stack.gw.app[DATABASE]
    rows = [
        e
        for e in stack.gw.call(request_log.recent(db, 1000, stack.account_id))
        if e.sub_account_id == sub["id"]
    ]
    assert len(rows) == 4

    status, got, _ = call(stack, "GET", f"/v1/sub-accounts/{sub['id']}/usage?window=30d", stack.key)
    assert status == 200, got
    assert got["sub_account_id"] == sub["id"] and got["window"] == "30d"
    summary = got["summary"]
    assert summary["requests"] == 4 and summary["errors"] == 1
    assert summary["prompt_tokens"] == sum(e.prompt_tokens for e in rows)
    assert summary["completion_tokens"] == sum(e.completion_tokens for e in rows)
    assert summary["total_tokens"] == summary["prompt_tokens"] + summary["completion_tokens"]
    assert round(summary["cost_cents"] * CENT) == sum(e.cost_micro_cents for e in rows)
    assert round(summary["charged_cents"] * CENT) == sum(e.charged_micro_cents for e in rows)
    assert summary["charged_cents"] >= 2, "two flat calls at 1 cent each"

    by_model = {m["model"]: m for m in got["by_model"]}
    assert set(by_model) == {FLAT, "simulator/chat"}
    assert by_model[FLAT]["requests"] == 3
    assert got["by_model"][0]["model"] == FLAT, "dearest first"
    for model, entry in by_model.items():
        mine = [e for e in rows if e.model == model]
        assert round(entry["cost_cents"] * CENT) == sum(e.cost_micro_cents for e in mine)
    today = time.strftime("%Y-%m-%d", time.gmtime())
    assert [(d["date"], d["requests"]) for d in got["by_day"]] == [(today, 4)]
    assert got["by_day"][0]["cost_cents"] == summary["cost_cents"]

    status, short, _ = call(
        stack, "GET", f"/v1/sub-accounts/{sub['id']}/usage?window=1h", stack.key
    )
    assert status == 200 and short["summary"] == summary
