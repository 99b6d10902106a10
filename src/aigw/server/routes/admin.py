"""Admin API: accounts and keys (the CLI offers the same operations)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import orjson
from aiohttp import web

from aigw.errors import InvalidRequest
from aigw.replays.hooks import REPLAYS
from aigw.server.appkeys import DATABASE, KEYS
from aigw.server.auth import require_admin
from aigw.store import accounts, key_rotation, keys
from aigw.store import request_log as request_log_store


def _json(data: Any, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(data), status=status, content_type="application/json")


async def _body(request: web.Request) -> dict[str, Any]:
    raw = await request.read()
    if not raw:
        return {}
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise InvalidRequest("Request body is not valid JSON.", param="body") from None
    if not isinstance(data, dict):
        raise InvalidRequest("Request body must be a JSON object.", param="body")
    return data


def _string(data: dict[str, Any], name: str, *, required: bool) -> str | None:
    value = data.get(name)
    if value is None:
        if required:
            raise InvalidRequest(f"'{name}' is required.", param=name)
        return None
    if not isinstance(value, str) or not value:
        raise InvalidRequest(f"'{name}' must be a non-empty string.", param=name)
    return value


async def create_account(request: web.Request) -> web.Response:
    require_admin(request)
    data = await _body(request)
    name = _string(data, "name", required=True)
    assert name is not None
    account = await accounts.create_account(request.app[DATABASE], name)
    return _json(asdict(account), status=201)


def _limit(data: dict[str, Any], name: str) -> int | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise InvalidRequest(f"'{name}' must be a non-negative integer or null.", param=name)
    return value


async def set_account_limits(request: web.Request) -> web.Response:
    """Default limits for the account's keys: null = the gateway's default, 0 = none."""
    require_admin(request)
    data = await _body(request)
    extra: dict[str, Any] = {}
    if "store_bodies" in data:  # keep request bodies for replays (false: opted out)
        store_bodies = data["store_bodies"]
        if not isinstance(store_bodies, bool):
            raise InvalidRequest("'store_bodies' must be a boolean.", param="store_bodies")
        await accounts.set_account_store_bodies(
            request.app[DATABASE], request.match_info["account"], store_bodies
        )
        extra["store_bodies"] = store_bodies
        replays = request.app.get(REPLAYS)
        if replays is not None:  # this process at once; other replicas within seconds
            await replays.mirror.refresh()
        if not any(k in data for k in ("rate_limit_rpm", "rate_limit_tpm")):
            found = await accounts.require_account(
                request.app[DATABASE], request.match_info["account"]
            )
            return _json({**asdict(found), **extra})
    account = await accounts.set_account_limits(
        request.app[DATABASE],
        request.match_info["account"],
        rpm=_limit(data, "rate_limit_rpm"),
        tpm=_limit(data, "rate_limit_tpm"),
    )
    body = {**asdict(account), **{k: data.get(k) for k in ("rate_limit_rpm", "rate_limit_tpm")}}
    return _json({**body, **extra})


async def list_accounts(request: web.Request) -> web.Response:
    require_admin(request)
    found = await accounts.list_accounts(request.app[DATABASE])
    return _json({"object": "list", "data": [asdict(a) for a in found]})


async def create_key(request: web.Request) -> web.Response:
    require_admin(request)
    data = await _body(request)
    account = _string(data, "account", required=True)
    assert account is not None
    name = _string(data, "name", required=False)
    record, plaintext = await keys.create_key(
        request.app[DATABASE],
        account,
        name,
        rate_limit_rpm=_limit(data, "rate_limit_rpm"),
        rate_limit_tpm=_limit(data, "rate_limit_tpm"),
    )
    return _json({**asdict(record), "key": plaintext}, status=201)


async def list_keys(request: web.Request) -> web.Response:
    require_admin(request)
    account = request.query.get("account")
    found = await keys.list_keys(request.app[DATABASE], account)
    return _json({"object": "list", "data": [asdict(k) for k in found]})


async def revoke_key(request: web.Request) -> web.Response:
    require_admin(request)
    record = await keys.revoke_key(request.app[DATABASE], request.match_info["key_id"])
    request.app[KEYS].forget(record.id)
    return _json(asdict(record))


async def rotate_key(request: web.Request) -> web.Response:
    """A new key with the old one's name, owner and limits; the old one is revoked."""
    require_admin(request)
    old, new, plaintext = await key_rotation.rotate_key(
        request.app[DATABASE], request.match_info["key_id"]
    )
    request.app[KEYS].forget(old.id)
    return _json({**asdict(new), "key": plaintext, "rotated_from": old.id}, status=201)


async def list_requests(request: web.Request) -> web.Response:
    require_admin(request)
    try:
        limit = min(1000, max(1, int(request.query.get("limit", "100"))))
    except ValueError:
        raise InvalidRequest("'limit' must be an integer.", param="limit") from None
    entries = await request_log_store.recent(
        request.app[DATABASE], limit=limit, account_id=request.query.get("account_id")
    )
    return _json({"object": "list", "data": [asdict(e) for e in entries]})


def setup_routes(app: web.Application) -> None:
    app.router.add_post("/admin/accounts", create_account)
    app.router.add_get("/admin/accounts", list_accounts)
    app.router.add_patch("/admin/accounts/{account}", set_account_limits)
    app.router.add_post("/admin/keys", create_key)
    app.router.add_get("/admin/keys", list_keys)
    app.router.add_delete("/admin/keys/{key_id}", revoke_key)
    app.router.add_post("/admin/keys/{key_id}/revoke", revoke_key)
    app.router.add_get("/admin/requests", list_requests)
    app.router.add_post("/admin/keys/{key_id}/rotate", rotate_key)
