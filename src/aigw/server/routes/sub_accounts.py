"""``/v1/sub-accounts``: per-customer keys under a monthly spend cap, and their usage.

Managed with a key of the parent account; a sub-account key gets 403 here, and another
account's sub-accounts are as unknown as missing ones (404). Billing learns of a new cap at
once in this process (other processes within ``key_refresh_seconds``); deleting revokes the
keys and drops them from this process's key cache before answering.
"""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from aigw.auth.keys import KeyInfo
from aigw.billing.controls import SubAccountInfo
from aigw.errors import InvalidRequest, NotFound
from aigw.server.appkeys import BILLING, DATABASE, KEYS
from aigw.server.auth import authenticate
from aigw.server.routes.common import (
    MAX_CENTS,
    MAX_INT32,
    breakdown_view,
    count_field,
    json_response,
    ledger_settled,
    read_object,
    require_parent,
    seconds,
    text_field,
)
from aigw.store import sub_accounts as store
from aigw.store import usage
from aigw.store.tables import TAG_MAX, now_ms

_FIELDS = ("name", "external_ref", "spend_cap_cents", "rate_limit_rpm", "default_tag")
_WINDOW_RE = re.compile(r"([1-9][0-9]{0,3})([hd])")
_MAX_WINDOW_MS = 400 * usage.DAY_MS


def view(sub: store.SubAccount) -> dict[str, Any]:
    """The reference API's SubAccount record."""
    return {
        "object": "sub_account",
        "id": sub.id,
        "name": sub.name,
        "external_ref": sub.external_ref,
        "spend_cap_cents": sub.spend_cap_cents,
        "rate_limit_rpm": sub.rate_limit_rpm,
        "default_tag": sub.default_tag,
        "created_at": seconds(sub.created_at),
    }


async def _parent(request: web.Request) -> KeyInfo:
    key = await authenticate(request)
    require_parent(key, "manage sub-accounts")
    return key


async def _find(request: web.Request, key: KeyInfo) -> store.SubAccount:
    sub_id = request.match_info["id"]
    found = await store.get_sub_account(request.app[DATABASE], key.account_id, sub_id)
    if found is None:
        raise NotFound(f"No sub-account {sub_id!r}.", param="id")
    return found


async def create(request: web.Request) -> web.Response:
    key = await _parent(request)
    data = await read_object(request, _FIELDS)
    name = text_field(data, "name", max_len=store.NAME_MAX, required=True)
    assert name is not None
    sub, _, plaintext = await store.create_sub_account(
        request.app[DATABASE],
        key.account_id,
        name=name,
        external_ref=text_field(data, "external_ref", max_len=store.EXTERNAL_REF_MAX),
        spend_cap_cents=count_field(data, "spend_cap_cents", maximum=MAX_CENTS),
        rate_limit_rpm=count_field(data, "rate_limit_rpm", maximum=MAX_INT32),
        default_tag=text_field(data, "default_tag", max_len=TAG_MAX),
    )
    request.app[BILLING].remember_sub_account(
        SubAccountInfo(
            sub.id,
            sub.account_id,
            sub.name,
            sub.spend_cap_cents,
            sub.rate_limit_rpm,
            sub.default_tag,
        )
    )
    return json_response({**view(sub), "key": plaintext}, status=201)


async def list_all(request: web.Request) -> web.Response:
    key = await _parent(request)
    found = await store.list_sub_accounts(request.app[DATABASE], key.account_id)
    return json_response({"object": "list", "data": [view(s) for s in found]})


async def get(request: web.Request) -> web.Response:
    key = await _parent(request)
    return json_response(view(await _find(request, key)))


async def delete(request: web.Request) -> web.Response:
    key = await _parent(request)
    sub_id = request.match_info["id"]
    done = await store.delete_sub_account(request.app[DATABASE], key.account_id, sub_id)
    if done is None:
        raise NotFound(f"No sub-account {sub_id!r}.", param="id")
    sub, key_ids = done
    keys = request.app[KEYS]
    for key_id in key_ids:
        keys.forget(key_id)
    request.app[BILLING].forget_sub_account(sub.id)
    return json_response({**view(sub), "deleted": True, "revoked_keys": len(key_ids)})


def parse_window(raw: str | None) -> tuple[str, int]:
    """``?window=`` as (text, milliseconds): ``24h``, ``7d``, ``30d`` (the default)."""
    text = raw or "30d"
    match = _WINDOW_RE.fullmatch(text)
    if match is None:
        raise InvalidRequest(
            "'window' must be a number of hours or days, like 24h, 7d or 30d.", param="window"
        )
    unit_ms = 3_600_000 if match.group(2) == "h" else usage.DAY_MS
    ms = int(match.group(1)) * unit_ms
    if ms > _MAX_WINDOW_MS:
        raise InvalidRequest("'window' may be at most 400d.", param="window")
    return text, ms


async def sub_account_usage(request: web.Request) -> web.Response:
    key = await _parent(request)
    window, window_ms = parse_window(request.query.get("window"))
    sub = await _find(request, key)
    since = now_ms() - window_ms
    await ledger_settled(request.app)
    found = await usage.breakdown(
        request.app[DATABASE], key.account_id, since_ms=since, sub_account_id=sub.id
    )
    body = {
        "object": "sub_account.usage",
        "sub_account_id": sub.id,
        "window": window,
        "since": seconds(since),
        **breakdown_view(found),
    }
    return json_response(body)


def setup_routes(app: web.Application) -> None:
    app.router.add_post("/v1/sub-accounts", create)
    app.router.add_get("/v1/sub-accounts", list_all)
    app.router.add_get("/v1/sub-accounts/{id}", get)
    app.router.add_delete("/v1/sub-accounts/{id}", delete)
    app.router.add_get("/v1/sub-accounts/{id}/usage", sub_account_usage)
