"""Two gateways on one PostgreSQL and one Redis: wallets, caps and limits hold across both."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest

from aigw.billing import ledger
from aigw.simulator import SimulatorThread
from aigw.store.accounts import get_account
from aigw.store.db import Database
from tests.harness import http
from tests.scaleout.processes import GatewayProcess
from tests.server.conftest import ADMIN_KEY, environ_for

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

TOKEN = 10_000  # µ¢ per output token of simulator/flat
CATALOG = """
[models."simulator/flat"]
name = "Flat"
upstream_id = "flat"
modality = "text"
max_output_tokens = 100
price = { input = 0, output = 100 }
"""
MESSAGES = [{"role": "user", "content": "hi"}]


@pytest.fixture(scope="module")
def sim() -> Iterator[SimulatorThread]:
    with SimulatorThread() as sim:
        yield sim


@pytest.fixture(scope="module")
def pair(
    sim: SimulatorThread,
    pg_database_factory: Callable[[], str],
    redis_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[GatewayProcess, GatewayProcess]]:
    """Two gateway processes on different ports, one PostgreSQL database, one Redis."""
    root: Path = tmp_path_factory.mktemp("pair")
    (root / "catalog.toml").write_text(CATALOG)
    env = {
        **environ_for(sim),
        "AIGW_DATABASE_URL": pg_database_factory(),
        "AIGW_REDIS_URL": redis_url,
        "AIGW_ADMIN_KEY": ADMIN_KEY,
        "AIGW_KEY_REFRESH_SECONDS": "0.5",
        "AIGW_CATALOG_FILE": str(root / "catalog.toml"),
        "AIGW_RATE_LIMIT_RPM": "100",
        "AIGW_SECRET_KEY": "shared-secret",
        "AIGW_REDIS_TIMEOUT_MS": "2000",  # correctness here; timeouts have their own tests
    }
    first = GatewayProcess(env).wait_ready()  # migrates; the second finds the schema ready
    second = GatewayProcess(env).wait_ready()
    try:
        yield first, second
    finally:
        first.stop()
        second.stop()


def _key(gw: GatewayProcess, account: str, usd: str | None) -> str:
    gw.admin("POST", "/admin/accounts", ADMIN_KEY, {"name": account})
    if usd is not None:
        status, body = gw.admin(
            "POST", f"/admin/accounts/{account}/topup", ADMIN_KEY, {"amount": usd}
        )
        assert status == 201, body
    return _key_for(gw, account)


def _key_for(gw: GatewayProcess, account: str) -> str:
    status, key = gw.admin("POST", "/admin/keys", ADMIN_KEY, {"account": account})
    assert status == 201, key
    return str(key["key"])


async def _fire(urls: list[str], key: str, n: int, body: dict[str, object]) -> list[int]:
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=n)) as session:

        async def one(i: int) -> int:
            async with session.post(
                urls[i % len(urls)] + "/chat/completions",
                json=body,
                headers={"Authorization": f"Bearer {key}"},
            ) as resp:
                await resp.read()
                return resp.status

        return await asyncio.gather(*(one(i) for i in range(n)))


def _balance(gw: GatewayProcess, key: str) -> dict[str, Any]:
    status, _, raw = http(
        "GET", gw.base_url + "/balance", headers={"Authorization": f"Bearer {key}"}
    )
    assert status == 200, raw
    data: dict[str, Any] = orjson.loads(raw)
    return data


async def _ledger(url: str, account: str) -> tuple[list[ledger.Entry], list[ledger.Mismatch]]:
    db = Database.from_url(url)
    try:
        found = await get_account(db, account)
        assert found is not None
        entries = await ledger.entries_for(db, found.id, ["charge"])
        return entries, (await ledger.verify(db))[1]
    finally:
        await db.close()


def test_a_wallet_for_50_pays_for_exactly_50_across_both(
    pair: tuple[GatewayProcess, GatewayProcess], sim: SimulatorThread, pg_database_factory: Any
) -> None:
    a, b = pair
    sim.set_config(output_tokens=10)
    keys = [_key(a, "fifty", f"{50 * 10 * TOKEN / 100_000_000:.8f}")]
    keys += [_key_for(a, "fifty") for _ in range(3)]  # 4 keys: 30 each stays under 100 RPM
    body = {"model": "simulator/flat", "messages": MESSAGES, "max_tokens": 10}

    async def all_keys() -> list[int]:
        groups = await asyncio.gather(*(_fire([a.base_url, b.base_url], k, 30, body) for k in keys))
        return [s for g in groups for s in g]

    statuses = asyncio.run(all_keys())
    assert statuses.count(200) == 50, statuses
    assert statuses.count(402) == 70, sorted(set(statuses))
    entries, mismatches = asyncio.run(_ledger(a.database_url, "fifty"))
    assert len(entries) == 50
    assert sum(e.amount_micro_cents for e in entries) == -50 * 10 * TOKEN
    assert mismatches == []
    verify = subprocess.run(
        [sys.executable, "-m", "aigw", "ledger", "verify"],
        env={**os.environ, "AIGW_DATABASE_URL": a.database_url},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert verify.returncode == 0 and verify.stdout.startswith("ok:"), verify.stderr
    for gw in (a, b):
        view = _balance(gw, keys[0])
        assert view["balance_cents"] == 0 and view["reserved_cents"] == 0, view


def test_a_100_rpm_key_gets_its_burst_in_total_not_per_gateway(
    pair: tuple[GatewayProcess, GatewayProcess],
) -> None:
    a, b = pair
    key = _key(a, "limited", "100")
    body = {"model": "simulator/free", "messages": MESSAGES, "max_tokens": 5}
    statuses = asyncio.run(_fire([a.base_url, b.base_url], key, 80, body))
    assert statuses.count(200) == 34  # 100 RPM: at most 34 in any 10 s, across both
    assert statuses.count(429) == 46


def test_a_key_revoked_on_one_gateway_stops_on_the_other(
    pair: tuple[GatewayProcess, GatewayProcess],
) -> None:
    a, b = pair
    key = _key(a, "revoker", "1")
    body = {"model": "simulator/free", "messages": MESSAGES, "max_tokens": 5}
    assert asyncio.run(_fire([b.base_url], key, 1, body)) == [200]
    _, listed = a.admin("GET", "/admin/keys?account=revoker", ADMIN_KEY)
    assert a.admin("DELETE", f"/admin/keys/{listed['data'][0]['id']}", ADMIN_KEY)[0] == 200
    until = time.monotonic() + 5
    while asyncio.run(_fire([b.base_url], key, 1, body)) != [401]:
        assert time.monotonic() < until, "still accepted by the other gateway after 5 s"
        time.sleep(0.1)
