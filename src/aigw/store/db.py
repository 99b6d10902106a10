"""The database handle: one async engine (SQLite via aiosqlite, PostgreSQL via asyncpg).

SQLite is tuned for a gateway: WAL (readers never block the writer), a busy timeout instead of
instant "database is locked", foreign keys on, and real ``BEGIN`` statements so transactions
mean what they say (the sqlite3 module's implicit transactions do not). ``write()`` starts a
transaction with ``BEGIN IMMEDIATE`` on SQLite so read-then-write code waits for the lock up
front instead of failing half-way.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
import time
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Table, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import AsyncAdaptedQueuePool

from aigw.errors import ConfigError
from aigw.store.body_segments import BodySegments, directory_for
from aigw.store.sqlite_writer import SqliteWriter

log = logging.getLogger("aigw.store")

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
# pg_advisory_xact_lock key serialising migrations across processes ("aigw" in ASCII).
_MIGRATION_LOCK = 0x61696777
_IMMEDIATE = "aigw_sqlite_immediate"

Insert = sqlite.Insert | postgresql.Insert


def _normalise_url(url: str) -> URL:
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(f"invalid database URL: {url.split('://')[0]}://...") from None
    name = parsed.drivername
    if name in ("sqlite", "sqlite+aiosqlite"):
        if not parsed.database or parsed.database == ":memory:" or "mode=memory" in url:
            raise ConfigError("database_url: an in-memory SQLite database is not supported")
        path = str(Path(parsed.database).expanduser())
        return parsed.set(drivername="sqlite+aiosqlite", database=path)
    if name in ("postgresql", "postgres", "postgresql+asyncpg"):
        query = dict(parsed.query)
        if "sslmode" in query:  # libpq spelling; asyncpg calls it "ssl"
            query["ssl"] = query.pop("sslmode")
        return parsed.set(drivername="postgresql+asyncpg", query=query)
    raise ConfigError(
        f"database_url: unsupported scheme {name!r} (use sqlite:///PATH or postgresql://...)"
    )


class Database:
    """An async engine plus the few dialect facts the repositories need."""

    def __init__(self, engine: AsyncEngine, *, busy_timeout_ms: int = 5000) -> None:
        self._engine = engine
        self._direct: SqliteWriter | None = None
        self._body_segments: BodySegments | None = None
        self._sqlite_file: str | None = None
        self._workers = _AiosqliteWorkers()
        if engine.dialect.name == "sqlite" and engine.url.database:
            self._workers.watch(engine)
            self._direct = SqliteWriter(engine.url.database, busy_timeout_ms=busy_timeout_ms)
            if engine.url.database != ":memory:":
                self._sqlite_file = engine.url.database
                self._body_segments = BodySegments(directory_for(engine.url.database))

    @classmethod
    def from_url(cls, url: str, *, busy_timeout_ms: int = 5000, pool_size: int = 10) -> Database:
        parsed = _normalise_url(url)
        if parsed.drivername.startswith("sqlite"):
            assert parsed.database is not None
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            engine = create_async_engine(
                parsed,
                poolclass=AsyncAdaptedQueuePool,
                pool_size=pool_size,
                max_overflow=pool_size,
            )
            _tune_sqlite(engine, busy_timeout_ms)
        else:
            engine = create_async_engine(
                parsed,
                pool_size=pool_size,
                max_overflow=pool_size,
                pool_recycle=1800,
                pool_pre_ping=True,  # survive a server restart without restarting us
                connect_args={"timeout": 10},
            )
        db = cls(engine, busy_timeout_ms=busy_timeout_ms)
        log.debug("database %s", db.safe_url)
        return db

    @property
    def engine(self) -> AsyncEngine:
        return self._engine

    @property
    def direct(self) -> SqliteWriter | None:
        """The one-hop writer for hot small transactions (SQLite only; None on PostgreSQL,
        where asyncpg has no thread hop to save)."""
        return self._direct

    @property
    def sqlite_file(self) -> str | None:
        """The database file's path (file-backed SQLite), else None."""
        return self._sqlite_file

    @property
    def body_segments(self) -> BodySegments | None:
        """Where replay bodies are appended (file-backed SQLite only; None: the
        request_bodies table, shared by replicas on PostgreSQL)."""
        return self._body_segments

    @property
    def dialect(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return self._engine.dialect.name

    @property
    def safe_url(self) -> str:
        """The URL with the password masked: the only form that may be logged."""
        return self._engine.url.render_as_string(hide_password=True)

    def __repr__(self) -> str:
        return f"Database({self.safe_url!r})"

    def insert(self, table: Table) -> Insert:
        """A dialect-specific INSERT that supports ``on_conflict_do_nothing/_update``."""
        if self.dialect == "postgresql":
            return postgresql.insert(table)
        return sqlite.insert(table)

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """A transaction that takes the write lock up front on SQLite (``BEGIN IMMEDIATE``).

        Every write transaction in the code base uses it. A deferred SQLite transaction that
        reads and then writes fails with "database is locked" (a stale WAL snapshot) as soon
        as another connection wrote in between, without waiting; the request log, the replay
        bodies and the ledger each write on their own connection, so that is common.
        On PostgreSQL it is a plain transaction: there, use atomic UPDATEs or row locks
        (``SELECT ... FOR UPDATE``) for read-then-write.
        """
        async with self._engine.connect() as conn:
            await conn.execution_options(**{_IMMEDIATE: True})
            async with conn.begin():
                yield conn

    async def migrate(self) -> None:
        """Upgrade the schema to head; idempotent and safe when several processes start at once.

        PostgreSQL serialises concurrent upgrades with an advisory lock held for the
        transaction; SQLite does the same with ``BEGIN IMMEDIATE``. DDL is transactional on
        both, so a failed upgrade leaves the schema as it was.
        """
        async with self.write() as conn:
            if self.dialect == "postgresql":
                await conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _MIGRATION_LOCK})
            await conn.run_sync(_upgrade_to_head)
        log.info("database schema is up to date (%s)", self.safe_url)

    async def close(self) -> None:
        if self._direct is not None:
            await self._direct.close()
        if self._body_segments is not None:
            self._body_segments.close()
        await self._engine.dispose()
        await self._workers.ended(_WORKERS_END_SECONDS)


_WORKERS_END_SECONDS = 5.0


class _AiosqliteWorkers:
    """The worker threads of the engine's aiosqlite connections, so ``close`` can wait for
    those still finishing their last statement.

    A task cancelled in the middle of a query (shutdown stopping a background loop) can make
    SQLAlchemy terminate its connection: aiosqlite queues the stop behind the statement
    still running in its thread and returns at once. If the event loop closes before that
    thread ends, the thread reports back to a closed loop (``RuntimeError`` in the thread),
    and SQLAlchemy's shielded graceful close can wait forever on a thread that has already
    stopped, hanging ``asyncio.run``'s final cancellation (sqlalchemy #13039, aiosqlite
    #369, seen elsewhere as a hang on Ctrl+C). Waiting here for every stopping thread to end
    lets both finish while the loop still runs.
    """

    def __init__(self) -> None:
        self._seen: list[tuple[threading.Thread, weakref.ref[Any]]] = []

    def watch(self, engine: AsyncEngine) -> None:
        @event.listens_for(engine.sync_engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            conn = getattr(dbapi_conn, "_connection", None)  # the aiosqlite.Connection
            thread = getattr(conn, "_thread", None)
            if isinstance(thread, threading.Thread):
                self._seen = [(t, c) for t, c in self._seen if t.is_alive()]
                self._seen.append((thread, weakref.ref(conn)))

    def _stopping(self) -> list[threading.Thread]:
        """Alive threads whose connection was stopped (closed, terminated or collected);
        a connection still open (one leaked, never returned) is nobody's to wait for."""
        found = []
        for thread, ref in self._seen:
            conn = ref()
            if thread.is_alive() and (conn is None or not getattr(conn, "_running", True)):
                found.append(thread)
        return found

    async def ended(self, within: float) -> None:
        """Wait (in a thread: the loop must keep running for them) until the stopping
        threads have ended, at most ``within`` seconds."""
        if stopping := self._stopping():
            await asyncio.to_thread(_join, stopping, within)
            if left := [t for t in stopping if t.is_alive()]:
                log.warning("%d SQLite worker threads still busy at shutdown", len(left))


def _join(threads: list[threading.Thread], within: float) -> None:
    deadline = time.monotonic() + within
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic settings built in code (no alembic.ini needed at runtime)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["connection"] = connection
    return cfg


def _upgrade_to_head(connection: Connection) -> None:
    command.upgrade(alembic_config(connection), "head")


def _tune_sqlite(engine: AsyncEngine, busy_timeout_ms: int) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy emit BEGIN itself (see "begin" below) instead of sqlite3's guesswork.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        _enable_wal(cursor, busy_timeout_ms / 1000)
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get(_IMMEDIATE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _enable_wal(cursor: Any, within: float) -> None:
    """Switch to WAL, retrying: on a brand-new file several processes connecting at once race
    for the exclusive lock this needs, and SQLite reports "locked" without waiting."""
    deadline = time.monotonic() + within
    while True:
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)
