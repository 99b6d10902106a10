"""``aigw serve --workers N``: N processes on one port, sharing PostgreSQL and Redis.

The supervisor migrates the database and creates the admin key once (so exactly one banner
shows it), then starts the workers and stops them all when it is stopped or one dies.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import signal
import sys
import time
from types import FrameType

from aigw.config import Settings
from aigw.errors import ConfigError
from aigw.store.db import Database
from aigw.store.meta import ensure_admin_key


def check_shared_store(settings: Settings, workers: int) -> None:
    if not settings.redis_url or not settings.database_url.startswith(("postgresql", "postgres")):
        raise ConfigError(
            f"--workers {workers} needs a shared store: limits and wallets must hold across "
            "processes. Set AIGW_REDIS_URL and a postgresql:// AIGW_DATABASE_URL, or run one "
            "process (SQLite and in-process limits serve a single process)."
        )


async def _prepare(settings: Settings) -> str | None:
    db = Database.from_url(settings.database_url)
    try:
        await db.migrate()
        return await ensure_admin_key(db, settings.admin_key)
    finally:
        await db.close()


def supervise(settings: Settings, command: str, workers: int) -> None:
    from aigw.server.run import run_worker

    check_shared_store(settings, workers)
    generated = asyncio.run(_prepare(settings))
    if generated:
        print(f"Admin key (shown once; set AIGW_ADMIN_KEY to choose your own): {generated}")
    ctx = multiprocessing.get_context("spawn")
    procs = [
        ctx.Process(target=run_worker, args=(settings, command, i), name=f"aigw-worker-{i}")
        for i in range(workers)
    ]
    for proc in procs:
        proc.start()
    stopping = False

    def stop(_sig: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(
        f"aigw: {workers} workers on {settings.host}:{settings.port}", file=sys.stderr, flush=True
    )
    while not stopping and all(p.is_alive() for p in procs):
        time.sleep(0.2)
    failed = [p for p in procs if not p.is_alive() and p.exitcode]
    for proc in procs:
        if proc.is_alive():
            proc.terminate()
    for proc in procs:
        proc.join(15)
        if proc.is_alive():
            proc.kill()
    if failed and not stopping:
        raise SystemExit(f"aigw: worker {failed[0].name} exited with {failed[0].exitcode}")
