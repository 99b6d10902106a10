"""``/v1/keys``: an account manages its own API keys with one of them (the dashboard's Keys).

Creating and revoking keys was admin-only (``/admin/keys``); a signed-in customer needs it
too, scoped to the caller's account. Only parent-account keys may do this, and only to the
account's own keys: a sub-account key gets 403 (its keys are managed through
``/v1/sub-accounts``), and a sub-account's key or another account's is as unknown as a
missing one (404). A revoked key stops working at once on this process and on the others
within ``key_refresh_seconds``; revoking the key making the call is allowed (it is how a
leaked key is retired) and the answer says so.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from aigw.auth.keys import KeyInfo
from aigw.errors import InvalidRequest, NotFound
from aigw.server.appkeys import DATABASE, KEYS, WEBHOOKS
from aigw.server.auth import authenticate
from aigw.server.routes.common import (
    json_response,
    read_object,
    require_parent,
    seconds,
    text_field,
)
from aigw.store import keys as store
from aigw.store.key_rotation import rotate_key
from aigw.store.keys import KEY_NAME_MAX, KeyRecord

MAX_ACTIVE_KEYS = 100


def view(record: KeyRecord, caller: KeyInfo) -> dict[str, Any]:
    return {
        "object": "api_key",
        "id": record.id,
        "name": record.name,
        "prefix": record.prefix,
        "last4": record.last4,
        "created_at": seconds(record.created_at),
        "revoked_at": seconds(record.revoked_at),
        "current": record.id == caller.key_id,
    }


async def _parent(request: web.Request) -> KeyInfo:
    key = await authenticate(request)
    require_parent(key, "manage the account's API keys")
    return key


async def create(request: web.Request) -> web.Response:
    caller = await _parent(request)
    data = await read_object(request, ("name",))
    name = text_field(data, "name", max_len=KEY_NAME_MAX)
    db = request.app[DATABASE]
    active = await store.list_keys(db, caller.account_id, include_revoked=False, parent_only=True)
    if len(active) >= MAX_ACTIVE_KEYS:
        raise InvalidRequest(
            f"An account may hold at most {MAX_ACTIVE_KEYS} active keys; revoke one first."
        )
    record, plaintext = await store.create_key(db, caller.account_id, name)
    return json_response({**view(record, caller), "key": plaintext}, status=201)


async def list_all(request: web.Request) -> web.Response:
    caller = await _parent(request)
    found = await store.list_keys(request.app[DATABASE], caller.account_id, parent_only=True)
    newest_first = sorted(found, key=lambda r: (r.revoked_at is not None, -r.created_at))
    return json_response({"object": "list", "data": [view(r, caller) for r in newest_first]})


async def revoke(request: web.Request) -> web.Response:
    caller = await _parent(request)
    key_id = request.match_info["id"]
    db = request.app[DATABASE]
    own = await store.list_keys(db, caller.account_id, parent_only=True)
    if key_id not in {r.id for r in own}:
        raise NotFound(f"No API key {key_id!r}.", param="id")
    record = await store.revoke_key(db, key_id)
    request.app[KEYS].forget(record.id)
    return json_response({**view(record, caller), "revoked": True})


async def rotate(request: web.Request) -> web.Response:
    """A new key replacing this one (same name), which is revoked at the same moment."""
    caller = await _parent(request)
    key_id = request.match_info["id"]
    db = request.app[DATABASE]
    own = await store.list_keys(db, caller.account_id, parent_only=True)
    if key_id not in {r.id for r in own}:
        raise NotFound(f"No API key {key_id!r}.", param="id")
    old, new, plaintext = await rotate_key(db, key_id)
    request.app[KEYS].forget(old.id)
    request.app[WEBHOOKS].wake()
    return json_response({**view(new, caller), "key": plaintext, "rotated_from": old.id}, 201)


def setup_routes(app: web.Application) -> None:
    app.router.add_post("/v1/keys", create)
    app.router.add_get("/v1/keys", list_all)
    app.router.add_delete("/v1/keys/{id}", revoke)
    app.router.add_post("/v1/keys/{id}/rotate", rotate)
