"""The response cache in Redis: replicas share hits; Redis down is a miss, never a hang."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import redis

from aigw.config import load_settings
from aigw.simulator import SimulatorThread
from tests.harness import GatewayThread
from tests.scaleout.servers import PrivateRedis
from tests.server.conftest import ADMIN_KEY, environ_for

pytestmark = [pytest.mark.redis]


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
            "secret_key": "cache-redis",
            **settings,
        },
    )
    return GatewayThread(config, environ_for(sim))


def _key(gw: GatewayThread, name: str) -> str:
    assert gw.admin("POST", "/admin/accounts", ADMIN_KEY, {"name": name})[0] == 201
    assert gw.admin("POST", f"/admin/accounts/{name}/topup", ADMIN_KEY, {"amount": "10"})[0] == 201
    status, key = gw.admin("POST", "/admin/keys", ADMIN_KEY, {"account": name})
    assert status == 201
    return str(key["key"])


def _ask(base_url: str, key: str, question: str) -> tuple[int, str, float, Any]:
    async def go() -> tuple[int, str, float, Any]:
        started = time.monotonic()
        async with aiohttp.ClientSession() as session:
            async with session.post(
                base_url + "/chat/completions",
                json={
                    "model": "xai/grok-4.3",
                    "messages": [{"role": "user", "content": question}],
                    "temperature": 0,
                },
                headers={"Authorization": f"Bearer {key}"},
            ) as resp:
                body = await resp.json()
                took = time.monotonic() - started
                return resp.status, resp.headers.get("x-cache", ""), took, body

    return asyncio.run(go())


def _until(check: Callable[[], bool], seconds: float = 5) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline
        time.sleep(0.05)


@pytest.mark.postgres
def test_two_replicas_share_the_cache(
    sim: SimulatorThread, pg_database_factory: Callable[[], str], redis_url: str
) -> None:
    database = pg_database_factory()
    with (
        _gateway(sim, database, redis_url=redis_url) as a,
        _gateway(sim, database, redis_url=redis_url) as b,
    ):
        key = _key(a, "shared-" + secrets.token_hex(3))
        question = "Replicated? " + secrets.token_hex(4)
        status, label, _, first = _ask(a.base_url, key, question)
        assert (status, label) == (200, "miss")
        calls = sim.stats["requests"]
        _until(lambda: _ask(b.base_url, key, question)[1] == "hit")
        status, label, _, again = _ask(b.base_url, key, question)
        assert (status, label) == (200, "hit") and sim.stats["requests"] == calls
        assert again["choices"] == first["choices"]
        status, _, _, _ = _delete(b.base_url, key)
        assert status == 200
        assert _ask(a.base_url, key, question)[1] == "miss"


def _delete(base_url: str, key: str) -> tuple[int, str, float, Any]:
    async def go() -> tuple[int, str, float, Any]:
        async with aiohttp.ClientSession() as session:
            async with session.delete(
                base_url + "/cache", headers={"Authorization": f"Bearer {key}"}
            ) as resp:
                return resp.status, "", 0.0, await resp.json()

    return asyncio.run(go())


def test_redis_down_is_a_miss_then_the_cache_recovers(
    sim: SimulatorThread, tmp_path: Path, redis_url: str
) -> None:
    server = PrivateRedis().start()
    try:
        # Billing off: shared wallets fail closed by design; here only the cache is at stake.
        with _gateway(
            sim,
            f"sqlite:///{tmp_path / 'down.db'}",
            redis_url=server.url,
            redis_timeout_ms=200,
            billing_enabled=False,
        ) as gw:
            key = _key(gw, "acme")
            assert _ask(gw.base_url, key, "cached")[1] == "miss"
            _until(lambda: _ask(gw.base_url, key, "cached")[1] == "hit")
            assert redis.Redis(port=server.port).keys("aigw:cache:*")
            server.stop()
            status, label, took, body = _ask(gw.base_url, key, "cached")
            assert (status, label) == (200, "miss"), body
            assert took < 2.0, "a dead Redis must not hold requests"
            status, _, _, body = _delete(gw.base_url, key)
            assert status == 503 and body["error"]["type"] == "service_unavailable"
            server.start()  # empty, and the gateway backs off for a second after a failure
            assert _ask(gw.base_url, key, "cached")[0] == 200
            _until(lambda: _ask(gw.base_url, key, "cached")[1] == "hit")
    finally:
        server.stop()
