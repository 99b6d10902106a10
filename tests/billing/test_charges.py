"""The charge writer: awaited group commits and the lingering submit (cache hits, opt-in)."""

from __future__ import annotations

import asyncio

from aigw.billing import ledger
from aigw.billing.charges import ChargeWriter
from aigw.billing.ledger import Entry, WalletState
from aigw.billing.wallet import Reservation
from aigw.store.accounts import create_account
from aigw.store.db import Database


async def test_commit_waits_and_submit_lingers_then_shares_one_write(database: Database) -> None:
    acme = (await create_account(database, "acme")).id
    seen: list[tuple[str | None, int]] = []

    async def committed(entry: Entry, _r: Reservation | None, state: WalletState) -> None:
        seen.append((entry.request_id, state.version))

    writer = ChargeWriter(database, committed)
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
