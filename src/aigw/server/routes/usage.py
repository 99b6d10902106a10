"""Reporting for the calling key: ``/v1/balance`` and ``/v1/usage/*``.

A key sees only its own account; a sub-account key sees only its sub-account's requests and
spend (never the parent's wallet), and gets 403 from the per-sub-account report. Money is in
cents with up to 6 decimals (exact to the micro-cent), like ``X-Cost-Cents``.
"""

from __future__ import annotations

import time
from typing import Any

from aiohttp import web

from aigw.auth.keys import KeyInfo
from aigw.billing.pricing import MICRO_CENTS_PER_CENT
from aigw.server.appkeys import BILLING, DATABASE, SETTINGS
from aigw.server.auth import authenticate
from aigw.server.routes.common import (
    cents,
    json_response,
    ledger_settled,
    query_limit,
    query_month,
    require_parent,
    seconds,
    totals_view,
)
from aigw.store import sub_accounts, usage
from aigw.store.request_log import RequestLogEntry
from aigw.store.tables import now_ms

TOP_UPS_SHOWN = 5


async def balance(request: web.Request) -> web.Response:
    key = await authenticate(request)
    return json_response(await balance_body(request.app, key))


async def balance_body(app: web.Application, key: KeyInfo) -> dict[str, Any]:
    """The key's balance (or its sub-account's cap and spend); MCP's ``get_balance`` too."""
    db = app[DATABASE]
    await ledger_settled(app)
    now = now_ms()
    month_start = usage.month_range_ms(time.strftime("%Y-%m", time.gmtime(now / 1000)))[0]
    spent_month = await usage.spent_since(
        db, key.account_id, month_start, sub_account_id=key.sub_account_id
    )
    spent_today = await usage.spent_since(
        db, key.account_id, usage.day_start_ms(now), sub_account_id=key.sub_account_id
    )
    if key.sub_account_id is not None:
        sub = await sub_accounts.get_sub_account(db, key.account_id, key.sub_account_id)
        cap = sub.spend_cap_cents if sub is not None else None
        return _sub_account_balance(key, cap, spent_today, spent_month)
    committed, uncommitted, reserved = await app[BILLING].balance_view(key.account_id)
    settings = app[SETTINGS]
    top_ups = await usage.last_top_ups(db, key.account_id, TOP_UPS_SHOWN)
    body = {
        "object": "balance",
        "account_id": key.account_id,
        "currency": "USD",
        "balance_cents": cents(committed - uncommitted),
        "reserved_cents": cents(reserved),
        "available_cents": cents(committed - uncommitted - reserved),
        "spent_today_cents": cents(spent_today),
        "spent_this_month_cents": cents(spent_month),
        "last_topups": [
            {
                "created_at": seconds(t.created_at),
                "credits_cents": cents(t.credits_micro_cents),
                "fee_cents": cents(t.fee_micro_cents),
                "paid_cents": cents(t.paid_micro_cents),
                "note": t.note,
            }
            for t in top_ups
        ],
        "platform_fee_percent": float(settings.platform_fee_percent),
        "platform_fee_mode": settings.platform_fee_mode,
    }
    return body


def _sub_account_balance(
    key: KeyInfo, cap: int | None, spent_today: int, spent_month: int
) -> dict[str, Any]:
    """A customer's view: its own cap and spend, not the parent's wallet."""
    remaining = None if cap is None else max(0, cap * MICRO_CENTS_PER_CENT - spent_month)
    return {
        "object": "balance",
        "sub_account_id": key.sub_account_id,
        "currency": "USD",
        "spend_cap_cents": cap,
        "remaining_this_month_cents": None if remaining is None else cents(remaining),
        "spent_today_cents": cents(spent_today),
        "spent_this_month_cents": cents(spent_month),
    }


async def by_tag(request: web.Request) -> web.Response:
    key = await authenticate(request)
    month = query_month(request)
    data = await tag_totals(request.app, key, month)
    return json_response({"object": "list", "month": month, "data": data})


async def tag_totals(app: web.Application, key: KeyInfo, month: str) -> list[dict[str, Any]]:
    """The month's requests and spend per tag (the key's sub-account's only, for one)."""
    await ledger_settled(app)
    rows = await usage.by_tag(
        app[DATABASE], key.account_id, month, sub_account_id=key.sub_account_id
    )
    return [{"tag": tag, **totals_view(t)} for tag, t in rows]


async def by_sub_account(request: web.Request) -> web.Response:
    key = await authenticate(request)
    require_parent(key, "see other sub-accounts' usage")
    month = query_month(request)
    db = request.app[DATABASE]
    await ledger_settled(request.app)
    rows = await usage.by_sub_account(db, key.account_id, month)
    names = await sub_accounts.names_of(db, key.account_id) if rows else {}
    data = [
        {
            "sub_account_id": sub_id,
            "name": names.get(sub_id, (None, False))[0],
            "deleted": names.get(sub_id, (None, False))[1],
            **totals_view(t),
        }
        for sub_id, t in rows
    ]
    return json_response({"object": "list", "month": month, "data": data})


def entry_view(e: RequestLogEntry) -> dict[str, Any]:
    """One request-log row as the API shows it (``/v1/usage/recent``, ``/v1/usage/requests``):
    money in cents, times in unix seconds, ``total_tokens`` added."""
    return {
        "id": e.id,
        "client_request_id": e.client_request_id,
        "created_at": seconds(e.created_at),
        "model": e.model,
        "provider": e.provider,
        "status": e.status,
        "error_type": e.error_type,
        "tag": e.tag,
        "sub_account_id": e.sub_account_id,
        "key_id": e.key_id,
        "streamed": e.streamed,
        "byok": e.byok,
        "prompt_tokens": e.prompt_tokens,
        "completion_tokens": e.completion_tokens,
        "cached_tokens": e.cached_tokens,
        "reasoning_tokens": e.reasoning_tokens,
        "total_tokens": e.prompt_tokens + e.completion_tokens,
        "cost_cents": cents(e.cost_micro_cents),
        "charged_cents": cents(e.charged_micro_cents),
        "latency_ms": e.latency_ms,
        "ttft_ms": e.ttft_ms,
    }


async def recent(request: web.Request) -> web.Response:
    key = await authenticate(request)
    limit = query_limit(request, default=50, maximum=1000)
    data = await recent_requests(request.app, key, limit)
    return json_response({"object": "list", "data": data})


async def recent_requests(app: web.Application, key: KeyInfo, limit: int) -> list[dict[str, Any]]:
    """The key's account's (or sub-account's) latest requests, newest first."""
    entries = await usage.recent(
        app[DATABASE], key.account_id, limit=limit, sub_account_id=key.sub_account_id
    )
    return [entry_view(e) for e in entries]


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/v1/balance", balance)
    app.router.add_get("/v1/usage/by-tag", by_tag)
    app.router.add_get("/v1/usage/by-sub-account", by_sub_account)
    app.router.add_get("/v1/usage/recent", recent)
