"""Wires replays, shadow traffic and evals into the app: their routes, the ``eval:`` alias in
the router, and the background work (shadow rules poller, eval runs, the pruner of expired
request bodies and of eval runs whose process died)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from aiohttp import web

from aigw.config import Settings
from aigw.evals import store as evals_store
from aigw.evals.runner import EVALS, EvalRunner
from aigw.replays.hooks import REPLAYS, ReplayState
from aigw.replays.shadow import ShadowMirror
from aigw.routing.eval_alias import EvalAliases, RunInfo
from aigw.server.appkeys import DATABASE, ROUTER, SETTINGS
from aigw.server.routes import evals as evals_routes
from aigw.server.routes import replays as replays_routes
from aigw.store import request_bodies
from aigw.store.db import Database
from aigw.store.tables import now_ms

log = logging.getLogger("aigw.replays")
DAY_MS = 86_400_000


async def prune_once(db: Database, settings: Settings, *, now: int | None = None) -> int:
    """Delete request bodies older than the retention; fail eval runs whose process died."""
    cutoff = (now_ms() if now is None else now) - int(settings.replay_retention_days * DAY_MS)
    pruned = await request_bodies.prune(db, cutoff)
    if pruned.rows or pruned.segments:
        log.info(
            "replays: pruned %d request bodies and %d body segment files past retention",
            pruned.rows,
            pruned.segments,
        )
    stale = await evals_store.fail_stale(db)
    if stale:
        log.warning("evals: %d runs lost their process and were marked failed", stale)
    return pruned.rows + pruned.segments


async def _prune_loop(db: Database, settings: Settings) -> None:
    while True:
        try:
            await prune_once(db, settings)
        except Exception as exc:
            log.warning("replays: pruning failed (%s); retrying later", exc)
        await asyncio.sleep(max(0.05, settings.replay_prune_seconds))


def setup(app: web.Application) -> None:
    """Call after the app's main lifecycle context was appended (it needs the database)."""
    replays_routes.setup_routes(app)
    evals_routes.setup_routes(app)

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        settings, db = app[SETTINGS], app[DATABASE]
        mirror = ShadowMirror(
            app, db, settings.shadow_concurrency, max(0.5, settings.key_refresh_seconds)
        )
        await mirror.start()
        app[REPLAYS] = ReplayState(settings.replay_store_bodies, mirror)

        async def lookup(run_id: str) -> RunInfo | None:
            return await evals_store.info(db, run_id)

        aliases = EvalAliases(lookup)
        app[ROUTER].aliases = aliases
        runner = EvalRunner(app, db, aliases, settings.eval_concurrency)
        app[EVALS] = runner
        pruner = asyncio.create_task(_prune_loop(db, settings), name="aigw-replays-pruner")
        try:
            yield
        finally:
            pruner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pruner
            await runner.stop()
            await mirror.stop()
            app[ROUTER].aliases = None

    app.cleanup_ctx.append(lifecycle)
