"""The charge journal (file-backed SQLite): a charge is durable once journaled (a group in one
write), its ledger row follows (groups share a transaction, after a linger or once enough wait;
requests never wait for it), its file goes once applied; a process killed before its rows were
written has them applied by the next start, exactly once; a live process's journal is never
taken; a torn last line is not a charge; a journal that cannot be written falls back to the
transaction."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import sys
import textwrap
import time
from asyncio.subprocess import PIPE
from pathlib import Path

import pytest

from aigw.billing import charges, ledger
from aigw.billing.charges import ChargeWriter
from aigw.billing.journal import ChargeJournal, decode, directory_for, encode
from aigw.billing.ledger import Entry, WalletState
from aigw.billing.wallet import Reservation
from aigw.store.accounts import create_account
from aigw.store.db import Database


async def _nothing(_e: Entry, _r: Reservation | None, _s: WalletState) -> None:
    return None


def _journal_files(db: Database) -> list[str]:
    assert db.sqlite_file is not None
    directory = directory_for(db.sqlite_file)
    return sorted(p.name for p in directory.glob("*.jnl")) if directory.exists() else []


async def _balance(db: Database, account_id: str) -> int:
    found = await ledger.wallet_states(db, account_id=account_id)
    return found[0].balance_micro_cents if found else 0


async def test_a_journaled_charge_returns_first_and_its_row_follows(
    sqlite_database: Database,
) -> None:
    acme = (await create_account(sqlite_database, "acme")).id
    told: list[str | None] = []

    async def committed(entry: Entry, _r: Reservation | None, _s: WalletState) -> None:
        told.append(entry.request_id)

    writer = ChargeWriter(sqlite_database, committed)
    assert writer.journal is not None
    # Not started: nothing writes the ledger, yet the charge is durable and commit returns.
    assert await writer.commit(Entry(acme, "charge", -7, request_id="r1"), alone=True)
    (name,) = _journal_files(sqlite_database)
    assert told == [] and await ledger.entries_for(sqlite_database, acme) == []
    await writer.start()
    assert await writer.drain()
    assert told == ["r1"]
    (entry,) = await ledger.entries_for(sqlite_database, acme)
    assert (entry.request_id, entry.amount_micro_cents) == ("r1", -7)
    assert await _balance(sqlite_database, acme) == -7
    assert _journal_files(sqlite_database) == [name]  # the current file stays open until closed
    await writer.close()
    assert _journal_files(sqlite_database) == []  # all applied: deleted
    assert await ledger.verify(sqlite_database) == (1, [])


async def test_a_rotated_file_goes_once_its_charges_are_applied(sqlite_database: Database) -> None:
    acme = (await create_account(sqlite_database, "acme")).id
    writer = ChargeWriter(sqlite_database, _nothing)
    assert writer.journal is not None
    writer.journal._rotate_bytes = 1  # a new file for every charge
    for i in range(3):
        assert await writer.commit(Entry(acme, "charge", -1, request_id=f"r{i}"), alone=True)
    assert len(_journal_files(sqlite_database)) == 3
    await writer.start()
    assert await writer.drain()
    assert len(_journal_files(sqlite_database)) == 1  # only the current one is left
    assert await _balance(sqlite_database, acme) == -3
    await writer.close()
    assert _journal_files(sqlite_database) == []


KILLED = textwrap.dedent(
    """
    import asyncio, os, signal, sys
    from aigw.billing.charges import ChargeWriter
    from aigw.billing.ledger import Entry
    from aigw.store.db import Database

    async def told(*_):
        return None

    async def main():
        db = Database.from_url(sys.argv[1])
        writer = ChargeWriter(db, told)  # never started: no ledger row gets written
        for i in range(5):
            entry = Entry(sys.argv[2], "charge", -10, request_id=f"k{i}")
            assert await writer.commit(entry, alone=True)
        print("journaled", flush=True)
        os.kill(os.getpid(), signal.SIGKILL)

    asyncio.run(main())
    """
)


async def test_charges_of_a_killed_process_are_applied_once_at_the_next_start(
    sqlite_database: Database,
) -> None:
    acme = (await create_account(sqlite_database, "acme")).id
    url = f"sqlite:///{sqlite_database.sqlite_file}"
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", KILLED, url, acme, stdout=PIPE, stderr=PIPE
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == -9 and b"journaled" in out, err
    assert len(_journal_files(sqlite_database)) == 1
    assert await ledger.entries_for(sqlite_database, acme) == []
    writer = ChargeWriter(sqlite_database, _nothing)
    assert await writer.recover() == 5
    assert _journal_files(sqlite_database) == []
    assert sorted(e.request_id or "" for e in await ledger.entries_for(sqlite_database, acme)) == [
        f"k{i}" for i in range(5)
    ]
    assert await _balance(sqlite_database, acme) == -50
    assert await writer.recover() == 0  # nothing left to take
    assert await ledger.verify(sqlite_database) == (1, [])


async def test_a_live_process_journal_is_left_to_it(sqlite_database: Database) -> None:
    acme = (await create_account(sqlite_database, "acme")).id
    live = ChargeWriter(sqlite_database, _nothing)
    assert await live.commit(Entry(acme, "charge", -3, request_id="mine"), alone=True)
    other = ChargeWriter(sqlite_database, _nothing)  # another process of the same gateway
    assert await other.recover() == 0  # locked by its owner: not taken
    assert len(_journal_files(sqlite_database)) == 1
    await live.start()
    await live.close()
    assert await _balance(sqlite_database, acme) == -3


async def test_a_charge_applied_by_recovery_and_by_its_owner_moves_the_wallet_once(
    sqlite_database: Database,
) -> None:
    acme = (await create_account(sqlite_database, "acme")).id
    direct = sqlite_database.direct
    assert direct is not None
    entries = [Entry(acme, "charge", -4, request_id=f"r{i}", id=f"led_r{i}") for i in range(3)]
    first = await direct.run(lambda conn: ledger.append_once(conn, entries[:2]))
    again = await direct.run(lambda conn: ledger.append_once(conn, entries))  # r0, r1 are in
    assert first[0].balance_micro_cents == -8 and again[0].balance_micro_cents == -12
    twice = await direct.run(lambda conn: ledger.append_once(conn, entries))
    assert twice == [WalletState(acme, -12, again[0].version)]  # the row read, not moved
    assert len(await ledger.entries_for(sqlite_database, acme)) == 3
    assert await ledger.verify(sqlite_database) == (1, [])


def test_a_torn_last_line_is_not_a_charge() -> None:
    whole = encode(Entry("acct_a", "charge", -5, request_id="r", id="led_1", created_at=9))
    assert decode(whole + b"\n" + whole[:20]) == [
        Entry("acct_a", "charge", -5, request_id="r", id="led_1", created_at=9)
    ]
    assert decode(b"not json\n" + whole + b"\n") == [decode(whole + b"\n")[0]]
    assert decode(b"") == []


async def test_a_journal_that_cannot_be_written_falls_back_to_the_transaction(
    sqlite_database: Database,
) -> None:
    acme = (await create_account(sqlite_database, "acme")).id
    writer = ChargeWriter(sqlite_database, _nothing)
    journal = writer.journal
    assert journal is not None
    await writer.start()
    try:
        assert await writer.commit(Entry(acme, "charge", -1, request_id="ok"), alone=True)
        current = journal._current
        assert current is not None
        os.close(current.fd)
        current.fd = os.open(os.devnull, os.O_RDONLY)  # writes fail now, as on a lost disk
        assert await writer.commit(Entry(acme, "charge", -2, request_id="direct"), alone=True)
        # written by a transaction before commit returned (with the journaled one before it)
        rows = await ledger.entries_for(sqlite_database, acme)
        assert "direct" in {e.request_id for e in rows}
    finally:
        await writer.close()
    assert await _balance(sqlite_database, acme) == -3


def test_journal_files_are_locked_before_they_are_named(tmp_path: Path) -> None:
    journal = ChargeJournal(tmp_path / "j")
    token = journal.write_many([Entry("acct_a", "charge", -1, id="led_x", created_at=1)])
    assert [p.name for p in (tmp_path / "j").iterdir()] == [token]
    assert list(ChargeJournal(tmp_path / "j").recoverable()) == []  # locked by its owner
    journal.applied(token)
    journal.close()
    assert list((tmp_path / "j").iterdir()) == []


async def test_a_group_is_journaled_in_one_write_and_its_rows_share_a_transaction(
    sqlite_database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Charges finishing together are journaled in one write and their requests go; their
    ledger rows follow later, in one transaction (the wallet moves once)."""
    monkeypatch.setattr(charges, "APPLY_LINGER", 60.0)  # only drain() writes the rows here
    acme = (await create_account(sqlite_database, "acme")).id
    writer = ChargeWriter(sqlite_database, _nothing)
    await writer.start()
    try:
        together = await asyncio.gather(
            *(writer.commit(Entry(acme, "charge", -1, request_id=f"g{i}")) for i in range(4))
        )
        assert together == [True] * 4
        assert writer.pending == 4  # durable, not in the ledger yet
        (name,) = _journal_files(sqlite_database)
        assert sqlite_database.sqlite_file is not None
        lines = (directory_for(sqlite_database.sqlite_file) / name).read_bytes()
        assert sorted(e.request_id or "" for e in decode(lines)) == ["g0", "g1", "g2", "g3"]
        assert await ledger.entries_for(sqlite_database, acme) == []
        assert await writer.drain()
        assert len(await ledger.entries_for(sqlite_database, acme)) == 4
        (state,) = await ledger.wallet_states(sqlite_database, account_id=acme)
        assert (state.balance_micro_cents, state.version) == (-4, 1)  # one transaction
    finally:
        await writer.close()
    assert _journal_files(sqlite_database) == []


async def _rows_within(db: Database, account_id: str, count: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if len(await ledger.entries_for(db, account_id)) == count:
            return True
        await asyncio.sleep(0.01)
    return False


async def test_journaled_rows_follow_after_the_linger_without_a_reader(
    sqlite_database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(charges, "APPLY_LINGER", 0.05)
    acme = (await create_account(sqlite_database, "acme")).id
    writer = ChargeWriter(sqlite_database, _nothing)
    await writer.start()
    try:
        assert await writer.commit(Entry(acme, "charge", -1, request_id="solo"), alone=True)
        assert await _rows_within(sqlite_database, acme, 1, 5)
        assert writer.pending == 0
    finally:
        await writer.close()


async def test_enough_journaled_charges_go_to_the_ledger_at_once(
    sqlite_database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(charges, "APPLY_LINGER", 60.0)
    monkeypatch.setattr(charges, "APPLY_AT", 3)
    acme = (await create_account(sqlite_database, "acme")).id
    writer = ChargeWriter(sqlite_database, _nothing)
    await writer.start()
    try:
        for i in range(2):
            assert await writer.commit(Entry(acme, "charge", -1, request_id=f"a{i}"), alone=True)
        await asyncio.sleep(0.05)
        assert writer.pending == 2  # under APPLY_AT: still lingering
        await asyncio.gather(
            *(writer.commit(Entry(acme, "charge", -1, request_id=f"b{i}")) for i in range(2))
        )
        assert await _rows_within(sqlite_database, acme, 4, 5)
    finally:
        await writer.close()


async def test_a_charge_does_not_wait_while_the_writer_waits_for_the_lock(
    sqlite_database: Database,
) -> None:
    """Another process holds SQLite's write lock: the ledger rows wait for it, the requests
    do not (their charges are journaled on their own)."""
    acme = (await create_account(sqlite_database, "acme")).id
    writer = ChargeWriter(sqlite_database, _nothing)
    await writer.start()
    assert sqlite_database.sqlite_file is not None
    other = sqlite3.connect(sqlite_database.sqlite_file, isolation_level=None)
    try:
        assert await writer.commit(Entry(acme, "charge", -1, request_id="first"), alone=True)
        other.execute("BEGIN IMMEDIATE")  # held like a long transaction of another process
        draining = asyncio.create_task(writer.drain())
        for _ in range(100):  # the writer is now waiting for the lock in its thread
            if writer._writing:
                break
            await asyncio.sleep(0.01)
        assert writer._writing
        late = Entry(acme, "charge", -1, request_id="late")
        assert await asyncio.wait_for(writer.commit(late), 1.0)
        assert not draining.done()
        other.execute("COMMIT")
        assert await asyncio.wait_for(draining, 10)
        assert await writer.drain()
        rows = await ledger.entries_for(sqlite_database, acme)
        assert sorted(e.request_id or "" for e in rows) == ["first", "late"]
    finally:
        if other.in_transaction:
            other.execute("ROLLBACK")
        other.close()
        await writer.close()


async def test_the_writer_waits_for_rows_still_queued(sqlite_database: Database) -> None:
    acme = (await create_account(sqlite_database, "acme")).id
    writer = ChargeWriter(sqlite_database, _nothing, wait_seconds=0.2)
    for i in range(3):
        assert await writer.commit(Entry(acme, "charge", -1, request_id=f"q{i}"), alone=True)
    assert await writer.drain() is False  # not started: they stay queued (and journaled)
    await writer.start()
    assert await asyncio.wait_for(writer.drain(), 5) is True
    assert await _balance(sqlite_database, acme) == -3
    await writer.close()


def test_a_file_left_unnamed_by_a_crash_is_swept(tmp_path: Path) -> None:
    directory = tmp_path / "j"
    directory.mkdir()
    left = directory / "1795675225515-4242-0000abcd.jnl.new"  # created, never renamed
    left.write_bytes(b"")
    fresh = directory / "1795675225515-4243-0000abce.jnl.new"
    fresh.write_bytes(b"")
    an_hour_ago = time.time() - 3600
    os.utime(left, (an_hour_ago, an_hour_ago))
    assert list(ChargeJournal(directory).recoverable()) == []
    assert not left.exists()
    assert fresh.exists()  # may be a live process's, between its creation and its name
