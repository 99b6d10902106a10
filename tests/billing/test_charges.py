"""The group-commit charge writer without the journal (PostgreSQL, or `charge_journal` off;
billing/test_journal.py has the journal): a waiter learns whether its charge is committed, and one
that gives up (deadline) or is cancelled leaves its charge queued and written; the lingering
submit (cache hits, opt-in) shares one transaction."""

from __future__ import annotations

import asyncio

from aigw.billing import ledger
from aigw.billing.charges import ChargeWriter
from aigw.billing.ledger import Entry, WalletState
from aigw.billing.wallet import Reservation
from aigw.store.accounts import create_account
from aigw.store.db import Database


async def _request_ids(database: Database, account_id: str) -> list[str]:
    return [e.request_id or "" for e in await ledger.entries_for(database, account_id)]


async def test_commit_waits_for_the_transaction(database: Database) -> None:
    account = await create_account(database, "acme")
    seen: list[str | None] = []

    async def committed(entry: Entry, _r: Reservation | None, _s: WalletState) -> None:
        seen.append(entry.request_id)

    writer = ChargeWriter(database, committed, journal=False)
    await writer.start()
    try:
        results = await asyncio.gather(
            *(writer.commit(Entry(account.id, "charge", -5, request_id=f"r{i}")) for i in range(5))
        )
        assert results == [True] * 5
        assert sorted(seen) == [f"r{i}" for i in range(5)]  # told before the waiters return
        assert sorted(await _request_ids(database, account.id)) == [f"r{i}" for i in range(5)]
    finally:
        await writer.close()


async def test_a_waiter_past_its_deadline_gets_false_and_the_charge_stays_queued(
    database: Database,
) -> None:
    account = await create_account(database, "acme")

    async def committed(_e: Entry, _r: Reservation | None, _s: WalletState) -> None:
        return None

    writer = ChargeWriter(database, committed, wait_seconds=0.05, journal=False)  # not started
    assert await writer.commit(Entry(account.id, "charge", -5, request_id="late")) is False
    assert writer.pending == 1
    waiter = asyncio.create_task(writer.commit(Entry(account.id, "charge", -5, request_id="gone")))
    await asyncio.sleep(0.01)
    waiter.cancel()  # a client that hung up: its charge must still be written
    await asyncio.gather(waiter, return_exceptions=True)
    assert writer.pending == 2
    await writer.start()
    await writer.close()
    assert writer.pending == 0
    assert sorted(await _request_ids(database, account.id)) == ["gone", "late"]


async def test_commit_waits_and_submit_lingers_then_shares_one_write(database: Database) -> None:
    acme = (await create_account(database, "acme")).id
    seen: list[tuple[str | None, int]] = []

    async def committed(entry: Entry, _r: Reservation | None, state: WalletState) -> None:
        seen.append((entry.request_id, state.version))

    writer = ChargeWriter(database, committed, journal=False)
    await writer.start()
    try:
        assert await writer.commit(Entry(acme, "charge", -5, request_id="now"))
        assert seen == [("now", 1)]  # committed before commit() returned
        writer.submit(Entry(acme, "charge", -1, request_id="a"), linger=0.2)
        writer.submit(Entry(acme, "charge", -2, request_id="b"), linger=0.2)
        await asyncio.sleep(0.05)
        assert writer.pending == 2 and len(seen) == 1  # still lingering
        for _ in range(100):
            if len(seen) == 3:
                break
            await asyncio.sleep(0.02)
        # Both in one transaction: the wallet moved once (version 2) for the two of them.
        assert seen[1:] == [("a", 2), ("b", 2)]
    finally:
        await writer.close()
    (state,) = await ledger.wallet_states(database, account_id=acme)
    assert state.balance_micro_cents == -8
    assert await ledger.verify(database) == (1, [])


async def test_a_charge_alone_is_written_by_its_request_and_others_group(
    database: Database,
) -> None:
    """``alone`` (no other request holds a reservation): on SQLite the charge is committed in
    the caller's own turn; otherwise, and on PostgreSQL, it joins the writer's group."""
    acme = (await create_account(database, "acme")).id
    seen: list[str | None] = []

    async def committed(entry: Entry, _r: Reservation | None, _s: WalletState) -> None:
        seen.append(entry.request_id)

    writer = ChargeWriter(database, committed, journal=False)
    await writer.start()
    try:
        assert await writer.commit(Entry(acme, "charge", -5, request_id="solo"), alone=True)
        assert seen == ["solo"]
        inline = 1 if database.direct is not None else 0
        assert writer.inline_commits == inline
        together = await asyncio.gather(
            *(writer.commit(Entry(acme, "charge", -1, request_id=f"g{i}")) for i in range(4))
        )
        assert together == [True] * 4 and writer.inline_commits == inline
    finally:
        await writer.close()
    assert sorted(await _request_ids(database, acme)) == ["g0", "g1", "g2", "g3", "solo"]
    (state,) = await ledger.wallet_states(database, account_id=acme)
    assert state.balance_micro_cents == -9
    assert await ledger.verify(database) == (1, [])
