"""The calling account's request log with filters, one request in detail, and usage totals.

``/v1/usage/recent`` lists the newest rows only; the dashboard's request log needs filters
(model, status, tag), paging and a detail view, and its charts need per-day and per-model
totals for the whole account. Scoped like ``/v1/usage/*``: a sub-account key sees only its
own sub-account's requests.
"""

from __future__ import annotations

from aiohttp import web

from aigw.errors import InvalidRequest, NotFound
from aigw.server.appkeys import CATALOG, DATABASE
from aigw.server.auth import authenticate
from aigw.server.routes.common import (
    breakdown_view,
    cents,
    json_response,
    ledger_settled,
    query_limit,
    seconds,
)
from aigw.server.routes.sub_accounts import parse_window
from aigw.server.routes.usage import entry_view
from aigw.store import request_search, usage
from aigw.store.tables import MODEL_MAX, TAG_MAX, now_ms


def _status(raw: str | None) -> request_search.StatusFilter | None:
    """``?status=`` as ``ok`` (below 400), ``error`` (400 and up) or an exact code."""
    if raw is None or raw == "":
        return None
    if raw == "ok":
        return request_search.StatusFilter(errors=False)
    if raw == "error":
        return request_search.StatusFilter(errors=True)
    if raw.isdigit() and 100 <= int(raw) <= 599:
        return request_search.StatusFilter(exact=int(raw))
    raise InvalidRequest(
        "'status' must be 'ok', 'error' or an HTTP status code like 402.", param="status"
    )


def _text(request: web.Request, name: str, max_len: int) -> str | None:
    value = request.query.get(name)
    if value is None or value == "":
        return None
    if len(value) > max_len:
        raise InvalidRequest(f"'{name}' must be at most {max_len} characters.", param=name)
    return value


async def list_requests(request: web.Request) -> web.Response:
    key = await authenticate(request)
    limit = query_limit(request, default=50, maximum=1000)
    entries = await request_search.search(
        request.app[DATABASE],
        key.account_id,
        sub_account_id=key.sub_account_id,
        model=_text(request, "model", MODEL_MAX),
        status=_status(request.query.get("status")),
        tag=_text(request, "tag", TAG_MAX),
        before=_text(request, "before", 128),
        limit=limit,
    )
    data = [entry_view(e) for e in entries]
    return json_response(
        {"object": "list", "data": data, "has_more": len(data) == limit, "limit": limit}
    )


async def get_request(request: web.Request) -> web.Response:
    key = await authenticate(request)
    request_id = request.match_info["id"]
    db = request.app[DATABASE]
    await ledger_settled(request.app)
    entry = await request_search.get(
        db, key.account_id, request_id, sub_account_id=key.sub_account_id
    )
    if entry is None:
        raise NotFound(f"No request {request_id!r} in this account's log.", param="id")
    model = request.app[CATALOG].get(entry.model or "")
    ledger = await request_search.ledger_for_request(db, key.account_id, request_id)
    body = {
        "object": "request",
        **entry_view(entry),
        "model_name": model.name if model else None,
        "cost_usd": entry.cost_micro_cents / 100_000_000,
        "ledger": [
            {
                "kind": line.kind,
                "amount_cents": cents(line.amount_micro_cents),
                "fee_cents": cents(line.fee_micro_cents),
                "created_at": seconds(line.created_at),
                "tag": line.tag,
                "note": line.note,
            }
            for line in ledger
        ],
    }
    return json_response(body)


async def summary(request: web.Request) -> web.Response:
    key = await authenticate(request)
    window, window_ms = parse_window(request.query.get("window"))
    since = now_ms() - window_ms
    await ledger_settled(request.app)
    found = await usage.breakdown(
        request.app[DATABASE], key.account_id, since_ms=since, sub_account_id=key.sub_account_id
    )
    body = {
        "object": "usage.summary",
        "window": window,
        "since": seconds(since),
        **breakdown_view(found),
    }
    return json_response(body)


def setup_routes(app: web.Application) -> None:
    app.router.add_get("/v1/usage/requests", list_requests)
    app.router.add_get("/v1/usage/requests/{id}", get_request)
    app.router.add_get("/v1/usage/summary", summary)
