"""Commit charges to the ledger in groups; each is durable before its response finishes.

A request settles its reservation in memory, then awaits ``commit`` before it sends its last
bytes, so a completed response is never left unbilled.

On a file-backed SQLite database a charge is durable once it is appended to this process's
journal (billing/journal.py), which is as durable as a committed transaction there. The
charges of requests finishing together are journaled as a group, in one ``write``: whoever
arrives while the writer is busy rides the next group. A charge with no group to join
(``alone``: no other request holds a reservation) is journaled by its own request. The
ledger rows follow in the background, in large transactions: once ``APPLY_AT`` journaled
charges are waiting, or ``APPLY_LINGER`` after the first of them, or when a reader drains
the writer. (A ledger transaction of six charges took ~170 µs of CPU under load: its fixed
part, six WAL pages and the wallet row, is paid once per transaction, and with the journal
it is shared by hundreds of charges instead of a handful.)

Without the journal (PostgreSQL, or ``charge_journal`` off) concurrent charges share one
transaction (a group commit) and each request waits for it.

If the database is down, charges stay queued and are retried; a request waits at most
``wait_seconds`` for its commit and then finishes anyway, its charge still queued.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aigw.billing.journal import ChargeJournal, directory_for
from aigw.billing.ledger import Entry, WalletState, append, append_direct, append_once, new_entry_id
from aigw.billing.wallet import Reservation
from aigw.store.db import Database
from aigw.store.sqlite_writer import LockBusy, SqliteWriter
from aigw.store.tables import now_ms

log = logging.getLogger("aigw.billing")


@dataclass(slots=True)
class _Pending:
    entry: Entry
    reservation: Reservation | None
    done: asyncio.Future[bool] | None  # True once durable; False when a waiter gave up
    journaled: str | None = None  # the journal's token: applied once committed


def _give_up(done: asyncio.Future[bool]) -> None:
    """The waiter's deadline: it goes on without the commit (the charge stays queued)."""
    if not done.done():
        done.set_result(False)


def _stamped(entry: Entry, now: int) -> Entry:
    """The entry with the ledger id and time it is journaled under (``dataclasses.replace``
    costs several times this, per charge)."""
    return Entry(
        entry.account_id,
        entry.kind,
        entry.amount_micro_cents,
        entry.fee_micro_cents,
        entry.request_id,
        entry.sub_account_id,
        entry.tag,
        entry.note,
        new_entry_id(),
        now,
    )


MAX_BATCH = 64  # charges gathered into one group (a journal write or a transaction)
APPLY_AT = 256  # journaled charges that are written to the ledger at once
APPLY_LINGER = 0.02  # seconds a journaled charge waits at most for more to share its row's
_INLINE_MAX = 32  # larger ledger transactions run in the writer's thread
_RECOVER_BATCH = 500  # journaled charges per recovery transaction

# Told about each committed charge and the wallet row after it (to move the live balances).
OnCommitted = Callable[[Entry, Reservation | None, WalletState], Awaitable[None]]


class ChargeWriter:
    def __init__(
        self,
        db: Database,
        on_committed: OnCommitted,
        *,
        wait_seconds: float = 5.0,
        max_backoff: float = 5.0,
        journal: bool = True,
    ) -> None:
        self._db = db
        self._on_committed = on_committed
        self._wait = wait_seconds
        self._max_backoff = max_backoff
        # For the ledger, in order. With the journal, what is here is durable already, but
        # for charges whose journal write failed (``_urgent``: a waiter needs the ledger).
        self._queue: list[_Pending] = []
        # Charges whose requests wait for them to be journaled (journal only).
        self._group: list[_Pending] = []
        self._urgent = False
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self._linger: asyncio.TimerHandle | None = None
        self._linger_due = False
        self._writing = False  # a batch is being written (it may be waiting in a thread)
        self.inline_commits = 0  # charges written by their own request (``alone``)
        # ``drain`` callers, each with how many charges had been queued when it came: it is
        # done once that many are committed (charges are committed in the order queued).
        self._waiters: list[tuple[int, asyncio.Future[bool]]] = []
        self._enqueued = 0
        self._committed = 0
        self.journal: ChargeJournal | None = None
        if journal and db.direct is not None and db.sqlite_file is not None:
            self.journal = ChargeJournal(directory_for(db.sqlite_file))

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="aigw-charge-writer")

    @property
    def pending(self) -> int:
        """Charges not in the ledger yet."""
        return len(self._queue) + len(self._group)

    async def commit(
        self, entry: Entry, reservation: Reservation | None = None, *, alone: bool = False
    ) -> bool:
        """Queue one charge and wait until it is durable; False if it is not yet.

        ``alone``: no other request is on its way to a commit, so no group is worth waiting
        for; the charge is then journaled right here (as it is while the writer waits on the
        database); without the journal it is written right here (when the write lock is
        free), without the hand-off to the writer task and back: several loop turns less."""
        grouped = self.journal is not None
        if grouped and (alone or self._writing):
            # (While the writer waits on the database, a group would wait with it.)
            if self._journaled(entry, reservation):
                return True
            grouped = False  # the journal failed: this one waits for a transaction
        if alone and not self._queue and not self._writing and self._db.direct is not None:
            if await self._commit_now(entry, reservation, self._db.direct):
                return True
        # One future and one timer per charge: ``wait_for(shield(...))`` made two more futures
        # and callbacks per request. The timer ends the wait (False) without touching the
        # queued charge; the writer ends it (True) once the charge is durable.
        loop = asyncio.get_running_loop()
        done: asyncio.Future[bool] = loop.create_future()
        if grouped:
            self._group.append(_Pending(entry, reservation, done))
        else:
            self._enqueue(_Pending(entry, reservation, done))
            self._urgent = True
        self._wake.set()
        timer = loop.call_later(self._wait, _give_up, done)
        try:
            committed = await done
        finally:
            timer.cancel()
        if not committed:
            log.error("charge for request %s is not committed yet; still queued", entry.request_id)
        return committed

    def _journaled(self, entry: Entry, reservation: Reservation | None) -> bool:
        """Journal one charge and queue its ledger row; False (and the caller waits for the
        transaction instead) when the journal cannot be written."""
        if not self._journal([_Pending(entry, reservation, None)]):
            return False
        self._arm_linger(APPLY_LINGER)
        return True

    def _journal_group(self) -> None:
        """Journal the waiting group in one ``write`` and let its requests go; if the journal
        cannot be written, the group waits for a transaction instead."""
        group, self._group = self._group, []
        if not self._journal(group):
            for p in group:
                self._enqueue(p)  # (stamped: a line written whole is recovered once, by id)
            self._urgent = True

    def _journal(self, charges: list[_Pending]) -> bool:
        """Stamp the charges with the ledger id and time they are journaled under, append
        them in one ``write``, queue their rows and let their waiters go. False (logged,
        nothing queued) when the journal cannot be written."""
        assert self.journal is not None
        now = now_ms()
        for p in charges:
            p.entry = _stamped(p.entry, now)
        try:
            token = self.journal.write_many([p.entry for p in charges])
        except OSError:
            log.exception(
                "charge journal: write failed; %d charges go to the ledger unjournaled",
                len(charges),
            )
            return False
        for p in charges:
            p.journaled = token
            self._enqueue(p)
            if p.done is not None and not p.done.done():
                p.done.set_result(True)
        return True

    async def _commit_now(
        self, entry: Entry, reservation: Reservation | None, direct: SqliteWriter
    ) -> bool:
        try:
            (state,) = direct.run_inline(functools.partial(append_direct, entries=[entry]))
        except LockBusy:
            return False
        except Exception:  # the queue retries it with backoff
            log.exception("committing a charge inline failed; queueing it")
            return False
        self.inline_commits += 1
        await self._tell(entry, reservation, state)
        return True

    async def _tell(
        self, entry: Entry, reservation: Reservation | None, state: WalletState
    ) -> None:
        """Pass a committed charge on (the live balances); a failure there is logged, never
        raised: the charge is in the ledger either way."""
        try:
            await self._on_committed(entry, reservation, state)
        except Exception:
            log.exception("updating the live balance after a commit failed")

    def submit(
        self, entry: Entry, reservation: Reservation | None = None, *, linger: float = 0.05
    ) -> None:
        """Queue one charge for a group commit within ``linger`` seconds, without waiting for
        it (the caller already settled it in memory; a database outage keeps it queued and
        retried). Lingering lets a stream of such charges share one transaction."""
        pending = _Pending(entry, reservation, None)
        if self.journal is None or not self._journal([pending]):
            self._enqueue(pending)
        if not self._wake.is_set():
            self._arm_linger(linger)

    def _arm_linger(self, seconds: float) -> None:
        if self._linger is None:
            self._linger = asyncio.get_running_loop().call_later(seconds, self._end_linger)

    def _end_linger(self) -> None:
        self._linger = None
        self._linger_due = True
        self._wake.set()

    def _enqueue(self, pending: _Pending) -> None:
        self._queue.append(pending)
        self._enqueued += 1

    def _release_waiters(self) -> None:
        done = self._committed
        still = []
        for target, marker in self._waiters:
            if target <= done:
                if not marker.done():
                    marker.set_result(True)
            elif not marker.done():
                still.append((target, marker))
        self._waiters = still

    async def drain(self) -> bool:
        """Wait (up to ``wait_seconds``) until every charge queued so far is in the ledger:
        for readers of the ledger in this process (reports, the usage API) that must see the
        charges of answers already sent. False if some are still queued (database down)."""
        if self._group:
            self._journal_group()
        if not self._queue and not self._writing:
            return True
        loop = asyncio.get_running_loop()
        marker: asyncio.Future[bool] = loop.create_future()
        self._waiters.append((self._enqueued, marker))
        self._wake.set()
        timer = loop.call_later(self._wait, _give_up, marker)
        try:
            return await marker
        finally:
            timer.cancel()

    async def recover(self) -> int:
        """Apply the journals of processes that stopped before their charges were in the
        ledger (a crash); returns how many charges were read (those already in are skipped)."""
        direct = self._db.direct
        if self.journal is None or direct is None:
            return 0
        total = 0
        for path, entries in self.journal.recoverable():
            for at in range(0, len(entries), _RECOVER_BATCH):
                chunk = entries[at : at + _RECOVER_BATCH]
                await direct.run(functools.partial(append_once, entries=chunk))
            path.unlink(missing_ok=True)
            total += len(entries)
            log.warning("charge journal: recovered %d charges from %s", len(entries), path.name)
        return total

    async def close(self) -> None:
        """Write everything still queued (retrying a few times), then stop."""
        self._closing = True
        if self._linger is not None:
            self._linger.cancel()
            self._linger = None
        self._wake.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(self._task, timeout=30)
        if self.pending:
            log.error("%d charges could not be committed before shutdown", self.pending)
        if self.journal is not None:
            self.journal.close()  # what is still unapplied stays for the next start

    async def _write(self, entries: list[Entry]) -> list[WalletState]:
        direct = self._db.direct
        if direct is not None:  # SQLite: one plain function, no SQLAlchemy hop per statement
            # (Journaled entries need no append_once here: this process holds its journal
            # files' locks until their last line is applied, so no recovery reads them.)
            work = functools.partial(append_direct, entries=entries)
            if len(entries) > _INLINE_MAX:  # milliseconds of work: not on the loop
                return await direct.run_threaded(work)
            return await direct.run(work)
        async with self._db.write() as conn:
            return await append(conn, self._db, entries)

    def _due(self) -> bool:
        """Whether the queued charges go to the ledger now. Without the journal, whenever
        there are any; with it, once enough are waiting or the first has waited long enough,
        or when someone needs them there (a failed journal write, ``drain``, ``close``)."""
        if not self._queue:
            return False
        if self.journal is None or self._urgent or self._closing or self._waiters:
            return True
        return self._linger_due or len(self._queue) >= APPLY_AT

    async def _gather(self) -> None:
        """Let requests finishing in the next loop turns join the group while it still
        grows: fewer, larger writes under load; one turn at concurrency 1."""
        gathering = self._group if self.journal is not None else self._queue
        seen = 0
        while len(gathering) > seen and len(gathering) < MAX_BATCH:
            seen = len(gathering)
            await asyncio.sleep(0)
            gathering = self._group if self.journal is not None else self._queue

    async def _run(self) -> None:
        backoff = 0.05
        while True:
            if self._group:
                self._journal_group()
            if not self._due():
                if self._closing:
                    return
                if self._queue:
                    self._arm_linger(APPLY_LINGER)
                self._wake.clear()
                await self._wake.wait()
                await self._gather()
                continue
            batch, self._queue = self._queue, []
            self._urgent = self._linger_due = False
            if self._linger is not None:
                self._linger.cancel()
                self._linger = None
            entries = [p.entry for p in batch]
            self._writing = True
            try:
                states = await self._write(entries)
            except Exception:
                log.exception("committing %d charges failed; retrying", len(batch))
                self._queue = batch + self._queue
                self._urgent = self._urgent or any(p.journaled is None for p in batch)
                if self._closing and backoff >= self._max_backoff:
                    return
                await asyncio.sleep(backoff)
                backoff = min(self._max_backoff, backoff * 2)
                continue
            finally:
                self._writing = False
            backoff = 0.05
            by_account = {s.account_id: s for s in states}
            for p in batch:
                await self._tell(p.entry, p.reservation, by_account[p.entry.account_id])
                if p.journaled is not None and self.journal is not None:
                    self.journal.applied(p.journaled)
                if p.done is not None and not p.done.done():
                    p.done.set_result(True)
            self._committed += len(batch)
            if self._waiters:
                self._release_waiters()
