"""A gateway in front of three simulators, each its own provider (``sima``, ``simb``, ``simc``),
so a test can break one deployment and watch the router use another.

Each test names its own models (``model_table``): health and breakers are kept per deployment
(``provider/upstream id``), so distinct upstream ids keep tests from seeing each other's
failures on the shared, module-scoped gateway.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import orjson
from multidict import CIMultiDict
from tests.harness import GatewayThread
from tests.server.conftest import Stack, start_stack

from aigw.billing import ledger
from aigw.server.appkeys import BILLING, DATABASE
from aigw.simulator import SimConfig, SimulatorThread
from aigw.store import request_log
from aigw.store.request_log import RequestLogEntry

USD = 100_000_000
NAMES = ("sima", "simb", "simc")
MESSAGES = [{"role": "user", "content": "hello there"}]


@dataclass
class Routed:
    stack: Stack
    sims: dict[str, SimulatorThread]

    @property
    def gw(self) -> GatewayThread:
        return self.stack.gw

    def reset(self) -> None:
        for sim in self.sims.values():
            sim.reset()
        self.stack.sim.reset()

    def requests(self, name: str) -> int:
        return self.sims[name].stats["requests"]


@contextlib.contextmanager
def three_sims() -> Iterator[dict[str, SimulatorThread]]:
    with contextlib.ExitStack() as stack:
        yield {name: stack.enter_context(SimulatorThread(SimConfig())) for name in NAMES}


def provider_table(sims: dict[str, SimulatorThread]) -> str:
    out = []
    for name, sim in sims.items():
        out.append(
            f'[providers.{name}]\nname = "{name.upper()}"\nwire_format = "openai"\n'
            f'base_url = "{sim.base_url}"\nkey_required = false\n'
        )
    return "\n".join(out)


def model_table(model: str, deployments: list[str], *, prices: dict[str, str] | None = None) -> str:
    """``sima/<model>`` served by the named simulators, upstream ids ``<model>-<sim>``."""
    prices = prices or {}
    rows = []
    for sim in deployments:
        price = prices.get(sim)
        extra = f", price = {{ {price} }}" if price else ""
        rows.append(f'  {{ provider = "{sim}", upstream_id = "{model}-{sim}"{extra} }},')
    return (
        f'[models."sima/{model}"]\nupstream_id = "{model}"\nmax_output_tokens = 100\n'
        "price = { input = 1, output = 10 }\ndeployments = [\n" + "\n".join(rows) + "\n]\n"
    )


def start_routed(
    root: Path,
    sim_server: SimulatorThread,
    sims: dict[str, SimulatorThread],
    models: list[str],
    **settings: Any,
) -> Iterator[Routed]:
    catalog = root / "catalog.toml"
    catalog.write_text(provider_table(sims) + "\n" + "\n".join(models))
    defaults: dict[str, Any] = {
        "catalog_file": str(catalog),
        "upstream_ttft_timeout": 0.6,
        "upstream_idle_timeout": 0.6,
        "upstream_total_timeout": 5.0,
        "breaker_min_requests": 4,
        "breaker_cooldown_seconds": 0.5,
    }
    for stack in start_stack(
        f"sqlite:///{root / 'aigw.db'}", sim_server, **{**defaults, **settings}
    ):
        yield Routed(stack, sims)


def new_account(stack: Stack, name: str, usd: str = "10") -> tuple[str, str]:
    """(key, account id) of a fresh account with ``usd`` of credits."""
    status, account = stack.admin("POST", "/admin/accounts", {"name": name})
    assert status == 201, account
    status, body = stack.admin("POST", f"/admin/accounts/{name}/topup", {"amount": usd})
    assert status == 201, body
    status, key = stack.admin("POST", "/admin/keys", {"account": name})
    assert status == 201, key
    return str(key["key"]), str(account["id"])


def call(
    stack: Stack,
    body: dict[str, Any],
    *,
    key: str | None = None,
    path: str = "/chat/completions",
    headers: dict[str, str] | None = None,
) -> tuple[int, CIMultiDict[str], bytes]:
    """One request (streams are read to the end); (status, headers, body)."""

    async def go() -> tuple[int, CIMultiDict[str], bytes]:
        async with aiohttp.ClientSession() as session:
            async with session.post(
                stack.base_url + path,
                json=body,
                headers={"Authorization": f"Bearer {key or stack.key}", **(headers or {})},
            ) as resp:
                return resp.status, CIMultiDict(resp.headers), await resp.read()

    return asyncio.run(go())


def sse_events(raw: bytes) -> list[Any]:
    """The JSON payloads of an SSE body (``[DONE]`` as the string)."""
    out: list[Any] = []
    for frame in raw.split(b"\n\n"):
        for line in frame.split(b"\n"):
            if line.startswith(b"data: "):
                data = line[6:]
                out.append("[DONE]" if data == b"[DONE]" else orjson.loads(data))
    return out


def logged(stack: Stack, request_id: str) -> RequestLogEntry:
    deadline = time.monotonic() + 5
    while True:
        stack.gw.flush_log()
        entry = stack.gw.call(request_log.get(stack.gw.app[DATABASE], request_id))
        if entry is not None:
            return entry
        assert time.monotonic() < deadline, f"request {request_id} was never logged"
        time.sleep(0.02)


def charges(stack: Stack, account_id: str) -> list[ledger.Entry]:
    stack.gw.drain_charges()  # (journaled charges reach the ledger moments later)
    db = stack.gw.app[DATABASE]
    return stack.gw.call(ledger.entries_for(db, account_id, ["charge"]))


def assert_ledger_true(stack: Stack, account_id: str, *, charged: int) -> None:
    """The ledger reconciles, the account paid ``charged`` µ¢, nothing is left reserved."""
    stack.gw.drain_charges()
    db = stack.gw.app[DATABASE]
    assert stack.gw.call(ledger.verify(db))[1] == []
    assert -sum(e.amount_micro_cents for e in charges(stack, account_id)) == charged
    committed, uncommitted, reserved = stack.gw.app[BILLING].wallets.view(account_id)
    assert (uncommitted, reserved) == (0, 0)
    topups = stack.gw.call(ledger.entries_for(db, account_id, ["topup", "topup_fee"]))
    assert committed == sum(e.amount_micro_cents for e in topups) - charged


def wait_for(predicate: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)
