"""Database fixtures: every store test runs against SQLite and a real PostgreSQL.

- ``database_url`` / ``database``: a migrated, empty database, parametrized ``sqlite`` (a file
  copied from a template migrated once per session) and ``postgresql`` (one throwaway
  ``aigw_test_<hex>`` database per session, truncated before each test).
- ``postgres_database_url``: the PostgreSQL half alone (mark such tests ``postgres``).
- ``fresh_database_url``: an empty, *unmigrated* database (for migration tests).
- ``pg_admin_url``: the server from ``AIGW_TEST_POSTGRES_URL``; unreachable means skip, or
  fail when ``CI=true``.
- ``async def`` tests run under ``asyncio.run`` (``pytest_pyfunc_call`` below); ``Database``
  arguments are closed inside that loop, since pooled connections belong to it.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import secrets
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from sqlalchemy import event
from sqlalchemy.engine import make_url

from aigw.store.db import Database
from aigw.store.tables import metadata

__all__ = [
    "StatementCounter",
    "eventually",
    "database",
    "database_url",
    "fresh_database_url",
    "pg_admin_url",
    "pg_database_factory",
    "pg_session_url",
    "postgres_database_url",
    "pytest_pyfunc_call",
    "sqlite_database",
    "sqlite_template",
]

DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/test"


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    """Run ``async def`` tests in a fresh event loop (no pytest-asyncio needed)."""
    func = pyfuncitem.obj
    if not inspect.iscoroutinefunction(func):
        return None
    names = inspect.signature(func).parameters
    kwargs = {name: pyfuncitem.funcargs[name] for name in names if name in pyfuncitem.funcargs}

    async def main() -> None:
        try:
            await func(**kwargs)
        finally:
            for value in kwargs.values():
                if isinstance(value, Database):
                    await value.close()

    asyncio.run(main())
    return True


class StatementCounter:
    """Records the SQL an engine sends: proof that a code path made no round trip."""

    def __init__(self, db: Database) -> None:
        self.statements: list[str] = []
        self._engine = db.engine.sync_engine
        event.listen(self._engine, "before_cursor_execute", self._on_execute)

    def _on_execute(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        self.statements.append(statement)

    @property
    def count(self) -> int:
        """Queries sent, not counting the ``BEGIN`` that SQLite transactions start with."""
        return sum(1 for s in self.statements if s.split(None, 1)[0].upper() != "BEGIN")

    def reset(self) -> None:
        self.statements.clear()

    def close(self) -> None:
        event.remove(self._engine, "before_cursor_execute", self._on_execute)


async def eventually(predicate: Callable[[], bool], within: float = 3.0) -> float:
    """Seconds until ``predicate()`` holds; fails the test after ``within`` seconds."""
    started = time.monotonic()
    while not predicate():
        if time.monotonic() - started > within:
            pytest.fail(f"condition not reached within {within}s")
        await asyncio.sleep(0.01)
    return time.monotonic() - started


# -- PostgreSQL ---------------------------------------------------------------------------


def _with_database(url: str, name: str) -> str:
    return make_url(url).set(database=name).render_as_string(hide_password=False)


def _asyncpg_dsn(url: str) -> str:
    """asyncpg wants plain ``postgresql://`` (no ``+driver``)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _pg_admin(url: str, sql: str) -> None:
    conn = await asyncpg.connect(_asyncpg_dsn(url), timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def pg_admin_url() -> str:
    url = os.environ.get("AIGW_TEST_POSTGRES_URL", DEFAULT_PG_URL)
    try:
        asyncio.run(_pg_admin(url, "SELECT 1"))
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        safe = make_url(url).render_as_string(hide_password=True)
        message = f"PostgreSQL not reachable at {safe} ({exc}); set AIGW_TEST_POSTGRES_URL"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return url


@pytest.fixture(scope="session")
def pg_database_factory(pg_admin_url: str) -> Iterator[Callable[[], str]]:
    """Creates throwaway empty databases (``aigw_test_<hex>``); all dropped at session end."""
    created: list[str] = []

    def create() -> str:
        name = f"aigw_test_{secrets.token_hex(6)}"
        asyncio.run(_pg_admin(pg_admin_url, f'CREATE DATABASE "{name}"'))
        created.append(name)
        return _with_database(pg_admin_url, name)

    yield create

    async def drop_all() -> None:
        for name in created:
            await _pg_admin(pg_admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    asyncio.run(drop_all())


async def _migrate(url: str) -> None:
    db = Database.from_url(url)
    try:
        await db.migrate()
    finally:
        await db.close()


@pytest.fixture(scope="session")
def pg_session_url(pg_database_factory: Callable[[], str]) -> str:
    """One migrated PostgreSQL database shared by the session (tests truncate it)."""
    url = pg_database_factory()
    asyncio.run(_migrate(url))
    return url


async def _truncate_pg(url: str) -> None:
    tables = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
    conn = await asyncpg.connect(_asyncpg_dsn(url), timeout=5)
    try:
        await conn.execute(f"TRUNCATE {tables} CASCADE")
    finally:
        await conn.close()


# -- SQLite -------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied per test (cheaper than migrating each time)."""
    path = tmp_path_factory.mktemp("sqlite-template") / "aigw.db"
    asyncio.run(_migrate(f"sqlite:///{path}"))
    return path


# -- what tests use -----------------------------------------------------------------------

DIALECTS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(params=DIALECTS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """URL of a migrated, empty database (SQLite file or PostgreSQL)."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "db" / "aigw.db"
        path.parent.mkdir()
        shutil.copyfile(template, path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("postgres_database_url")
    return url


@pytest.fixture
def postgres_database_url(pg_session_url: str) -> str:
    """The session's migrated PostgreSQL database, emptied (for PostgreSQL-only tests)."""
    asyncio.run(_truncate_pg(pg_session_url))
    return pg_session_url


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    """A ``Database`` on ``database_url``; connects lazily inside the test's event loop."""
    db = Database.from_url(database_url)
    yield db
    asyncio.run(db.close())


@pytest.fixture
def sqlite_database(sqlite_template: Path, tmp_path: Path) -> Iterator[Database]:
    """A ``Database`` on a migrated SQLite file of its own, for what only a file-backed
    SQLite has: body segment files, the charge journal, the one-hop writer."""
    path = tmp_path / "aigw.db"
    shutil.copyfile(sqlite_template, path)
    db = Database.from_url(f"sqlite:///{path}")
    yield db
    asyncio.run(db.close())


@pytest.fixture(params=DIALECTS)
def fresh_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """URL of an empty database with no schema at all."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'fresh.db'}"
    factory: Callable[[], str] = request.getfixturevalue("pg_database_factory")
    return factory()
