"""Wires async work into the app: routes for jobs, files, webhooks and batches, and the
background workers (jobs, batches, webhook deliveries), started after the database and
billing are up."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping

from aiohttp import web

from aigw.batches.worker import BatchWorker
from aigw.files.store import FileStore
from aigw.jobs.queue_provider import QueueProviders
from aigw.jobs.worker import JobWorker
from aigw.server import appkeys
from aigw.server.routes import alerts, apidocs, batches, files, jobs, mcp, mcp_sse, webhooks
from aigw.webhooks.alerts import AlertWatcher, Thresholds, parse_thresholds, usd_to_micro_cents
from aigw.webhooks.delivery import Deliverer


def setup(app: web.Application, environ: Mapping[str, str]) -> None:
    """Call after the app's main lifecycle context was appended (it needs the database)."""
    jobs.setup_routes(app)
    files.setup_routes(app)
    webhooks.setup_routes(app)
    batches.setup_routes(app)
    mcp.setup_routes(app)
    mcp_sse.setup_routes(app)
    apidocs.setup_routes(app)
    alerts.setup_routes(app)

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        settings = app[appkeys.SETTINGS]
        db = app[appkeys.DATABASE]
        store = FileStore.from_settings(settings)
        await store.start(db)
        deliverer = Deliverer(
            db,
            allow_private=settings.webhook_allow_private,
            retry_base_seconds=settings.webhook_retry_base_seconds,
            poll_seconds=settings.job_poll_seconds,
        )
        providers = QueueProviders(environ)
        worker = JobWorker(
            db,
            providers,
            store,
            app[appkeys.BILLING],
            deliverer,
            poll_seconds=settings.job_poll_seconds,
            catalog=app[appkeys.CATALOG],
        )
        app[appkeys.FILES] = store
        app[appkeys.WEBHOOKS] = deliverer
        app[appkeys.JOBS] = worker
        batch_worker = BatchWorker(app, deliverer, poll_seconds=settings.job_poll_seconds)
        app[appkeys.BATCHES] = batch_worker
        defaults = Thresholds(
            usd_to_micro_cents(settings.balance_low_threshold),
            parse_thresholds(settings.usage_alert_thresholds),
        )
        watcher = AlertWatcher(
            db, defaults, poll_seconds=settings.job_poll_seconds, wake=deliverer.wake
        )
        app[appkeys.ALERTS] = watcher
        app[appkeys.BILLING].on_change = watcher.touched
        await deliverer.start()
        await worker.start()
        await batch_worker.start()
        await watcher.start()
        try:
            yield
        finally:
            app[appkeys.BILLING].on_change = None
            await watcher.stop()
            await batch_worker.stop()
            await worker.stop()
            await deliverer.stop()
            await providers.close()
            await store.close()

    app.cleanup_ctx.append(lifecycle)
