"""/v1/budgets over real sockets: upsert, list, delete, and 402 naming the tag."""

from __future__ import annotations

import time
from typing import Any

import pytest
from tests.server import spendkit
from tests.server.conftest import Stack
from tests.server.spendkit import call, chat, new_account, new_sub_account

from aigw.server.appkeys import DATABASE
from aigw.store import budgets

# The fixtures: a gateway whose simulator/flat costs 1 cent a call (tests/server/spendkit.py).
priced, stack = spendkit.priced, spendkit.stack


def _budget(stack: Stack, tag: str, cap: int, key: str | None = None) -> tuple[int, Any]:
    status, body, _ = call(
        stack, "POST", "/v1/budgets", key or stack.key, {"tag": tag, "monthly_cap_cents": cap}
    )
    return status, body


def test_create_replace_list_and_delete(stack: Stack) -> None:
    status, created = _budget(stack, "team-a", 500)
    assert status == 201, created
    assert created["id"].startswith("bud_")
    assert (created["object"], created["tag"], created["monthly_cap_cents"]) == (
        "budget",
        "team-a",
        500,
    )
    assert created["spent_this_month_cents"] == 0
    assert abs(created["created_at"] - time.time()) < 60

    status, replaced = _budget(stack, "team-a", 900)
    assert status == 200, "the tag had a budget: its cap is replaced"
    assert replaced["id"] == created["id"] and replaced["monthly_cap_cents"] == 900
    status, _ = _budget(stack, "team-b", 100)
    assert status == 201

    status, listed, _ = call(stack, "GET", "/v1/budgets", stack.key)
    assert status == 200 and listed["object"] == "list"
    mine = {b["tag"]: b["monthly_cap_cents"] for b in listed["data"]}
    assert mine["team-a"] == 900 and mine["team-b"] == 100

    status, gone, _ = call(stack, "DELETE", "/v1/budgets/team-a", stack.key)
    assert (status, gone["id"], gone["deleted"]) == (200, created["id"], True)
    status, gone, _ = call(stack, "DELETE", f"/v1/budgets/{gone['id']}", stack.key)
    assert (status, gone["error"]["type"]) == (404, "not_found")
    _, b = _budget(stack, "team-b", 100)
    status, gone, _ = call(stack, "DELETE", f"/v1/budgets/{b['id']}", stack.key)
    assert (status, gone["tag"]) == (200, "team-b"), "by id"
    status, listed, _ = call(stack, "GET", "/v1/budgets", stack.key)
    assert {"team-a", "team-b"}.isdisjoint(b["tag"] for b in listed["data"])


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"monthly_cap_cents": 5}, "tag"),
        ({"tag": "", "monthly_cap_cents": 5}, "tag"),
        ({"tag": 7, "monthly_cap_cents": 5}, "tag"),
        ({"tag": "t" * 65, "monthly_cap_cents": 5}, "tag"),
        ({"tag": "ok"}, "monthly_cap_cents"),
        ({"tag": "ok", "monthly_cap_cents": -1}, "monthly_cap_cents"),
        ({"tag": "ok", "monthly_cap_cents": 2.5}, "monthly_cap_cents"),
        ({"tag": "ok", "monthly_cap_cents": None}, "monthly_cap_cents"),
        ({"tag": "ok", "monthly_cap_cents": 5, "cap": 5}, "cap"),
    ],
)
def test_bad_fields_are_400_naming_the_field(stack: Stack, body: Any, param: str) -> None:
    status, got, _ = call(stack, "POST", "/v1/budgets", stack.key, body)
    assert (status, got["error"]["param"]) == (400, param), got


def test_sub_account_keys_cannot_manage_budgets(stack: Stack) -> None:
    sub = new_sub_account(stack, stack.key)
    _, own = _budget(stack, "kept", 100)
    for method, path, body in [
        ("POST", "/v1/budgets", {"tag": "mine", "monthly_cap_cents": 1}),
        ("GET", "/v1/budgets", None),
        ("DELETE", "/v1/budgets/kept", None),
    ]:
        status, got, _ = call(stack, method, path, sub["key"], body)
        assert (status, got["error"]["type"]) == (403, "permission_error"), (method, path)
    _, other = new_account(stack, "budget-neighbour")
    status, listed, _ = call(stack, "GET", "/v1/budgets", other)
    assert (status, listed["data"]) == (200, [])
    status, _, _ = call(stack, "DELETE", f"/v1/budgets/{own['id']}", other)
    assert status == 404, "another account's budget is unknown"


def test_a_budget_refuses_with_402_naming_the_tag(stack: Stack) -> None:
    assert _budget(stack, "experiments", 2)[0] == 201
    assert [chat(stack, stack.key, tag="experiments")[0] for _ in range(2)] == [200, 200]
    status, got, headers = chat(stack, stack.key, tag="experiments")
    assert status == 402, got
    assert got["error"]["type"] == "budget_exceeded"
    message = got["error"]["message"]
    assert "tag 'experiments'" in message and "Monthly spend cap of $0.02" in message
    assert "Retry-After" not in headers
    assert stack.sim.stats["requests"] == 2, "refused before the upstream call"
    # Other tags and untagged calls are not this budget's business.
    assert chat(stack, stack.key, tag="other")[0] == 200
    assert chat(stack, stack.key)[0] == 200
    # A sub-account whose default tag has a budget is held to it as well.
    sub = new_sub_account(stack, stack.key, default_tag="experiments")
    status, got, _ = chat(stack, sub["key"])
    assert (status, got["error"]["type"]) == (402, "budget_exceeded")
    # Raising the cap lets calls through at once.
    assert _budget(stack, "experiments", 3)[0] == 200
    assert chat(stack, stack.key, tag="experiments")[0] == 200
    status, listed, _ = call(stack, "GET", "/v1/budgets", stack.key)
    (entry,) = [b for b in listed["data"] if b["tag"] == "experiments"]
    assert entry["spent_this_month_cents"] == 3


def test_a_new_budget_counts_this_months_earlier_spend_on_its_tag(stack: Stack) -> None:
    assert [chat(stack, stack.key, tag="late-budget")[0] for _ in range(2)] == [200, 200]
    status, created = _budget(stack, "late-budget", 2)
    assert status == 201 and created["spent_this_month_cents"] == 2
    status, got, _ = chat(stack, stack.key, tag="late-budget")
    assert (status, got["error"]["type"]) == (402, "budget_exceeded")


def test_a_budget_deleted_elsewhere_stops_applying(stack: Stack) -> None:
    assert _budget(stack, "shared", 0)[0] == 201
    assert chat(stack, stack.key, tag="shared")[0] == 402
    # Another process (or replica) deletes the budget: only the database changes here.
    db = stack.gw.app[DATABASE]
    assert stack.gw.call(budgets.delete_budget(db, stack.account_id, "shared")) is not None
    until = time.monotonic() + 5
    while chat(stack, stack.key, tag="shared")[0] == 402:
        assert time.monotonic() < until, "the deletion never reached the billing view"
        time.sleep(0.1)
