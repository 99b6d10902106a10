"""A real gateway on a real socket, run on its own event loop in a background thread.

Sync tests (the official SDKs' sync clients) and async ones both talk to it over TCP, like a
user would; ``gw.call(coro)`` runs a coroutine on the gateway's own loop for inspection.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Mapping
from concurrent.futures import Future
from typing import Any, TypeVar

import aiohttp
from aiohttp import web
from multidict import CIMultiDict

from aigw.billing import ledger
from aigw.config import Settings
from aigw.server import appkeys
from aigw.server.run import start

T = TypeVar("T")


class GatewayThread:
    def __init__(self, settings: Settings, environ: Mapping[str, str]) -> None:
        self.settings = settings
        self.environ = dict(environ)
        self.url = ""
        self.runner: web.AppRunner | None = None
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    def __enter__(self) -> GatewayThread:
        self._thread.start()
        self.runner, self.url = self.call(start(self.settings, environ=self.environ))
        return self

    def __exit__(self, *exc: object) -> None:
        if self.runner is not None:
            self.call(self.runner.cleanup())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    @property
    def app(self) -> web.Application:
        assert self.runner is not None and self.runner.app is not None
        return self.runner.app

    @property
    def base_url(self) -> str:
        return self.url + "/v1"

    def call(self, coro: Coroutine[Any, Any, T], timeout: float = 60) -> T:
        future: Future[T] = asyncio.run_coroutine_threadsafe(coro, self._loop)
        return future.result(timeout)

    def flush_log(self) -> None:
        """Write what the gateway holds for later: the request log and the ledger rows of
        journaled charges (both follow the answers by moments)."""
        self.call(self.app[appkeys.BILLING].charges.drain())
        self.call(self.app[appkeys.REQUEST_LOG].flush())

    def drain_charges(self) -> None:
        """The ledger rows of the charges of answers already sent (journaled on SQLite)."""
        assert self.call(self.app[appkeys.BILLING].charges.drain())

    def charged(self, account_id: str, request_id: str) -> int:
        """What the ledger charged the account for one request (µ¢, positive), once the
        charges of answers already sent are in."""
        self.drain_charges()
        entries = self.call(ledger.entries_for(self.app[appkeys.DATABASE], account_id, ["charge"]))
        return -sum(e.amount_micro_cents for e in entries if e.request_id == request_id)

    def admin(self, method: str, path: str, admin_key: str, json: Any = None) -> Any:
        async def go() -> Any:
            async with aiohttp.ClientSession() as session:
                async with session.request(
                    method,
                    self.url + path,
                    json=json,
                    headers={"Authorization": f"Bearer {admin_key}"},
                ) as resp:
                    return resp.status, await resp.json()

        return self.call(go())


def http(
    method: str,
    url: str,
    *,
    json: Any = None,
    data: bytes | None = None,
    headers: Mapping[str, str] | None = None,
) -> tuple[int, CIMultiDict[str], bytes]:
    """One plain HTTP call from the test thread (status, headers, body)."""

    async def go() -> tuple[int, CIMultiDict[str], bytes]:
        async with aiohttp.ClientSession() as session:
            async with session.request(
                method, url, json=json, data=data, headers=dict(headers or {})
            ) as resp:
                return resp.status, CIMultiDict(resp.headers), await resp.read()

    return asyncio.run(go())


def parse_metrics(raw: bytes) -> dict[str, float]:
    """A Prometheus text exposition as {series with its labels: value}."""
    out = {}
    for line in raw.decode().splitlines():
        if not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            out[name] = float(value)
    return out
