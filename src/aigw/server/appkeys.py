"""Typed keys for what the aiohttp application holds (one place, so handlers agree)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from aigw.config import Settings

if TYPE_CHECKING:
    from aigw.auth.cache import KeyCache
    from aigw.batches.worker import BatchWorker
    from aigw.billing.service import Billing
    from aigw.catalog.loader import Catalog
    from aigw.files.store import FileStore
    from aigw.jobs.worker import JobWorker
    from aigw.limits.service import Limits
    from aigw.providers.byok import ByokKeys
    from aigw.providers.registry import ProviderRegistry
    from aigw.routing.router import Router
    from aigw.server.observe import Observer
    from aigw.store.db import Database
    from aigw.store.request_log import RequestLogWriter
    from aigw.webhooks.alerts import AlertWatcher
    from aigw.webhooks.delivery import Deliverer

SETTINGS = web.AppKey("settings", Settings)
CATALOG: web.AppKey[Catalog] = web.AppKey("catalog")
DATABASE: web.AppKey[Database] = web.AppKey("database")
KEYS: web.AppKey[KeyCache] = web.AppKey("keys")
REQUEST_LOG: web.AppKey[RequestLogWriter] = web.AppKey("request_log")
PROVIDERS: web.AppKey[ProviderRegistry] = web.AppKey("providers")
BILLING: web.AppKey[Billing] = web.AppKey("billing")
BYOK: web.AppKey[ByokKeys] = web.AppKey("byok")
LIMITS: web.AppKey[Limits] = web.AppKey("limits")
ROUTER: web.AppKey[Router] = web.AppKey("router")
OBSERVER: web.AppKey[Observer] = web.AppKey("observer")
JOBS: web.AppKey[JobWorker] = web.AppKey("jobs")
FILES: web.AppKey[FileStore] = web.AppKey("files")
WEBHOOKS: web.AppKey[Deliverer] = web.AppKey("webhooks")
BATCHES: web.AppKey[BatchWorker] = web.AppKey("batches")
ALERTS: web.AppKey[AlertWatcher] = web.AppKey("alerts")
