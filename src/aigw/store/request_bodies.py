"""Request bodies and outputs kept for replays: written with the request log (same batch
writer, off the response path), zlib-compressed, pruned after the retention period.

Whether an account opted out is checked when a batch is written (one query per batch), so an
opt-out takes effect for everything not yet written, and the hot path never asks.
"""

from __future__ import annotations

import asyncio
import zlib
from dataclasses import dataclass

from sqlalchemy import delete, select

from aigw.replays.capture import output_text
from aigw.store.db import Database
from aigw.store.tables import accounts, request_bodies


@dataclass(slots=True)
class BodyEntry:
    """What the hot path hands over: references only, nothing computed yet."""

    request_id: str
    account_id: str
    created_at: int  # unix ms
    request: bytes
    output: list[bytes] | None
    streamed: bool


@dataclass(frozen=True, slots=True)
class StoredBody:
    request_id: str
    account_id: str
    created_at: int
    request: bytes  # decompressed JSON
    output: str | None


def pack(text: str | bytes | None) -> bytes | None:
    if text is None:
        return None
    return zlib.compress(text.encode() if isinstance(text, str) else text, 6)


def unpack(blob: bytes | None) -> str | None:
    return None if blob is None else zlib.decompress(blob).decode("utf-8", "replace")


def _rows(entries: list[BodyEntry], order: tuple[str, ...]) -> list[tuple[object, ...]]:
    rows = []
    for e in entries:
        text = output_text(e.output, streamed=e.streamed) if e.output is not None else None
        row = {
            "request_id": e.request_id[:128],
            "account_id": e.account_id,
            "created_at": e.created_at,
            "request": zlib.compress(e.request, 6),
            "output": pack(text),
        }
        rows.append(tuple(row[name] for name in order))
    return rows


# The INSERT rendered once per dialect and sent as a raw executemany (as the request log
# does): SQLAlchemy recompiles a dialect INSERT .. ON CONFLICT on every execution (it is not
# cacheable) and processes every row's parameters in Python, on the event loop.
_INSERTS: dict[str, tuple[str, tuple[str, ...]]] = {}


def _insert(db: Database) -> tuple[str, tuple[str, ...]]:
    dialect = db.engine.dialect
    found = _INSERTS.get(dialect.name)
    if found is None:
        insert = db.insert(request_bodies).on_conflict_do_nothing(index_elements=["request_id"])
        compiled = insert.compile(dialect=dialect)
        found = _INSERTS[dialect.name] = (str(compiled), tuple(compiled.positiontup or ()))
    return found


async def opted_out(db: Database, account_ids: set[str]) -> set[str]:
    async with db.engine.connect() as conn:
        found = await conn.execute(
            select(accounts.c.id).where(
                accounts.c.id.in_(sorted(account_ids)), accounts.c.store_bodies.is_(False)
            )
        )
        return set(found.scalars())


async def write(db: Database, entries: list[BodyEntry]) -> int:
    """Store the entries of accounts that did not opt out; returns how many were stored."""
    refused = await opted_out(db, {e.account_id for e in entries})
    kept = [e for e in entries if e.account_id not in refused]
    if not kept:
        return 0
    sql, order = _insert(db)
    rows = await asyncio.to_thread(_rows, kept, order)  # compression is CPU: off the loop
    async with db.engine.begin() as conn:
        await conn.exec_driver_sql(sql, rows)
    return len(rows)


async def load(db: Database, request_id: str) -> StoredBody | None:
    async with db.engine.connect() as conn:
        row = (
            await conn.execute(
                select(request_bodies).where(request_bodies.c.request_id == request_id)
            )
        ).first()
    if row is None:
        return None
    return StoredBody(
        request_id=row.request_id,
        account_id=row.account_id,
        created_at=int(row.created_at),
        request=zlib.decompress(row.request),
        output=unpack(row.output),
    )


async def prune(db: Database, before_ms: int) -> int:
    """Delete bodies stored before ``before_ms``; returns how many."""
    async with db.engine.begin() as conn:
        done = await conn.execute(
            delete(request_bodies).where(request_bodies.c.created_at < before_ms)
        )
    return int(done.rowcount or 0)
