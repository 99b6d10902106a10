"""Request bodies and outputs kept for replays: written with the request log (same batch
writer, off the response path), zlib-compressed, pruned after the retention period.

Whether an account opted out is checked when a batch is written, before anything is packed
(in the database so every worker sees a PATCH at once): an opt-out takes effect for all not
yet written, the bodies of accounts already out are never compressed, and the hot path never
asks. A segment slice is checked again once packed, right before it is appended; the SQLite
table checks the kept accounts again in the insert's transaction (``_write_direct``);
PostgreSQL does not (a PATCH while a batch is being packed applies from the next batch).

The answer is stored as the bytes the client received, behind a one-byte tag saying JSON or
SSE, compressed or not; its text is extracted (``replays.capture.output_text``) only when a
replay reads it. Rows written before kept the text itself (zlib level 6: the blob's first
byte is zlib's 0x78), and read as before.

Small blobs (under ``_RAW_BELOW`` bytes) are stored as they are: setting up a zlib stream
costs a few microseconds however little it is given, and on a typical chat request and
answer (a few hundred bytes each) it saved under a third of the bytes for about 15 µs of
the gateway's one core per request (bench/RESULTS.md). A zlib stream's first byte always
has 8 in its low four bits, so the tags below can never be mistaken for one.
"""

from __future__ import annotations

import asyncio
import functools
import sqlite3
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, delete, select

from aigw.replays.capture import output_text
from aigw.store.body_segments import BodySegments, Record
from aigw.store.db import Database
from aigw.store.tables import accounts, request_bodies, request_log


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


# The output column's formats: the answer as received (new rows), or its text (older rows,
# plain zlib, whose first byte is always 0x78).
_WHOLE = b"\x01"  # + zlib of the JSON answer
_STREAM = b"\x02"  # + zlib of the SSE stream
_WHOLE_RAW = b"\x03"  # + the JSON answer itself
_STREAM_RAW = b"\x04"  # + the SSE stream itself
# The request column: zlib of the JSON body, or this tag and the body itself.
_REQUEST_RAW = b"\x00"
_RAW_BELOW = 1024  # bytes: smaller blobs are not worth a zlib stream
_LEVEL = 1  # zlib level: ~2x cheaper than 6 on the answers and bodies kept here
# A 4 KB window and a small memLevel: zlib's default state (32 KB window, memLevel 8) is
# ~270 KB to set up per call, which was most of the cost on bodies of a kilobyte or two
# (84 -> 14 µs for a request and its answer); zlib.decompress reads any window size.
_WBITS, _MEM_LEVEL = 12, 4


def _compress(data: bytes) -> bytes:
    packer = zlib.compressobj(_LEVEL, zlib.DEFLATED, _WBITS, _MEM_LEVEL)
    return packer.compress(data) + packer.flush()


def pack_answer(chunks: list[bytes] | None, *, streamed: bool) -> bytes | None:
    """The output column for an answer as sent (None when nothing was sent)."""
    if not chunks:
        return None
    raw = b"".join(chunks)
    if not raw:
        return None
    if len(raw) < _RAW_BELOW:
        return (_STREAM_RAW if streamed else _WHOLE_RAW) + raw
    return (_STREAM if streamed else _WHOLE) + _compress(raw)


def unpack_answer(blob: bytes | None) -> str | None:
    """The answer's text from the output column, in any of its formats."""
    if blob is None:
        return None
    tag = blob[:1]
    if tag == _WHOLE or tag == _STREAM:
        return output_text([zlib.decompress(blob[1:])], streamed=tag == _STREAM)
    if tag == _WHOLE_RAW or tag == _STREAM_RAW:
        return output_text([blob[1:]], streamed=tag == _STREAM_RAW)
    return unpack(blob)  # a row from before: the text itself


def pack_request(body: bytes) -> bytes:
    """The request column: the body itself when small, else zlib of it."""
    return _REQUEST_RAW + body if len(body) < _RAW_BELOW else _compress(body)


def unpack_request(blob: bytes) -> bytes:
    return blob[1:] if blob[:1] == _REQUEST_RAW else zlib.decompress(blob)


def _rows(entries: list[BodyEntry], order: tuple[str, ...]) -> list[tuple[object, ...]]:
    rows = []
    for e in entries:
        row = {
            "request_id": e.request_id[:128],
            "account_id": e.account_id,
            "created_at": e.created_at,
            "request": pack_request(e.request),
            "output": pack_answer(e.output, streamed=e.streamed),
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


# The opt-out SELECT, rendered once per dialect and number of accounts and sent raw: through
# SQLAlchemy it was compiled-cache lookups, result processing and an IN list expanded in
# Python on every batch.
_OPTED_OUT: dict[tuple[str, int], str] = {}


def _opted_out_sql(db: Database, count: int) -> str:
    dialect = db.engine.dialect
    found = _OPTED_OUT.get((dialect.name, count))
    if found is None:
        ids: list[Any] = [bindparam(f"a{i}") for i in range(count)]
        query = select(accounts.c.id).where(
            accounts.c.id.in_(ids), accounts.c.store_bodies.is_(False)
        )
        compiled = query.compile(dialect=dialect)
        assert compiled.positiontup == [f"a{i}" for i in range(count)], compiled.positiontup
        if len(_OPTED_OUT) >= 1024:
            _OPTED_OUT.clear()
        found = _OPTED_OUT[(dialect.name, count)] = str(compiled)
    return found


async def opted_out(db: Database, account_ids: set[str]) -> set[str]:
    """Those of ``account_ids`` that opted out (SQLite: inline, no aiosqlite round trips)."""
    ids = tuple(sorted(account_ids))
    if not ids:
        return set()
    sql = _opted_out_sql(db, len(ids))
    if db.direct is not None:
        return await db.direct.run(functools.partial(_refused, ids=ids, sql=sql))
    async with db.engine.connect() as conn:
        found = await conn.exec_driver_sql(sql, ids)
        return {row[0] for row in found}


def _refused(conn: sqlite3.Connection, ids: tuple[str, ...], sql: str) -> set[str]:
    return {row[0] for row in conn.execute(sql, ids)}


def _write_direct(
    conn: sqlite3.Connection,
    rows: list[tuple[object, ...]],
    account_at: int,
    opted_sql: str,
    insert: str,
    id_at: int,
) -> list[str]:
    """SQLite: the insert, with the kept accounts checked again under the write lock, so an
    opt-out committed while the rows were packed (before the lock: it is held for the inserts
    alone) is still honoured, as when this was the only check."""
    ids = tuple(sorted({str(row[account_at]) for row in rows}))
    refused = _refused(conn, ids, opted_sql)
    kept = [row for row in rows if row[account_at] not in refused]
    if kept:
        conn.executemany(insert, kept)
    return [str(row[id_at]) for row in kept]


# Bodies are packed (and, on a SQLite file, appended) on the event loop, in slices of at most
# this many bytes of input with a yield between slices. A thread hop per batch cost more
# than the packing itself: on one core the worker and the loop take the GIL from each other
# (measured, ~8 us of the core per request logged at concurrency 16), while a slice of small
# bodies packs in well under a millisecond and a slice of big ones (zlib, level 1) holds the
# loop for a millisecond or two at most.
_SLICE_BYTES = 256 * 1024


def _slices(entries: list[BodyEntry]) -> Iterator[list[BodyEntry]]:
    """``entries`` in runs of at most ``_SLICE_BYTES`` of bodies (at least one entry each)."""
    run: list[BodyEntry] = []
    size = 0
    for e in entries:
        n = len(e.request) + (sum(map(len, e.output)) if e.output else 0)
        if run and size + n > _SLICE_BYTES:
            yield run
            run, size = [], 0
        run.append(e)
        size += n
    if run:
        yield run


async def write(db: Database, entries: list[BodyEntry]) -> dict[str, str | None]:
    """Store the entries of accounts that did not opt out. Returns, per stored request id,
    its body ref (a segment record: file-backed SQLite) or None (a request_bodies row).
    Only the kept entries are packed."""
    refused = await opted_out(db, {e.account_id for e in entries})
    kept = [e for e in entries if e.account_id not in refused]
    if not kept:
        return {}
    segments = db.body_segments
    if segments is not None:
        stored: dict[str, str | None] = {}
        for i, part in enumerate(_slices(kept)):
            if i:
                await asyncio.sleep(0)
            records = _records(part)
            # an opt-out committed (by any worker) since the first check is still honoured
            late = await opted_out(db, {e.account_id for e in part})
            records = [r for r, e in zip(records, part, strict=True) if e.account_id not in late]
            if records:
                stored.update(zip((r[0] for r in records), segments.append(records), strict=True))
        return stored
    sql, order = _insert(db)
    rows: list[tuple[object, ...]] = []
    for i, part in enumerate(_slices(kept)):
        if i:
            await asyncio.sleep(0)
        rows += _rows(part, order)
    if db.direct is not None:
        work = functools.partial(
            _write_direct,
            rows=rows,
            account_at=order.index("account_id"),
            id_at=order.index("request_id"),
            opted_sql=_opted_out_sql(db, len({e.account_id for e in kept})),
            insert=sql,
        )
        stored_ids = await db.direct.run_threaded(work)
        return dict.fromkeys(stored_ids)
    async with db.write() as conn:
        await conn.exec_driver_sql(sql, rows)
    return dict.fromkeys(e.request_id for e in kept)


def _records(entries: list[BodyEntry]) -> list[Record]:
    return [
        (e.request_id, pack_request(e.request), pack_answer(e.output, streamed=e.streamed))
        for e in entries
    ]


async def load(db: Database, request_id: str) -> StoredBody | None:
    """The kept body of ``request_id``: from its segment record, else from the table (on
    PostgreSQL, and for rows written before segments)."""
    segments = db.body_segments
    if segments is not None:
        found = await _load_from_segment(db, segments, request_id)
        if found is not None:
            return found
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
        request=unpack_request(row.request),
        output=unpack_answer(row.output),
    )


async def _load_from_segment(
    db: Database, segments: BodySegments, request_id: str
) -> StoredBody | None:
    query = select(request_log.c.body_ref, request_log.c.account_id, request_log.c.created_at)
    async with db.engine.connect() as conn:
        row = (await conn.execute(query.where(request_log.c.id == request_id))).first()
    if row is None or row.body_ref is None:
        return None
    columns = await asyncio.to_thread(segments.read, row.body_ref, request_id)
    if columns is None:
        return None
    request, output = columns
    return StoredBody(
        request_id=request_id,
        account_id=row.account_id or "",
        created_at=int(row.created_at),
        request=unpack_request(request),
        output=unpack_answer(output),
    )


@dataclass(frozen=True, slots=True)
class Pruned:
    rows: int  # request_bodies rows deleted
    segments: int  # segment files deleted


async def prune(db: Database, before_ms: int) -> Pruned:
    """Delete bodies stored before ``before_ms``: table rows by their time, segment files
    by their last write (store/body_segments.py)."""
    async with db.write() as conn:
        done = await conn.execute(
            delete(request_bodies).where(request_bodies.c.created_at < before_ms)
        )
    files = 0
    if db.body_segments is not None:
        files = await asyncio.to_thread(db.body_segments.prune, before_ms)
    return Pruned(int(done.rowcount or 0), files)
