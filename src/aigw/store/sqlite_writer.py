"""A direct write path for hot, small SQLite transactions (ledger charges).

Through SQLAlchemy's async engine every statement, the BEGIN and the COMMIT are each a hop to
aiosqlite's thread and back, plus SQLAlchemy's bookkeeping: about a millisecond of CPU for a
two-statement transaction, a third of the gateway's request rate on one core. A hop to a
thread pool of our own is cheaper but still costs the event loop a wake-up and a fight for
the GIL per transaction.

So a transaction here is one plain function on a plain ``sqlite3`` connection, run in the
event loop itself when SQLite's write lock is free (a small WAL commit with
``synchronous = NORMAL`` takes tens of microseconds and never waits for the disk). When
another connection holds the lock, the inline attempt fails at once (busy timeout 0, before
any work is done). If the holder is this writer's own thread (a request-log batch, a few
milliseconds), the transaction waits on the loop for that batch to end and tries inline
again: no thread hop, and no sleeping in SQLite's busy handler (1, 2, 5, 10 ms ...) past the
moment the lock is free. Otherwise (another process, the SQLAlchemy engine) it goes to a
thread whose connection waits for the lock the usual way, so the loop never blocks on a
lock. The inline connection never checkpoints the WAL (``wal_autocheckpoint = 0``); the
engine's connections and the thread's connection do that, off the loop.

The request log and replay bodies use ``run_threaded`` for their batches: one thread hop per
batch instead of a dozen SQLAlchemy round trips through aiosqlite (those cost the event loop
~5% of its CPU under load, in SQLAlchemy's Python).
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")

SqliteWork = Callable[[sqlite3.Connection], T]

_BUSY = (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
log = logging.getLogger("aigw.store")


# How many times one transaction waits for the thread's before it queues there itself (the
# log writer may start its next batch right after the last one).
_OWN_WAITS = 3


class LockBusy(Exception):
    """Another connection holds SQLite's write lock (an inline attempt gives up at once)."""


class SqliteWriter:
    """``run(fn)`` runs ``fn(conn)`` inside one ``BEGIN IMMEDIATE`` transaction."""

    def __init__(self, path: str, *, busy_timeout_ms: int = 5000) -> None:
        self._path = path
        self._busy_timeout_ms = busy_timeout_ms
        self._inline: sqlite3.Connection | None = None
        self._threaded: sqlite3.Connection | None = None
        self._executor: ThreadPoolExecutor | None = None
        # Set while a transaction runs in the thread: inline attempts that find the lock
        # taken wait for it instead of queueing behind it in the thread.
        self._threaded_done: asyncio.Future[None] | None = None
        self.inline_runs = 0
        self.threaded_runs = 0
        self.waits = 0  # inline attempts that waited for the thread's transaction

    def _connect(self, busy_timeout_ms: int, *, checkpoint: bool) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self._path,
            timeout=busy_timeout_ms / 1000,
            isolation_level=None,  # we say BEGIN and COMMIT ourselves
            check_same_thread=False,  # the threaded one is made in the loop, used in its thread
        )
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        if not checkpoint:
            conn.execute("PRAGMA wal_autocheckpoint = 0")
        return conn

    @staticmethod
    def _transaction(conn: sqlite3.Connection, work: SqliteWork[T]) -> T:
        conn.execute("BEGIN IMMEDIATE")
        try:
            result = work(conn)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        return result

    async def run(self, work: SqliteWork[T]) -> T:
        for _ in range(_OWN_WAITS):
            try:
                return self.run_inline(work)
            except LockBusy:
                pending = self._threaded_done
                if pending is None:
                    break  # someone else holds the lock: wait for it in the thread
                self.waits += 1
                await asyncio.shield(pending)
        return await self.run_threaded(work)

    def run_inline(self, work: SqliteWork[T]) -> T:
        """``fn(conn)`` in one transaction right here, on the loop; ``LockBusy`` at once
        (before any work) when another connection holds the write lock."""
        if self._inline is None:
            self._inline = self._connect(0, checkpoint=False)
        try:
            self._inline.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode & 0xFF not in _BUSY:
                raise
            raise LockBusy from None
        # we hold the write lock: the rest cannot wait on anyone
        try:
            result = work(self._inline)
            self._inline.execute("COMMIT")
        except BaseException:
            if self._inline.in_transaction:
                self._inline.execute("ROLLBACK")
            raise
        self.inline_runs += 1
        return result

    async def run_threaded(self, work: SqliteWork[T]) -> T:
        """``fn(conn)`` in one transaction in the writer's thread, never on the loop: for
        bigger batches (the request log's) that must not hold the loop for milliseconds."""
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="aigw-sqlite")
        if self._threaded is None:
            self._threaded = self._connect(self._busy_timeout_ms, checkpoint=True)
        conn = self._threaded
        loop = asyncio.get_running_loop()
        done = self._threaded_done = loop.create_future()
        try:
            result = await loop.run_in_executor(self._executor, self._transaction, conn, work)
        finally:
            if self._threaded_done is done:
                self._threaded_done = None
            done.set_result(None)
        self.threaded_runs += 1
        return result

    async def close(self) -> None:
        if self.inline_runs or self.threaded_runs:
            log.info(
                "sqlite direct writer: %d transactions inline (%d waits for the thread's), "
                "%d in its thread",
                self.inline_runs,
                self.waits,
                self.threaded_runs,
            )
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None
        for conn in (self._inline, self._threaded):
            if conn is not None:
                conn.close()
        self._inline = self._threaded = None
