"""``POST /v1/replays``: re-run a past request of the caller's account on another model.

The source is the request log row (model, cost, latency) plus its stored body and output
(store/request_bodies.py). The target call goes through ``runner.run_chat`` (billed to the
account, logged as its own request). ``shadow: true`` runs it in the background the way live
shadow traffic runs: the call answers at once with the pending record.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

import orjson

from aigw.errors import Conflict, ModelNotFound, NotFound
from aigw.replays import store
from aigw.replays.runner import RunResult, run_chat
from aigw.replays.similarity import similarity
from aigw.routing.resolve import resolve_model
from aigw.server.appkeys import CATALOG, DATABASE, REQUEST_LOG, SETTINGS
from aigw.store import request_bodies
from aigw.store import request_log as request_log_store
from aigw.store.accounts import get_account_store_bodies
from aigw.store.tables import now_ms

if TYPE_CHECKING:
    from aiohttp import web

    from aigw.auth.keys import KeyInfo

log = logging.getLogger("aigw.replays")
DAY_MS = 86_400_000


class CallRefused(Exception):
    """The target call failed for a reason of the request's own (4xx): answered as is."""

    def __init__(self, result: RunResult) -> None:
        super().__init__(result.error)
        self.result = result


def outcome(result: RunResult, source_output: str | None) -> dict[str, Any]:
    """The target half of a replay record, with the similarity of the two outputs."""
    score = None
    if result.ok and source_output is not None and result.text is not None:
        score = similarity(source_output, result.text)
    return {
        "target_request_id": result.request_id,
        "status": "completed" if result.ok else "failed",
        "error": result.error,
        "cost_target_micro_cents": result.cost,
        "latency_target_ms": result.latency_ms,
        "score_delta": score,
        "target_output": result.text,
    }


async def _source(app: web.Application, key: KeyInfo, request_id: str) -> Any:
    db = app[DATABASE]
    entry = await request_log_store.get(db, request_id)
    if entry is None:  # maybe still in this process's log buffer
        await app[REQUEST_LOG].flush()
        entry = await request_log_store.get(db, request_id)
    if entry is None or entry.account_id != key.account_id:
        raise NotFound(f"No request {request_id!r} in this account.", param="source_request_id")
    return entry


async def _body(app: web.Application, key: KeyInfo, entry: Any) -> request_bodies.StoredBody:
    settings = app[SETTINGS]
    stored = await request_bodies.load(app[DATABASE], entry.id)
    if stored is None:  # maybe in this process's buffer, or in a flush under way: wait for it
        await app[REQUEST_LOG].flush()
        stored = await request_bodies.load(app[DATABASE], entry.id)
    if stored is not None:
        return stored
    if not await get_account_store_bodies(app[DATABASE], key.account_id):
        raise Conflict(
            "This account opted out of keeping request bodies, so its requests cannot be replayed.",
            param="source_request_id",
        )
    if not settings.replay_store_bodies:
        raise Conflict(
            "The gateway does not keep request bodies (replay_store_bodies is off).",
            param="source_request_id",
        )
    if entry.created_at < now_ms() - settings.replay_retention_days * DAY_MS:
        raise NotFound(
            f"The body of request {entry.id!r} expired (kept "
            f"{settings.replay_retention_days:g} days).",
            param="source_request_id",
        )
    raise Conflict(
        f"No body was kept for request {entry.id!r} (only chat completions are kept).",
        param="source_request_id",
    )


def check_model(app: web.Application, name: str, param: str) -> None:
    try:
        resolve_model(app[CATALOG], name)
    except ModelNotFound as err:
        raise ModelNotFound(err.message, param=param) from None


async def replay(
    app: web.Application,
    key: KeyInfo,
    source_request_id: str,
    target_model: str,
    *,
    shadow: bool,
    tasks: set[asyncio.Task[None]],
) -> Any:
    """Run (or start, for shadow) the replay; returns its stored row."""
    check_model(app, target_model, "target_model")
    entry = await _source(app, key, source_request_id)
    stored = await _body(app, key, entry)
    body = orjson.loads(stored.request)
    body["model"] = target_model
    source = {
        "account_id": key.account_id,
        "source_request_id": entry.id,
        "source_model": entry.model,
        "target_model": target_model,
        "shadow": shadow,
        "cost_source_micro_cents": entry.cost_micro_cents,
        "latency_source_ms": round(entry.latency_ms),
        "source_output": stored.output,
    }
    db = app[DATABASE]
    if shadow:
        row = await store.create(db, {**source, "status": "pending"})

        async def finish() -> None:
            try:
                result = await run_chat(app, key, body, tag=entry.tag)
                await store.complete(db, row.id, outcome(result, stored.output))
            except Exception:
                log.exception("shadow replay %s failed in the gateway", row.id)
                await store.complete(db, row.id, {"status": "failed", "error": "gateway error"})

        task = asyncio.create_task(finish(), name=f"aigw-replay-{row.id}")
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        return row
    result = await run_chat(app, key, body, tag=entry.tag)
    if not result.ok and result.status < 500:
        raise CallRefused(result)
    return await store.create(db, {**source, **outcome(result, stored.output)})
