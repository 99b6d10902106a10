"""Application factory and lifecycle: what starts, in which order, and what stops."""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator, Mapping
from pathlib import Path

import orjson
from aiohttp import web

from aigw.auth.cache import KeyCache
from aigw.auth.secretbox import default_key_file, load_box
from aigw.billing.service import Billing
from aigw.catalog.loader import load_catalog
from aigw.config import Settings
from aigw.jobs.lifecycle import setup as setup_async_work
from aigw.limits.service import Limits
from aigw.providers.byok import ByokKeys
from aigw.providers.registry import ProviderRegistry, load_adapters
from aigw.replays.lifecycle import setup as setup_replays
from aigw.routing.health import Health
from aigw.routing.router import Router
from aigw.server import appkeys
from aigw.server.cache import setup as setup_response_cache
from aigw.server.dispatch import install as install_dispatcher
from aigw.server.middleware import gateway_middleware
from aigw.server.observe import Observer
from aigw.server.routes import (
    account_keys,
    admin,
    budgets,
    chat,
    health,
    media,
    messages,
    models,
    provider_keys,
    sub_accounts,
    usage,
    usage_log,
    wallet_admin,
)
from aigw.store.db import Database
from aigw.store.instances import Registration
from aigw.store.meta import ensure_admin_key
from aigw.store.request_log import RequestLogWriter
from aigw.web import setup_routes as setup_web_routes

log = logging.getLogger("aigw")

# Set by the CLI so it can print a freshly generated admin key once.
GENERATED_ADMIN_KEY: web.AppKey[list[str]] = web.AppKey("generated_admin_key", list)


async def healthz(request: web.Request) -> web.Response:
    body = {"status": "ok", "pid": os.getpid()}  # which worker answered (--workers N)
    return web.Response(body=orjson.dumps(body), content_type="application/json")


def create_app(settings: Settings, *, environ: Mapping[str, str] | None = None) -> web.Application:
    """Build the app; I/O (database, migrations, caches) happens in its startup context."""
    app = web.Application(
        middlewares=[gateway_middleware],
        client_max_size=settings.max_body_bytes,
        handler_args={"max_field_size": 16384},
    )
    install_dispatcher(app)  # exact API paths resolve with one dict lookup (server/dispatch.py)
    catalog = load_catalog(settings.catalog_file)
    app[appkeys.SETTINGS] = settings
    app[appkeys.CATALOG] = catalog
    app[appkeys.PROVIDERS] = ProviderRegistry(catalog, settings, load_adapters(), environ)
    deployment_health = Health.from_settings(settings)
    app[appkeys.ROUTER] = Router(catalog, app[appkeys.PROVIDERS], deployment_health, settings)
    app[appkeys.OBSERVER] = Observer(
        deployment_health, metrics=settings.metrics_enabled, log_requests=settings.access_log
    )
    app[GENERATED_ADMIN_KEY] = []
    app.cleanup_ctx.append(_lifecycle)
    app.router.add_get("/healthz", healthz)
    health.setup_routes(app)
    chat.setup_routes(app)
    messages.setup_routes(app)
    models.setup_routes(app)
    admin.setup_routes(app)
    wallet_admin.setup_routes(app)
    provider_keys.setup_routes(app)
    sub_accounts.setup_routes(app)
    budgets.setup_routes(app)
    usage.setup_routes(app)
    account_keys.setup_routes(app)
    usage_log.setup_routes(app)
    media.setup_routes(app)
    setup_web_routes(app)
    setup_async_work(app, os.environ if environ is None else environ)
    setup_replays(app)
    setup_response_cache(app)
    return app


async def _lifecycle(app: web.Application) -> AsyncIterator[None]:
    settings = app[appkeys.SETTINGS]
    db = Database.from_url(settings.database_url)
    await db.migrate()
    registration = Registration(db, shared=bool(settings.redis_url))
    await registration.start()  # refuses a second process without a shared store
    generated = await ensure_admin_key(db, settings.admin_key)
    if generated:
        app[GENERATED_ADMIN_KEY].append(generated)
    keys = KeyCache(db, refresh_seconds=settings.key_refresh_seconds)
    await keys.start()
    writer = RequestLogWriter(db, flush_seconds=settings.log_flush_seconds)
    await writer.start()
    billing = Billing(
        db,
        enabled=settings.billing_enabled,
        fee_percent=settings.platform_fee_percent,
        fee_mode=settings.platform_fee_mode,
        byok_fee_per_1m=settings.byok_fee_per_1m,
        refresh_seconds=settings.key_refresh_seconds,
        redis_url=settings.redis_url,
        redis_timeout=settings.redis_timeout_ms / 1000,
        hold_ttl=settings.upstream_total_timeout + 60,
        charge_journal=settings.charge_journal,
    )
    await billing.start()
    byok = ByokKeys(
        db,
        load_box(
            settings.secret_key,
            Path(settings.secret_key_file or default_key_file(settings.database_url)),
        ),
        refresh_seconds=settings.key_refresh_seconds,
    )
    await byok.start()
    app[appkeys.BYOK] = byok
    limits = Limits.from_settings(
        settings.redis_url,
        rpm=settings.rate_limit_rpm,
        tpm=settings.rate_limit_tpm,
        fail_open=settings.rate_limit_fail_open,
        timeout=settings.redis_timeout_ms / 1000,
    )
    app[appkeys.LIMITS] = limits
    app[appkeys.DATABASE] = db
    app[appkeys.KEYS] = keys
    app[appkeys.REQUEST_LOG] = writer
    app[appkeys.BILLING] = billing
    try:
        yield
    finally:
        await app[appkeys.PROVIDERS].close()
        await limits.close()
        await byok.stop()
        await billing.stop()
        await writer.close()
        await keys.stop()
        await registration.stop()
        await db.close()
