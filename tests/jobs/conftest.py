"""A gateway with fast job and webhook workers, a simulator speaking fal's queue API, and a
webhook receiver, all on real sockets. ``JobStack.restart()`` replaces the gateway with a new
one on the same database and data directory (a restart)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aigateway
import orjson
import pytest
from aiohttp import web

from aigw.config import load_settings
from aigw.simulator import SimConfig, SimulatorThread
from tests.harness import GatewayThread, http
from tests.server.conftest import ADMIN_KEY, environ_for


class Receiver:
    """Records webhook calls on its own loop and thread; answers the next ``fail_next`` calls
    with 500."""

    def __init__(self) -> None:
        self.calls: list[tuple[dict[str, str], bytes]] = []
        self.fail_next = 0
        self.url = ""
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._runner: web.AppRunner | None = None

    def __enter__(self) -> Receiver:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_post("/hook/{name}", self._handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}/hook"

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.calls.append((dict(request.headers) | {"path": request.path}, body))
        if self.fail_next > 0:
            self.fail_next -= 1
            return web.Response(status=500)
        return web.Response(text="ok")

    def at(self, name: str) -> list[tuple[dict[str, str], bytes]]:
        return [c for c in self.calls if c[0]["path"] == f"/hook/{name}"]


@dataclass
class JobStack:
    gw: GatewayThread
    sim: SimulatorThread
    receiver: Receiver
    key: str
    account_id: str
    settings: Any
    environ: dict[str, str]

    @property
    def url(self) -> str:
        return self.gw.url

    def sdk(self) -> aigateway.AIgateway:
        return aigateway.AIgateway(
            api_key=self.key, base_url=self.gw.url, media_base_url=self.gw.url, timeout=10
        )

    def call(self, method: str, path: str, json: Any = None) -> tuple[int, Any]:
        status, _, body = http(
            method, self.gw.url + path, json=json, headers={"Authorization": f"Bearer {self.key}"}
        )
        return status, orjson.loads(body) if body else None

    def stop(self) -> None:
        self.gw.__exit__(None, None, None)

    def start(self) -> None:
        self.gw = GatewayThread(self.settings, self.environ).__enter__()

    def wait(self, job_id: str, statuses: tuple[str, ...], within: float = 10) -> dict[str, Any]:
        end = time.monotonic() + within
        while True:
            status, job = self.call("GET", f"/v1/jobs/{job_id}")
            assert status == 200, job
            if job["status"] in statuses:
                return job
            if time.monotonic() > end:
                pytest.fail(f"job {job_id} still {job['status']} after {within}s")
            time.sleep(0.05)


@contextmanager
def job_stack(root: Path, **overrides: Any) -> Iterator[JobStack]:
    """A gateway (with ``overrides`` on top of the fast-worker settings), the simulator and a
    webhook receiver; account ``acme`` with $100 and a key."""
    settings = load_settings(
        environ={},
        overrides={
            "host": "127.0.0.1",
            "port": 0,
            "database_url": f"sqlite:///{root / 'aigw.db'}",
            "admin_key": ADMIN_KEY,
            "key_refresh_seconds": 0.5,
            "log_flush_seconds": 0.05,
            "data_dir": str(root / "data"),
            "job_poll_seconds": 0.05,
            "webhook_allow_private": True,
            "webhook_retry_base_seconds": 0.1,
            **overrides,
        },
    )
    with SimulatorThread(SimConfig()) as sim:
        environ = {
            **environ_for(sim),
            "FAL_BASE_URL": sim.url + "/queue",
            "FAL_KEY": "fal-k",
            "REPLICATE_BASE_URL": sim.url + "/replicate/v1",
            "REPLICATE_API_TOKEN": "r8-k",
        }
        gw = GatewayThread(settings, environ).__enter__()
        receiver = Receiver().__enter__()
        stack: JobStack | None = None
        try:
            status, account = gw.admin("POST", "/admin/accounts", ADMIN_KEY, {"name": "acme"})
            assert status == 201, account
            status, key = gw.admin("POST", "/admin/keys", ADMIN_KEY, {"account": "acme"})
            assert status == 201, key
            status, _ = gw.admin("POST", "/admin/accounts/acme/topup", ADMIN_KEY, {"amount": "100"})
            assert status == 201
            stack = JobStack(gw, sim, receiver, key["key"], account["id"], settings, environ)
            yield stack
        finally:
            (stack.gw if stack else gw).__exit__(None, None, None)
            receiver.__exit__(None, None, None)


@pytest.fixture(scope="module")
def jobstack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JobStack]:
    with job_stack(tmp_path_factory.mktemp("jobs")) as stack:
        yield stack
