"""Admin API for money: top-ups and adjustments (``aigw topup`` does the same)."""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web

from aigw.billing import ledger
from aigw.billing.pricing import micro_cents_to_usd
from aigw.errors import InvalidRequest
from aigw.server.appkeys import BILLING, DATABASE, SETTINGS
from aigw.server.auth import require_admin
from aigw.server.routes.common import ledger_settled


async def _body(request: web.Request) -> dict[str, Any]:
    try:
        data = orjson.loads(await request.read() or b"{}")
    except orjson.JSONDecodeError:
        raise InvalidRequest("Request body is not valid JSON.", param="body") from None
    if not isinstance(data, dict):
        raise InvalidRequest("Request body must be a JSON object.", param="body")
    return data


def _note(data: dict[str, Any]) -> str | None:
    note = data.get("note")
    if note is not None and (not isinstance(note, str) or len(note) > 500):
        raise InvalidRequest("'note' must be a string of at most 500 characters.", param="note")
    return note


async def top_up(request: web.Request) -> web.Response:
    require_admin(request)
    data = await _body(request)
    if "amount" not in data:
        raise InvalidRequest("'amount' (USD of credits) is required.", param="amount")
    amount = ledger.usd_to_micro_cents(data["amount"])
    settings = request.app[SETTINGS]
    await ledger_settled(request.app)  # the balance answered includes the charges answered
    state, fee = await ledger.top_up(
        request.app[DATABASE],
        request.match_info["account"],
        amount,
        fee_percent=settings.platform_fee_percent,
        fee_mode=settings.platform_fee_mode,
        note=_note(data),
    )
    request.app[BILLING].wallets.apply(state)
    body = {
        "account_id": state.account_id,
        "credits_usd": micro_cents_to_usd(amount),
        "fee_usd": micro_cents_to_usd(fee),
        "paid_usd": micro_cents_to_usd(amount + fee),
        "balance_usd": micro_cents_to_usd(state.balance_micro_cents),
    }
    return web.Response(body=orjson.dumps(body), status=201, content_type="application/json")


async def adjust(request: web.Request) -> web.Response:
    require_admin(request)
    data = await _body(request)
    raw = str(data.get("amount", "")).strip()
    negative = raw.startswith("-")
    amount = ledger.usd_to_micro_cents(raw.lstrip("-"))
    note = _note(data)
    if not note:
        raise InvalidRequest("'note' is required: say why the balance is adjusted.", param="note")
    await ledger_settled(request.app)  # the balance answered includes the charges answered
    state = await ledger.adjust(
        request.app[DATABASE], request.match_info["account"], -amount if negative else amount, note
    )
    request.app[BILLING].wallets.apply(state)
    body = {
        "account_id": state.account_id,
        "balance_usd": micro_cents_to_usd(state.balance_micro_cents),
    }
    return web.Response(body=orjson.dumps(body), status=201, content_type="application/json")


def setup_routes(app: web.Application) -> None:
    app.router.add_post("/admin/accounts/{account}/topup", top_up)
    app.router.add_post("/admin/accounts/{account}/adjustments", adjust)
