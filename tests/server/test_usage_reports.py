"""/v1/balance and /v1/usage/* over real sockets: numbers, months, and who sees what."""

from __future__ import annotations

import time

import pytest
from tests.server import spendkit
from tests.server.conftest import Stack
from tests.server.spendkit import FLAT, call, chat, new_account, new_sub_account

from aigw.billing.pricing import MICRO_CENTS_PER_CENT
from aigw.server.appkeys import BILLING

# The fixtures: a gateway whose simulator/flat costs 1 cent a call (tests/server/spendkit.py).
priced, stack = spendkit.priced, spendkit.stack


def _month(offset: int = 0) -> str:
    year, month = time.gmtime()[:2]
    month += offset
    year, month = year + (month - 1) // 12, (month - 1) % 12 + 1
    return f"{year:04d}-{month:02d}"


def test_balance_shows_wallet_spend_top_ups_and_fee_settings(stack: Stack) -> None:
    account_id, key = new_account(stack, "balancer", "10")
    status, body = stack.admin("POST", "/admin/accounts/balancer/topup", {"amount": "2.5"})
    assert status == 201, body
    assert [chat(stack, key)[0] for _ in range(2)] == [200, 200]

    status, got, _ = call(stack, "GET", "/v1/balance", key)
    assert status == 200, got
    committed, uncommitted, reserved = stack.gw.app[BILLING].wallets.view(account_id)
    assert got["balance_cents"] == (committed - uncommitted) / MICRO_CENTS_PER_CENT == 1248
    assert got["reserved_cents"] == reserved == 0
    assert got["available_cents"] == 1248
    assert got["spent_today_cents"] == got["spent_this_month_cents"] == 2
    assert (got["object"], got["account_id"], got["currency"]) == ("balance", account_id, "USD")
    assert (got["platform_fee_percent"], got["platform_fee_mode"]) == (5.0, "topup")
    top_ups = [(t["credits_cents"], t["fee_cents"], t["paid_cents"]) for t in got["last_topups"]]
    assert top_ups == [(250, 12.5, 262.5), (1000, 50, 1050)], "newest first, fee at 5%"
    assert abs(got["last_topups"][0]["created_at"] - time.time()) < 60


def test_a_sub_account_key_sees_its_own_spend_not_the_wallet(stack: Stack) -> None:
    _, parent = new_account(stack, "wallet-owner", "10")
    sub = new_sub_account(stack, parent, spend_cap_cents=5)
    assert chat(stack, sub["key"])[0] == 200
    assert chat(stack, parent)[0] == 200
    status, got, _ = call(stack, "GET", "/v1/balance", sub["key"])
    assert status == 200, got
    assert got == {
        "object": "balance",
        "sub_account_id": sub["id"],
        "currency": "USD",
        "spend_cap_cents": 5,
        "remaining_this_month_cents": 4,
        "spent_today_cents": 1,
        "spent_this_month_cents": 1,
    }
    _, parent_view, _ = call(stack, "GET", "/v1/balance", parent)
    assert parent_view["spent_today_cents"] == 2, "the parent sees all of its wallet's spend"


def test_usage_by_tag_for_a_month(stack: Stack) -> None:
    _, key = new_account(stack, "tagger", "10")
    for tag in ("alpha", "alpha", "beta", None):
        assert chat(stack, key, tag=tag)[0] == 200
    assert chat(stack, key, tag="alpha", model="simulator/chat")[0] == 200
    stack.gw.flush_log()
    status, got, _ = call(stack, "GET", f"/v1/usage/by-tag?month={_month()}", key)
    assert status == 200, got
    assert got["month"] == _month() and got["object"] == "list"
    rows = {r["tag"]: r for r in got["data"]}
    assert set(rows) == {"alpha", "beta", None}
    assert rows["alpha"]["requests"] == 3 and rows["beta"]["requests"] == 1
    assert rows["beta"]["charged_cents"] == rows[None]["charged_cents"] == 1
    assert rows["alpha"]["charged_cents"] > 2
    assert got["data"][0]["tag"] == "alpha", "dearest first"
    assert rows["beta"]["completion_tokens"] == 100

    # Without ?month= it is this month; other months are empty.
    _, default, _ = call(stack, "GET", "/v1/usage/by-tag", key)
    assert default["data"] == got["data"]
    for month in (_month(-1), _month(1)):
        status, other, _ = call(stack, "GET", f"/v1/usage/by-tag?month={month}", key)
        assert (status, other["data"]) == (200, []), month


def test_usage_by_sub_account(stack: Stack) -> None:
    _, parent = new_account(stack, "reseller", "10")
    one = new_sub_account(stack, parent, name="one")
    two = new_sub_account(stack, parent, name="two")
    for key in (one["key"], one["key"], two["key"], parent):
        assert chat(stack, key)[0] == 200
    assert call(stack, "DELETE", f"/v1/sub-accounts/{two['id']}", parent)[0] == 200
    stack.gw.flush_log()
    status, got, _ = call(stack, "GET", "/v1/usage/by-sub-account", parent)
    assert status == 200, got
    rows = [(r["sub_account_id"], r["name"], r["deleted"], r["requests"]) for r in got["data"]]
    assert rows == [(one["id"], "one", False, 2), (two["id"], "two", True, 1)]
    assert got["data"][0]["charged_cents"] == 2
    # Parent-only: a sub-account may not see its siblings.
    status, denied, _ = call(stack, "GET", "/v1/usage/by-sub-account", one["key"])
    assert (status, denied["error"]["type"]) == (403, "permission_error")
    # Its own tags report, though, is its own data only.
    status, own, _ = call(stack, "GET", "/v1/usage/by-tag", one["key"])
    assert status == 200 and [r["requests"] for r in own["data"]] == [2]


def test_recent_requests_are_scoped_to_the_key(stack: Stack) -> None:
    _, parent = new_account(stack, "recent-parent", "10")
    sub = new_sub_account(stack, parent)
    _, stranger = new_account(stack, "recent-stranger", "10")
    for key, tag in [(parent, "p1"), (sub["key"], "s1"), (parent, "p2"), (stranger, "x")]:
        assert chat(stack, key, tag=tag)[0] == 200
        time.sleep(0.002)  # distinct milliseconds: a stable newest-first order
    stack.gw.flush_log()
    status, got, _ = call(stack, "GET", "/v1/usage/recent", parent)
    assert status == 200, got
    assert [e["tag"] for e in got["data"]] == ["p2", "s1", "p1"], "newest first, no stranger"
    first = got["data"][0]
    assert first["model"] == FLAT and first["status"] == 200 and first["charged_cents"] == 1
    assert first["completion_tokens"] == 100 and first["id"].startswith("req_")
    _, limited, _ = call(stack, "GET", "/v1/usage/recent?limit=1", parent)
    assert [e["tag"] for e in limited["data"]] == ["p2"]
    _, own, _ = call(stack, "GET", "/v1/usage/recent", sub["key"])
    assert [(e["tag"], e["sub_account_id"]) for e in own["data"]] == [("s1", sub["id"])]


@pytest.mark.parametrize("path", ["/v1/usage/by-tag", "/v1/usage/by-sub-account"])
@pytest.mark.parametrize("month", ["2026-13", "2026-4", "26-04", "2026-04-01", "april"])
def test_bad_month_is_400_naming_month(stack: Stack, path: str, month: str) -> None:
    status, got, _ = call(stack, "GET", f"{path}?month={month}", stack.key)
    assert (status, got["error"]["param"]) == (400, "month"), got


@pytest.mark.parametrize("limit", ["0", "-3", "1001", "ten"])
def test_bad_limit_is_400_naming_limit(stack: Stack, limit: str) -> None:
    status, got, _ = call(stack, "GET", f"/v1/usage/recent?limit={limit}", stack.key)
    assert (status, got["error"]["param"]) == (400, "limit"), got


def test_reports_need_a_key(stack: Stack) -> None:
    for path in ("/v1/balance", "/v1/usage/by-tag", "/v1/usage/by-sub-account", "/v1/usage/recent"):
        status, got, _ = call(stack, "GET", path, "sk-aig-" + "x" * 40)
        assert (status, got["error"]["type"]) == (401, "authentication_error"), path
