"""``/v1/budgets``: monthly spend caps on cost-attribution tags (``x-aig-tag``).

A request whose tag has a budget reserves against it before the upstream call, like a
sub-account's cap, and gets 402 ``budget_exceeded`` naming the tag when it does not fit.
Managed with a key of the parent account only.
"""

from __future__ import annotations

import time
from typing import Any

from aiohttp import web

from aigw.auth.keys import KeyInfo
from aigw.billing.controls import BudgetInfo
from aigw.errors import NotFound
from aigw.server.appkeys import BILLING, DATABASE
from aigw.server.auth import authenticate
from aigw.server.routes.common import (
    MAX_CENTS,
    cents,
    count_field,
    json_response,
    ledger_settled,
    read_object,
    require_parent,
    seconds,
    text_field,
)
from aigw.store import budgets as store
from aigw.store import usage
from aigw.store.tables import TAG_MAX


def view(budget: store.Budget, spent_micro_cents: int) -> dict[str, Any]:
    return {
        "object": "budget",
        "id": budget.id,
        "tag": budget.tag,
        "monthly_cap_cents": budget.monthly_cap_cents,
        "spent_this_month_cents": cents(spent_micro_cents),
        "created_at": seconds(budget.created_at),
        "updated_at": seconds(budget.updated_at),
    }


async def _parent(request: web.Request) -> KeyInfo:
    key = await authenticate(request)
    require_parent(key, "manage budgets")
    return key


def _month_start() -> int:
    return usage.month_range_ms(time.strftime("%Y-%m", time.gmtime()))[0]


async def upsert(request: web.Request) -> web.Response:
    """201 with a new budget; 200 when the tag had one and its cap was replaced."""
    key = await _parent(request)
    data = await read_object(request, ("tag", "monthly_cap_cents"))
    tag = text_field(data, "tag", max_len=TAG_MAX, required=True)
    cap = count_field(data, "monthly_cap_cents", maximum=MAX_CENTS, required=True)
    assert tag is not None and cap is not None
    db = request.app[DATABASE]
    budget, created = await store.upsert_budget(db, key.account_id, tag, cap)
    await request.app[BILLING].adopt_budget(
        BudgetInfo(budget.id, budget.account_id, budget.tag, budget.monthly_cap_cents)
    )
    await ledger_settled(request.app)
    spent = await usage.spent_by_tag(db, key.account_id, _month_start(), [tag])
    return json_response(view(budget, spent.get(tag, 0)), status=201 if created else 200)


async def list_all(request: web.Request) -> web.Response:
    key = await _parent(request)
    db = request.app[DATABASE]
    found = await store.list_budgets(db, key.account_id)
    await ledger_settled(request.app)
    spent = await usage.spent_by_tag(db, key.account_id, _month_start(), [b.tag for b in found])
    return json_response({"object": "list", "data": [view(b, spent.get(b.tag, 0)) for b in found]})


async def delete(request: web.Request) -> web.Response:
    key = await _parent(request)
    id_or_tag = request.match_info["id"]
    budget = await store.delete_budget(request.app[DATABASE], key.account_id, id_or_tag)
    if budget is None:
        raise NotFound(f"No budget with id or tag {id_or_tag!r}.", param="id")
    request.app[BILLING].forget_budget(budget.account_id, budget.tag)
    return json_response({"object": "budget", "id": budget.id, "tag": budget.tag, "deleted": True})


def setup_routes(app: web.Application) -> None:
    app.router.add_post("/v1/budgets", upsert)
    app.router.add_get("/v1/budgets", list_all)
    app.router.add_delete("/v1/budgets/{id}", delete)
