"""Who else serves from this database: refuse a second process without a shared store.

Each gateway process registers itself in ``meta`` (``instance:<id>``) and refreshes the row
every few seconds. Rate limits and wallet reservations only hold across processes when they
share Redis, so a process without ``redis_url`` refuses to start while another live process
uses the same database, and a shared process refuses to join unshared ones.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import socket
from dataclasses import dataclass

import orjson
from sqlalchemy import delete, select

from aigw.errors import ConfigError
from aigw.store.db import Database
from aigw.store.meta import set_meta
from aigw.store.tables import meta, now_ms

PREFIX = "instance:"
HEARTBEAT = 3.0
STALE_AFTER_MS = 15_000


@dataclass(frozen=True, slots=True)
class Instance:
    id: str
    host: str
    pid: int
    shared: bool
    seen: int


def _alive(other: Instance, now: int) -> bool:
    if now - other.seen > STALE_AFTER_MS:
        return False
    if other.host == socket.gethostname():
        try:
            os.kill(other.pid, 0)
        except ProcessLookupError:
            return False  # died without deregistering (crash, kill -9)
        except PermissionError:
            return True
    return True


async def live_instances(db: Database) -> list[Instance]:
    async with db.engine.connect() as conn:
        rows = await conn.execute(
            select(meta.c.key, meta.c.value).where(meta.c.key.like(PREFIX + "%"))
        )
        found = []
        for key, value in rows:
            data = orjson.loads(value)
            found.append(
                Instance(
                    key[len(PREFIX) :], data["host"], data["pid"], data["shared"], data["seen"]
                )
            )
    now = now_ms()
    return [i for i in found if _alive(i, now)]


class Registration:
    """This process's row: checked at start-up, refreshed until stop."""

    def __init__(self, db: Database, *, shared: bool) -> None:
        self.db = db
        self.shared = shared
        self.id = secrets.token_hex(8)
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        others = await live_instances(self.db)
        if others and not (self.shared and all(o.shared for o in others)):
            where = ", ".join(f"pid {o.pid} on {o.host}" for o in others)
            raise ConfigError(
                f"another aigw process already serves from this database ({where}). Running "
                "more than one process needs a shared store for limits and wallets: set "
                "AIGW_REDIS_URL (and a postgresql:// database for replicas on several hosts) "
                "on every process."
            )
        await self._beat()
        self._task = asyncio.create_task(self._run(), name="aigw-instance-heartbeat")

    async def _beat(self) -> None:
        value = {"host": socket.gethostname(), "pid": os.getpid(), "shared": self.shared}
        await set_meta(
            self.db, PREFIX + self.id, orjson.dumps({**value, "seen": now_ms()}).decode()
        )

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT)
            with contextlib.suppress(Exception):  # a database outage must not stop serving
                await self._beat()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        with contextlib.suppress(Exception):
            async with self.db.write() as conn:
                await conn.execute(delete(meta).where(meta.c.key == PREFIX + self.id))
