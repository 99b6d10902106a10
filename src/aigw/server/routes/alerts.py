"""``/v1/alerts``: the account's thresholds for the ``balance.low`` and ``usage.threshold``
webhook events (null = the gateway's default settings). Parent-account keys only."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from aiohttp import web

from aigw.billing.pricing import micro_cents_to_usd
from aigw.errors import InvalidRequest
from aigw.server.appkeys import ALERTS, DATABASE
from aigw.server.auth import authenticate
from aigw.server.routes.common import json_response, read_object, require_parent
from aigw.webhooks import alerts

MAX_USD = Decimal(10_000_000)


def _usd(value: Any, param: str, *, zero_ok: bool) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise InvalidRequest(f"'{param}' must be a USD amount.", param=param)
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise InvalidRequest(f"'{param}' must be a USD amount.", param=param) from None
    low_ok = amount >= 0 if zero_ok else amount > 0
    if not amount.is_finite() or not low_ok or amount > MAX_USD:
        raise InvalidRequest(f"'{param}' is out of range.", param=param)
    return alerts.usd_to_micro_cents(amount)


async def _view(request: web.Request, account_id: str) -> dict[str, Any]:
    low, usage = await alerts.account_thresholds(request.app[DATABASE], account_id)
    effective = await request.app[ALERTS].thresholds(account_id)
    return {
        "object": "alert_settings",
        "balance_low_threshold": None if low is None else micro_cents_to_usd(low),
        "usage_thresholds": None if usage is None else [micro_cents_to_usd(u) for u in usage],
        "effective": {
            "balance_low_threshold": micro_cents_to_usd(effective.balance_low),
            "usage_thresholds": [micro_cents_to_usd(u) for u in effective.usage],
        },
    }


async def get_alerts(request: web.Request) -> web.Response:
    key = await authenticate(request)
    require_parent(key, "read the account's alerts")
    return json_response(await _view(request, key.account_id))


async def set_alerts(request: web.Request) -> web.Response:
    """Set both thresholds; a field left out or null falls back to the gateway default."""
    key = await authenticate(request)
    require_parent(key, "change the account's alerts")
    data = await read_object(request, ("balance_low_threshold", "usage_thresholds"))
    raw_low = data.get("balance_low_threshold")
    low = None if raw_low is None else _usd(raw_low, "balance_low_threshold", zero_ok=True)
    raw_usage = data.get("usage_thresholds")
    usage: list[int] | None = None
    if raw_usage is not None:
        if not isinstance(raw_usage, list) or len(raw_usage) > alerts.MAX_THRESHOLDS:
            raise InvalidRequest(
                f"'usage_thresholds' must be a list of at most {alerts.MAX_THRESHOLDS} amounts.",
                param="usage_thresholds",
            )
        usage = sorted({_usd(v, "usage_thresholds", zero_ok=False) for v in raw_usage})
    db = request.app[DATABASE]
    await alerts.save_thresholds(db, key.account_id, low, usage)
    request.app[ALERTS].touched(key.account_id)  # a new threshold may already be crossed
    return json_response(await _view(request, key.account_id))


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/v1/alerts", get_alerts)
    app.router.add_put("/v1/alerts", set_alerts)
