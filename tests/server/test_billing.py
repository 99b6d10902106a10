"""Wallet charging end to end: reserve, settle, commit, 402s, faults, fee modes."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import openai
import pytest
from tests.harness import GatewayThread
from tests.server.conftest import Stack, catalog_stack, environ_for, start_stack
from tests.server.spendkit import CATALOG

from aigw.billing import ledger
from aigw.billing.journal import decode
from aigw.server.appkeys import BILLING, DATABASE, SETTINGS
from aigw.simulator import SimulatorThread
from aigw.store import request_log

USD = 100_000_000
TOKEN = 10_000  # µ¢ per output token of simulator/flat ($100 per 1M)
MESSAGES = [{"role": "user", "content": "hello"}]


@pytest.fixture(scope="module")
def billed(
    sim_server: SimulatorThread, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    root = tmp_path_factory.mktemp("billed")
    yield from catalog_stack(f"sqlite:///{root / 'aigw.db'}", sim_server, root, CATALOG)


@pytest.fixture
def stack(billed: Stack) -> Stack:
    billed.sim.reset()
    return billed


def _new_account(stack: Stack, name: str, usd: str | None) -> str:
    status, _ = stack.admin("POST", "/admin/accounts", {"name": name})
    assert status == 201
    if usd is not None:
        status, body = stack.admin("POST", f"/admin/accounts/{name}/topup", {"amount": usd})
        assert status == 201, body
    status, key = stack.admin("POST", "/admin/keys", {"account": name})
    assert status == 201
    return str(key["key"])


def _client(stack: Stack, key: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=stack.base_url, api_key=key, max_retries=0)


def _account_id(stack: Stack, key: str) -> str:
    status, listed = stack.admin("GET", "/admin/keys")
    assert status == 200
    return next(k["account_id"] for k in listed["data"] if k["last4"] == key[-4:])


def _balance(stack: Stack, account_id: str) -> tuple[int, int, int]:
    """(committed, settled but not in the ledger yet, reserved)."""
    return stack.gw.app[BILLING].wallets.view(account_id)


def test_empty_wallet_is_402_without_retry_after(stack: Stack) -> None:
    key = _new_account(stack, "broke", None)
    with _client(stack, key) as client, pytest.raises(openai.APIStatusError) as info:
        client.chat.completions.create(model="xai/grok-4.3", messages=MESSAGES)
    assert info.value.status_code == 402
    assert info.value.response.json()["error"]["type"] == "insufficient_credits"
    assert "retry-after" not in info.value.response.headers
    assert stack.sim.stats["requests"] == 0, "refused before the upstream call"
    # Free models still work with an empty wallet.
    with _client(stack, key) as client:
        assert client.chat.completions.create(model="simulator/free", messages=MESSAGES)


def test_charge_equals_cost_and_ledger_reconciles(stack: Stack) -> None:
    key = _new_account(stack, "payer", "1.00")
    account_id = _account_id(stack, key)
    assert _balance(stack, account_id) == (USD, 0, 0)
    charges = stack.gw.app[BILLING].charges
    journal = charges.journal
    assert journal is not None  # the stack runs on a SQLite file
    with _client(stack, key) as client:
        raw = client.chat.completions.with_raw_response.create(
            model="xai/grok-4.3", messages=MESSAGES
        )
    assert stack.gw.app[BILLING].open_reservations == 0
    completion = raw.parse()
    cost = round(completion.usage.model_extra["cost"] * USD)  # type: ignore[union-attr,index]
    assert cost > 0
    # Durable before the answer left (journaled); its ledger row follows by moments.
    committed, uncommitted, _ = _balance(stack, account_id)
    assert committed - uncommitted == USD - cost
    stack.gw.drain_charges()
    assert _balance(stack, account_id) == (USD - cost, 0, 0)
    db = stack.gw.app[DATABASE]
    entries = stack.gw.call(ledger.entries_for(db, account_id, ["charge"]))
    assert [(e.amount_micro_cents, e.fee_micro_cents) for e in entries] == [(-cost, 0)]
    stack.gw.flush_log()
    entry = stack.gw.call(request_log.get(db, entries[0].request_id or ""))
    assert entry is not None and entry.charged_micro_cents == cost == entry.cost_micro_cents
    assert stack.gw.call(ledger.verify(db))[1] == []


def test_a_top_up_answers_the_balance_with_the_charges_already_answered(stack: Stack) -> None:
    """A charge whose ledger row is still on its way (journaled) is in the balance a top-up
    or an adjustment answers with: they wait for the rows first."""
    key = _new_account(stack, "topped", "1")
    account_id = _account_id(stack, key)
    with _client(stack, key) as client:
        completion = client.chat.completions.create(model="xai/grok-4.3", messages=MESSAGES)
    cost = round(completion.usage.model_extra["cost"] * USD)  # type: ignore[union-attr,index]
    assert cost > 0
    status, body = stack.admin("POST", "/admin/accounts/topped/topup", {"amount": "2"})
    assert status == 201, body
    assert round(body["balance_usd"] * USD) == 3 * USD - cost
    with _client(stack, key) as client:
        completion = client.chat.completions.create(model="xai/grok-4.3", messages=MESSAGES)
    second = round(completion.usage.model_extra["cost"] * USD)  # type: ignore[union-attr,index]
    adjustment = {"amount": "-1", "note": "goodwill reversed"}
    status, body = stack.admin("POST", "/admin/accounts/topped/adjustments", adjustment)
    assert status == 201, body
    assert round(body["balance_usd"] * USD) == 2 * USD - cost - second
    assert _balance(stack, account_id) == (2 * USD - cost - second, 0, 0)


def test_200_concurrent_requests_on_a_wallet_for_exactly_50(stack: Stack) -> None:
    stack.sim.set_config(output_tokens=10)
    key = _new_account(stack, "fifty", f"{50 * 10 * TOKEN / USD:.8f}")
    account_id = _account_id(stack, key)

    async def fire() -> list[int]:
        connector = aiohttp.TCPConnector(limit=200)
        async with aiohttp.ClientSession(connector=connector) as session:

            async def one() -> int:
                async with session.post(
                    f"{stack.base_url}/chat/completions",
                    headers={"Authorization": f"Bearer {key}"},
                    json={"model": "simulator/flat", "messages": MESSAGES, "max_tokens": 10},
                ) as resp:
                    await resp.read()
                    return resp.status

            return await asyncio.gather(*(one() for _ in range(200)))

    statuses = asyncio.run(fire())
    assert statuses.count(200) == 50
    assert statuses.count(402) == 150
    stack.gw.drain_charges()  # the answers' charges are durable; their rows follow
    assert _balance(stack, account_id) == (0, 0, 0)
    db = stack.gw.app[DATABASE]
    charges = stack.gw.call(ledger.entries_for(db, account_id, ["charge"]))
    assert len(charges) == 50
    assert sum(e.amount_micro_cents for e in charges) == -50 * 10 * TOKEN
    assert stack.gw.call(ledger.verify(db))[1] == []


def test_stream_is_billed_before_its_done(stack: Stack) -> None:
    key = _new_account(stack, "streamer", "1.00")
    account_id = _account_id(stack, key)
    with _client(stack, key) as client:
        stream = client.chat.completions.create(
            model="xai/grok-4.3",
            messages=MESSAGES,
            stream=True,
            stream_options={"include_usage": True},
        )
        chunks = list(stream)
        # [DONE] has been read: the charge is settled and durable (journaled).
        committed, uncommitted, reserved = _balance(stack, account_id)
        journal = stack.gw.app[BILLING].charges.journal
        assert journal is not None
        lines = b"".join(p.read_bytes() for p in journal.directory.glob("*.jnl"))
    cost = round(chunks[-1].usage.model_extra["cost"] * USD)  # type: ignore[union-attr,index]
    assert committed - uncommitted == USD - cost and reserved == 0
    assert (account_id, -cost) in {(e.account_id, e.amount_micro_cents) for e in decode(lines)}
    stack.gw.drain_charges()
    assert _balance(stack, account_id) == (USD - cost, 0, 0)


def test_cut_stream_bills_what_was_delivered(stack: Stack) -> None:
    key = _new_account(stack, "cutter", "1.00")
    account_id = _account_id(stack, key)
    stack.sim.set_config(output_tokens=200)
    stack.sim.queue_fault("cut", count=1, after_chunks=20)
    with _client(stack, key) as client:
        stream = client.chat.completions.create(
            model="simulator/flat", messages=MESSAGES, stream=True
        )
        with pytest.raises(openai.APIError):
            for _ in stream:
                pass
    stack.gw.drain_charges()
    committed, _, reserved = _balance(stack, account_id)
    charged = USD - committed
    assert reserved == 0
    assert 10 * TOKEN <= charged <= 25 * TOKEN, "about the 20 chunks delivered, not all 200"


def test_failed_upstream_call_costs_nothing(stack: Stack) -> None:
    key = _new_account(stack, "unlucky", "1.00")
    account_id = _account_id(stack, key)
    stack.sim.queue_fault("500", count=5)
    with _client(stack, key) as client, pytest.raises(openai.InternalServerError):
        client.chat.completions.create(model="xai/grok-4.3", messages=MESSAGES)
    assert _balance(stack, account_id) == (USD, 0, 0)


def test_ledger_verify_command(stack: Stack) -> None:
    env = {**os.environ, "AIGW_DATABASE_URL": stack.gw.app[SETTINGS].database_url}
    done = subprocess.run(
        [sys.executable, "-m", "aigw", "ledger", "verify"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("ok:")


def test_cli_top_up_reaches_the_running_gateway(stack: Stack) -> None:
    key = _new_account(stack, "clitop", None)
    account_id = _account_id(stack, key)
    env = {**os.environ, "AIGW_DATABASE_URL": stack.gw.app[SETTINGS].database_url}
    done = subprocess.run(
        [sys.executable, "-m", "aigw", "topup", "clitop", "100"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "paid $105.00" in done.stdout and "fee $5.00" in done.stdout
    until = time.monotonic() + 5
    while _balance(stack, account_id)[0] != 100 * USD:
        assert time.monotonic() < until, "top-up from another process never arrived"
        time.sleep(0.05)


def test_restart_releases_reservations_of_requests_that_died(
    sim_server: SimulatorThread, tmp_path: Path
) -> None:
    running = start_stack(f"sqlite:///{tmp_path / 'aigw.db'}", sim_server)
    stack = next(running)
    account_id = stack.account_id
    balance = _balance(stack, account_id)[0]

    async def in_flight() -> None:  # a request that reserved credits, then died with us
        stack.gw.app[BILLING].wallets.reserve(account_id, 5 * USD)

    stack.gw.call(in_flight())
    assert _balance(stack, account_id) == (balance, 0, 5 * USD)
    settings = stack.gw.settings
    running.close()
    with GatewayThread(settings, environ_for(sim_server)) as gw:
        assert gw.app[BILLING].wallets.view(account_id) == (balance, 0, 0)
