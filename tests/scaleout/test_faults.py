"""Shared stores failing under the gateway: Redis down or slow, PostgreSQL restarted.

Each test runs its own Redis or PostgreSQL server so that it can stop it; requests must never
hang, the failure policy must hold, and no ledger entry may be lost.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import redis

from aigw.billing import ledger
from aigw.config import load_settings
from aigw.server.appkeys import BILLING, DATABASE, LIMITS, REQUEST_LOG
from aigw.simulator import SimulatorThread
from aigw.store import request_log
from aigw.store.accounts import get_account
from tests.harness import GatewayThread
from tests.scaleout.servers import PrivatePostgres, PrivateRedis
from tests.server.conftest import ADMIN_KEY, environ_for

MESSAGES = [{"role": "user", "content": "hi"}]


@pytest.fixture(scope="module")
def sim() -> Iterator[SimulatorThread]:
    with SimulatorThread() as sim:
        yield sim


def _gateway(sim: SimulatorThread, database_url: str, **settings: Any) -> GatewayThread:
    config = load_settings(
        environ={},
        overrides={
            "port": 0,
            "database_url": database_url,
            "admin_key": ADMIN_KEY,
            "key_refresh_seconds": 0.5,
            "log_flush_seconds": 0.05,
            "secret_key": "faults",
            **settings,
        },
    )
    return GatewayThread(config, environ_for(sim))


def _key(gw: GatewayThread, name: str, usd: str) -> str:
    gw.admin("POST", "/admin/accounts", ADMIN_KEY, {"name": name})
    assert gw.admin("POST", f"/admin/accounts/{name}/topup", ADMIN_KEY, {"amount": usd})[0] == 201
    status, key = gw.admin("POST", "/admin/keys", ADMIN_KEY, {"account": name})
    assert status == 201
    return str(key["key"])


async def _call(base_url: str, key: str, model: str = "xai/grok-4.3") -> tuple[int, float, Any]:
    started = time.monotonic()
    async with aiohttp.ClientSession() as session:
        async with session.post(
            base_url + "/chat/completions",
            json={"model": model, "messages": MESSAGES, "max_tokens": 8},
            headers={"Authorization": f"Bearer {key}"},
        ) as resp:
            body = await resp.json()
            return resp.status, time.monotonic() - started, body


def test_redis_down_rate_limits_open_wallets_closed_then_recovery(
    sim: SimulatorThread, tmp_path: Path
) -> None:
    server = PrivateRedis().start()
    settings = {"redis_url": server.url, "redis_timeout_ms": 200, "rate_limit_rpm": 1000}
    try:
        with _gateway(sim, f"sqlite:///{tmp_path / 'a.db'}", **settings) as gw:
            key = _key(gw, "acme", "10")
            assert asyncio.run(_call(gw.base_url, key))[0] == 200
            server.stop()
            status, took, body = asyncio.run(_call(gw.base_url, key))
            assert status == 503 and body["error"]["type"] == "service_unavailable"
            assert took < 2.0, "a dead Redis must not hold requests"
            assert gw.app[LIMITS].unavailable >= 1, "the limiter failed open, and counted it"
            shared = gw.app[BILLING].shared
            assert shared is not None and shared.unavailable >= 1, "the wallet failed closed"
            server.start()  # empty: balances are reloaded from the ledger
            deadline = time.monotonic() + 10
            while asyncio.run(_call(gw.base_url, key))[0] != 200:
                assert time.monotonic() < deadline, "no recovery after Redis came back"
                time.sleep(0.2)
        # Without wallets to protect, a dead Redis only opens the rate limits.
        server.stop()
        with _gateway(
            sim, f"sqlite:///{tmp_path / 'b.db'}", billing_enabled=False, **settings
        ) as gw:
            key = _key(gw, "acme", "1")
            status, took, _ = asyncio.run(_call(gw.base_url, key))
            assert status == 200 and took < 2.0
        with _gateway(
            sim,
            f"sqlite:///{tmp_path / 'c.db'}",
            billing_enabled=False,
            rate_limit_fail_open=False,
            **settings,
        ) as gw:
            key = _key(gw, "acme", "1")
            assert asyncio.run(_call(gw.base_url, key))[0] == 503
    finally:
        server.stop()


def test_slow_redis_does_not_hold_requests(sim: SimulatorThread, tmp_path: Path) -> None:
    server = PrivateRedis().start()
    try:
        with _gateway(
            sim,
            f"sqlite:///{tmp_path / 'slow.db'}",
            redis_url=server.url,
            redis_timeout_ms=200,
            rate_limit_rpm=1000,
        ) as gw:
            key = _key(gw, "acme", "10")
            assert asyncio.run(_call(gw.base_url, key))[0] == 200
            sleeper = threading.Thread(
                target=lambda: redis.Redis(port=server.port).execute_command("DEBUG", "SLEEP", 3)
            )
            sleeper.start()
            time.sleep(0.2)
            status, took, _ = asyncio.run(_call(gw.base_url, key))
            sleeper.join()
            assert status == 503 and took < 2.0
            assert asyncio.run(_call(gw.base_url, key))[0] == 200
    finally:
        server.stop()


@pytest.mark.postgres
def test_postgres_restart_during_load_loses_no_ledger_entry(sim: SimulatorThread) -> None:
    pg = PrivatePostgres().init().start()
    try:
        with _gateway(sim, pg.url) as gw:
            key = _key(gw, "acme", "10")
            sim.set_config(latency_ms=20)

            async def load() -> list[int]:
                statuses = []
                for _ in range(40):
                    statuses.append((await _call(gw.base_url, key))[0])
                return statuses

            results: list[int] = []
            runner = threading.Thread(target=lambda: results.extend(asyncio.run(load())))
            runner.start()
            time.sleep(0.4)
            pg.stop()
            time.sleep(1.0)
            pg.start()
            runner.join(60)
            assert len(results) == 40 and set(results) == {200}, results
            gw.call(gw.app[REQUEST_LOG].flush())
            db = gw.app[DATABASE]

            async def check() -> tuple[int, int, list[ledger.Mismatch]]:
                account = await get_account(db, "acme")
                assert account is not None
                charges = await ledger.entries_for(db, account.id, ["charge"])
                logged = await request_log.recent(db, limit=100, account_id=account.id)
                return len(charges), len(logged), (await ledger.verify(db))[1]

            deadline = time.monotonic() + 15
            while True:
                charges, logged, mismatches = gw.call(check())
                if charges == 40 and logged == 40:
                    break
                assert time.monotonic() < deadline, (charges, logged)
                time.sleep(0.2)
            assert mismatches == []
            sim.set_config(latency_ms=0)
    finally:
        pg.remove()
