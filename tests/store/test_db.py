from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select, text, update

from aigw.errors import ConfigError
from aigw.store.db import Database
from aigw.store.meta import get_meta, set_meta
from aigw.store.tables import meta


def test_url_conversion(tmp_path: Path) -> None:
    db = Database.from_url(f"sqlite:///{tmp_path}/sub/dir/x.db")
    assert db.engine.url.drivername == "sqlite+aiosqlite"
    assert db.dialect == "sqlite"
    assert (tmp_path / "sub" / "dir").is_dir()  # parent created so first start just works
    for url in ("postgresql://u@h:5432/d", "postgres://u@h/d", "postgresql+asyncpg://u@h/d"):
        pg = Database.from_url(url)
        assert pg.engine.url.drivername == "postgresql+asyncpg"
        assert pg.dialect == "postgresql"
    ssl = Database.from_url("postgresql://u@h/d?sslmode=require")
    assert ssl.engine.url.query == {"ssl": "require"}


def test_relative_sqlite_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    db = Database.from_url("sqlite:///data/aigw.db")
    assert db.engine.url.database == "data/aigw.db"
    assert (tmp_path / "data").is_dir()


@pytest.mark.parametrize(
    "url",
    ["sqlite:///:memory:", "sqlite://", "mysql://u@h/d", "postgresql+psycopg2://u@h/d", "nope"],
)
def test_unsupported_urls_are_config_errors(url: str) -> None:
    with pytest.raises(ConfigError):
        Database.from_url(url)


def test_password_never_in_safe_url() -> None:
    db = Database.from_url("postgresql://alice:s3cret@db.example:5432/aigw")
    assert "s3cret" not in db.safe_url
    assert "s3cret" not in repr(db)
    assert "alice" in db.safe_url


async def test_sqlite_pragmas(tmp_path: Path) -> None:
    db = Database.from_url(f"sqlite:///{tmp_path}/p.db", busy_timeout_ms=1234)
    try:
        async with db.engine.connect() as conn:
            assert (await conn.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
            assert (await conn.execute(text("PRAGMA foreign_keys"))).scalar() == 1
            assert (await conn.execute(text("PRAGMA busy_timeout"))).scalar() == 1234
    finally:
        await db.close()


async def test_transactions_roll_back(database: Database) -> None:
    with pytest.raises(RuntimeError):
        async with database.engine.begin() as conn:
            await conn.execute(meta.insert().values(key="k", value="v"))
            raise RuntimeError
    assert await get_meta(database, "k") is None


async def test_sqlite_write_transactions_serialise(tmp_path: Path) -> None:
    """Read-then-write under ``write()`` neither fails with "locked" nor loses updates."""
    url = f"sqlite:///{tmp_path}/w.db"
    dbs = [Database.from_url(url) for _ in range(2)]  # two engines: like two processes
    try:
        await dbs[0].migrate()
        await set_meta(dbs[0], "n", "0")

        async def bump(db: Database) -> None:
            async with db.write() as conn:
                n = int((await conn.execute(select(meta.c.value))).scalar_one())
                await asyncio.sleep(0.001)
                await conn.execute(update(meta).values(value=str(n + 1)))

        await asyncio.gather(*(bump(dbs[i % 2]) for i in range(20)))
        assert await get_meta(dbs[0], "n") == "20"
    finally:
        for db in dbs:
            await db.close()


_CANCELLED_MID_QUERY = """
import asyncio, sys, threading
from sqlalchemy import text
from aigw.store.db import Database

raised = []
threading.excepthook = lambda args: raised.append(repr(args.exc_value))
SLOW = ("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 2000000) "
        "SELECT count(*) FROM c")

async def main() -> None:
    db = Database.from_url("sqlite:///" + sys.argv[1])
    await db.migrate()

    async def slow() -> None:
        async with db.engine.connect() as conn:
            await conn.execute(text(SLOW))

    task = asyncio.create_task(slow())
    await asyncio.sleep(0.1)  # the query runs in aiosqlite's thread now
    for _ in range(2):  # cancelled again while it cleans up: SQLAlchemy terminates it
        task.cancel()
        await asyncio.sleep(0.02)
    await asyncio.gather(task, return_exceptions=True)
    await db.close()

asyncio.run(main())  # closes the loop right after close() returns
for thread in threading.enumerate():
    if thread is not threading.main_thread():
        thread.join(10)
print("raised:", raised)
"""


def test_a_query_cancelled_at_shutdown_neither_hangs_nor_outlives_the_loop(
    tmp_path: Path,
) -> None:
    """A task cancelled twice in the middle of a query (shutdown stopping a background loop
    while it cleans up) makes SQLAlchemy terminate the connection with the statement still
    running in aiosqlite's thread. Before ``close`` waited for that thread, ``asyncio.run``
    hung on SQLAlchemy's shielded close, or the thread reported to a closed loop."""
    done = subprocess.run(
        [sys.executable, "-c", _CANCELLED_MID_QUERY, str(tmp_path / "x.db")],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    assert done.returncode == 0, done.stderr
    assert "raised: []" in done.stdout, done.stdout + done.stderr
