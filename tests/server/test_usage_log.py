"""``/v1/usage/requests`` (filters, paging, detail) and ``/v1/usage/summary``, per account."""

from __future__ import annotations

import time
from typing import Any

from tests.server.conftest import Stack


def _get(stack: Stack, path: str, key: str | None = None) -> tuple[int, Any]:
    status, body = stack.gw.admin("GET", path, key or stack.key)
    return status, body


def _traffic(stack: Stack, tag: str) -> None:
    client = stack.client(default_headers={"x-aig-tag": tag})
    for model in ("simulator/chat", "simulator/chat", "simulator/free"):
        client.chat.completions.create(model=model, messages=[{"role": "user", "content": "hi"}])
    stack.gw.flush_log()


def test_filters_and_paging(stack: Stack) -> None:
    tag = f"t{time.time_ns()}"
    _traffic(stack, tag)
    status, page = _get(stack, f"/v1/usage/requests?tag={tag}")
    assert status == 200 and len(page["data"]) == 3 and page["has_more"] is False
    assert [r["tag"] for r in page["data"]] == [tag] * 3
    chat = _get(stack, f"/v1/usage/requests?tag={tag}&model=simulator/chat")[1]["data"]
    assert [r["model"] for r in chat] == ["simulator/chat"] * 2
    assert _get(stack, f"/v1/usage/requests?tag={tag}&status=error")[1]["data"] == []
    assert len(_get(stack, f"/v1/usage/requests?tag={tag}&status=200")[1]["data"]) == 3
    first = _get(stack, f"/v1/usage/requests?tag={tag}&limit=2")[1]
    assert len(first["data"]) == 2 and first["has_more"] is True
    cursor = first["data"][-1]["id"]
    rest = _get(stack, f"/v1/usage/requests?tag={tag}&limit=2&before={cursor}")[1]["data"]
    assert len(rest) == 1
    assert rest[0]["id"] not in {r["id"] for r in first["data"]}


def test_detail_has_the_ledger_charge(stack: Stack) -> None:
    tag = f"d{time.time_ns()}"
    _traffic(stack, tag)
    row = _get(stack, f"/v1/usage/requests?tag={tag}&model=simulator/chat&limit=1")[1]["data"][0]
    status, detail = _get(stack, f"/v1/usage/requests/{row['id']}")
    assert status == 200 and detail["object"] == "request"
    assert detail["model_name"] == "Simulator Chat" and detail["tag"] == tag
    charges = [line for line in detail["ledger"] if line["kind"] == "charge"]
    assert len(charges) == 1 and charges[0]["amount_cents"] == -detail["charged_cents"]


def test_other_accounts_see_nothing(stack: Stack) -> None:
    tag = f"o{time.time_ns()}"
    _traffic(stack, tag)
    row = _get(stack, f"/v1/usage/requests?tag={tag}&limit=1")[1]["data"][0]
    name = f"other-{time.time_ns()}"
    assert stack.admin("POST", "/admin/accounts", {"name": name})[0] == 201
    other = stack.admin("POST", "/admin/keys", {"account": name})[1]["key"]
    assert _get(stack, f"/v1/usage/requests?tag={tag}", other)[1]["data"] == []
    status, err = _get(stack, f"/v1/usage/requests/{row['id']}", other)
    assert status == 404 and err["error"]["param"] == "id"
    sub = stack.gw.admin("POST", "/v1/sub-accounts", stack.key, {"name": name})[1]
    assert _get(stack, f"/v1/usage/requests?tag={tag}", sub["key"])[1]["data"] == []
    assert _get(stack, f"/v1/usage/requests/{row['id']}", sub["key"])[0] == 404


def test_summary_by_day_and_model(stack: Stack) -> None:
    _traffic(stack, f"s{time.time_ns()}")
    status, body = _get(stack, "/v1/usage/summary?window=7d")
    assert status == 200 and body["window"] == "7d"
    assert body["summary"]["requests"] >= 3
    models = {m["model"]: m for m in body["by_model"]}
    assert (
        models["simulator/chat"]["cost_cents"] > 0 and models["simulator/free"]["cost_cents"] == 0
    )
    assert body["by_day"][-1]["date"] == time.strftime("%Y-%m-%d", time.gmtime())


def test_bad_parameters_name_themselves(stack: Stack) -> None:
    for query, param in (
        ("status=oops", "status"),
        ("limit=0", "limit"),
        ("model=" + "m" * 300, "model"),
    ):
        status, err = _get(stack, "/v1/usage/requests?" + query)
        assert status == 400 and err["error"]["param"] == param, query
    status, err = _get(stack, "/v1/usage/summary?window=3y")
    assert status == 400 and err["error"]["param"] == "window"
