"""The request log: one row per request, written in batches off the request path.

``RequestLogWriter.record()`` only appends to an in-memory buffer; a background task writes
batches. Each batch is ONE executemany of a single prepared ``INSERT ... ON CONFLICT DO
NOTHING``: measured here, a 500-row ``INSERT ... VALUES (...), (...)`` statement costs ~100 ms
of event-loop CPU to compile (it would stall every request), executemany ~3-4 ms.
``ON CONFLICT DO NOTHING`` on the request id makes a retried batch idempotent, so a batch that
failed half-way can simply be written again (the price: a reused request id is logged once).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import sqlite3
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, fields
from operator import attrgetter
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError, OperationalError

from aigw.store import request_bodies
from aigw.store.db import Database
from aigw.store.request_bodies import BodyEntry
from aigw.store.sqlite_rows import insert_rows
from aigw.store.tables import BODY_REF_MAX, ID, MODEL_MAX, NAME_MAX, TAG_MAX, request_log

log = logging.getLogger("aigw.request_log")


@dataclass(slots=True)
class RequestLogEntry:
    """One request_log row (field names and order are the table's columns)."""

    id: str
    created_at: int  # unix ms
    account_id: str | None
    key_id: str | None
    tag: str | None
    model: str | None
    provider: str | None
    status: int
    error_type: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    reasoning_tokens: int = 0
    cost_micro_cents: int = 0
    latency_ms: float = 0.0
    ttft_ms: float | None = None
    streamed: bool = False
    client_request_id: str | None = None
    sub_account_id: str | None = None
    charged_micro_cents: int = 0
    byok: bool = False
    body_ref: str | None = None  # set by the writer when it stored the body in a segment


_FIELDS = tuple(f.name for f in fields(RequestLogEntry))
_COLUMNS = tuple(request_log.c[name] for name in _FIELDS)
# Text columns are cut to their width so one odd value cannot fail a whole batch.
_LIMITS = (
    ("id", 128),
    ("account_id", ID),
    ("key_id", ID),
    ("tag", TAG_MAX),
    ("model", MODEL_MAX),
    ("provider", NAME_MAX),
    ("error_type", NAME_MAX),
    ("client_request_id", 128),
    ("sub_account_id", ID),
    ("body_ref", BODY_REF_MAX),
)


Params = tuple[Any, ...]


def _params_maker(order: tuple[str, ...]) -> Callable[[RequestLogEntry], Params]:
    """An entry's INSERT parameters in the statement's order, text cut to its column width.

    Built straight from the entry's attributes (one ``attrgetter`` call): no per-row dict."""
    getter = attrgetter(*order)
    widths = dict(_LIMITS)
    cuts = tuple((i, widths[name]) for i, name in enumerate(order) if name in widths)

    def params(entry: RequestLogEntry) -> Params:
        values: Params = getter(entry)
        for i, limit in cuts:
            value = values[i]
            if value is not None and len(value) > limit:
                cut = list(values)
                for j, width in cuts:
                    if cut[j] is not None:
                        cut[j] = cut[j][:width]
                return tuple(cut)
        return values

    return params


def _is_transient(exc: BaseException) -> bool:
    """Errors that mean "database unavailable or busy": keep the batch and retry later."""
    if isinstance(exc, OperationalError | OSError | TimeoutError | sqlite3.OperationalError):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


class RequestLogWriter:
    """Buffers entries and writes them in batches; never delays a response.

    On database errors the batch is kept and retried with exponential backoff. The buffer is
    bounded (``max_buffer``); past that the oldest entries are dropped and the drops counted
    in an error log line. A row the database rejects (bad data) is dropped on its own, so it
    cannot block the rows behind it.
    """

    def __init__(
        self,
        db: Database,
        flush_seconds: float = 0.2,
        max_batch: int = 500,
        *,
        max_buffer: int = 100_000,
        max_backoff: float = 30.0,
        close_timeout: float = 10.0,
    ) -> None:
        self._db = db
        self._flush_seconds = max(0.01, flush_seconds)
        self._max_batch = max(1, max_batch)
        self._max_buffer = max(self._max_batch, max_buffer)
        self._max_backoff = max_backoff
        self._close_timeout = close_timeout
        self._buffer: deque[RequestLogEntry] = deque(maxlen=self._max_buffer)
        self._inflight: list[RequestLogEntry] = []  # taken from the buffer, not yet written
        # Request bodies and outputs for replays (store/request_bodies.py), written before
        # the log rows of the same flush: a request visible in the log has its body stored.
        self._bodies: deque[BodyEntry] = deque(maxlen=self._max_buffer)
        # Where bodies went into segment files, until their log rows are written (a body
        # written in one flush can have its row in the next): request id -> body ref.
        self._body_refs: dict[str, str] = {}
        self._lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        self._dropped = 0
        self._reported_drops = 0
        # Rendered once and sent as raw executemany: SQLAlchemy compiles a dialect INSERT
        # (ON CONFLICT) on every execution (it is not cacheable) and processes every row's
        # parameters in Python; together that was most of the request log's event-loop CPU.
        insert = db.insert(request_log).on_conflict_do_nothing(index_elements=["id"])
        compiled = insert.compile(dialect=db.engine.dialect)
        self._insert_sql = str(compiled)
        self._insert_order = tuple(compiled.positiontup or ())
        self._params = _params_maker(self._insert_order)
        self._id_at = self._insert_order.index("id")

    @property
    def pending(self) -> int:
        return len(self._buffer) + len(self._inflight)

    @property
    def dropped(self) -> int:
        return self._dropped

    def record(self, entry: RequestLogEntry) -> None:
        """Queue one entry. Synchronous and O(1): it never touches the database."""
        if self._closed:
            self._dropped += 1
            return
        buffer = self._buffer
        if len(buffer) == self._max_buffer:
            self._dropped += 1  # the deque's maxlen drops the oldest entry
        buffer.append(entry)
        if len(buffer) >= self._max_batch and not self._wake.is_set():
            self._wake.set()

    def record_body(self, entry: BodyEntry) -> None:
        """Queue a request body (and output) for replays; O(1), like ``record``."""
        if self._closed:
            return
        if len(self._bodies) == self._max_buffer:
            self._dropped += 1
        self._bodies.append(entry)

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="aigw-request-log-writer")

    async def flush(self) -> None:
        """Write everything buffered now. Raises on a database failure (entries are kept)."""
        async with self._lock:
            # Only what is buffered now: entries recorded while a batch is being written wait
            # for the next flush, so a steady trickle does not become back-to-back tiny batches.
            left = len(self._buffer)
            try:
                if self._bodies:
                    await self._write_bodies()
                while self._inflight or (left > 0 and self._buffer):
                    if not self._inflight:
                        n = min(left, len(self._buffer), self._max_batch)
                        left -= n
                        self._inflight = [self._buffer.popleft() for _ in range(n)]
                    if self._body_refs:
                        self._attach_body_refs(self._inflight)
                    await self._write(list(map(self._params, self._inflight)))
                    self._inflight = []
            finally:
                self._report_drops()

    async def close(self) -> None:
        """Stop the background task and write everything left (retrying up to
        ``close_timeout`` seconds while the database is unavailable)."""
        if self._task is not None:
            async with self._lock:  # never cancel the task in the middle of a write
                self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        try:
            await asyncio.wait_for(self._flush_retrying(), self._close_timeout)
        except TimeoutError:
            log.error(
                "request log: database unavailable at shutdown, %d records lost", self.pending
            )
        finally:
            self._closed = True

    async def _flush_retrying(self) -> None:
        delay = self._flush_seconds
        while True:
            try:
                await self.flush()
                return
            except Exception as exc:
                log.warning("request log: flush at shutdown failed (%s), retrying", exc)
                await asyncio.sleep(delay)
                delay = min(self._max_backoff, delay * 2)

    async def _run(self) -> None:
        failures = 0
        while True:
            if failures:
                # Back off; a full buffer must not cut the pause short while the DB is down.
                base = max(self._flush_seconds, 0.05)
                await asyncio.sleep(min(self._max_backoff, base * 2 ** min(failures, 20)))
            else:
                with contextlib.suppress(TimeoutError):  # (not wait_for: see jobs/worker.py)
                    async with asyncio.timeout(self._flush_seconds):
                        await self._wake.wait()
            self._wake.clear()
            try:
                await self.flush()
                failures = 0
            except Exception as exc:
                failures += 1
                log.warning(
                    "request log: write failed (%s); %d records kept, retry %d",
                    exc,
                    self.pending,
                    failures,
                )

    async def _insert_rows(self, rows: list[Params]) -> None:
        direct = self._db.direct
        if direct is not None:  # SQLite: plain sqlite3 in the writer's thread (sqlite_writer.py)
            work = functools.partial(insert_rows, one_row_sql=self._insert_sql, rows=rows)
            await direct.run_threaded(work)
            return
        async with self._db.write() as conn:
            await conn.exec_driver_sql(self._insert_sql, rows)

    async def _write(self, rows: list[Params]) -> None:
        try:
            await self._insert_rows(rows)
        except Exception as exc:
            if _is_transient(exc):
                raise
            await self._write_one_by_one(rows)

    def _attach_body_refs(self, entries: list[RequestLogEntry]) -> None:
        refs = self._body_refs
        for entry in entries:
            ref = refs.pop(entry.id, None)
            if ref is not None:
                entry.body_ref = ref
        while len(refs) > self._max_buffer:  # rows dropped from a full buffer leave theirs
            del refs[next(iter(refs))]

    async def _write_bodies(self) -> None:
        """Write the queued bodies; kept for a retry while the database is unavailable."""
        bodies = self._bodies
        while bodies:
            batch = [bodies.popleft() for _ in range(min(len(bodies), self._max_batch))]
            try:
                stored = await request_bodies.write(self._db, batch)
                self._body_refs.update((rid, ref) for rid, ref in stored.items() if ref)
            except Exception as exc:
                if _is_transient(exc):
                    bodies.extendleft(reversed(batch))
                    raise
                log.error("request log: dropped %d request bodies: %s", len(batch), exc)

    async def _write_one_by_one(self, rows: list[Params]) -> None:
        """Isolate rows the database rejects; re-raises when the database itself fails.

        Drivers do not classify bad data reliably (asyncpg's invalid-input error arrives as a
        generic DBAPIError), so a row is only blamed when the database answers a probe and
        the row then fails again; otherwise the whole batch is kept for a later retry.
        """
        for row in rows:
            try:
                await self._insert_rows([row])
                continue
            except Exception as exc:
                if _is_transient(exc) or not await self._db_is_up():
                    raise
            try:
                await self._insert_rows([row])  # the database may have just recovered
                continue
            except Exception as exc:
                if _is_transient(exc):
                    raise
                log.error(
                    "request log: dropped record %s rejected by the database: %s",
                    row[self._id_at],
                    exc,
                )

    async def _db_is_up(self) -> bool:
        """Can we read the table? Tells a bad row from a database that is not usable."""
        try:
            async with self._db.engine.connect() as conn:
                await conn.execute(select(request_log.c.id).limit(1))
        except Exception:
            return False
        return True

    def _report_drops(self) -> None:
        if self._dropped > self._reported_drops:
            log.error(
                "request log: buffer full, %d records dropped (%d in total)",
                self._dropped - self._reported_drops,
                self._dropped,
            )
            self._reported_drops = self._dropped


async def recent(
    db: Database, limit: int = 100, account_id: str | None = None
) -> list[RequestLogEntry]:
    """Newest entries first."""
    query = select(*_COLUMNS).order_by(request_log.c.created_at.desc(), request_log.c.id.desc())
    if account_id is not None:
        query = query.where(request_log.c.account_id == account_id)
    async with db.engine.connect() as conn:
        rows = (await conn.execute(query.limit(limit))).all()
    return [RequestLogEntry(*row) for row in rows]


async def get(db: Database, request_id: str) -> RequestLogEntry | None:
    async with db.engine.connect() as conn:
        row = (await conn.execute(select(*_COLUMNS).where(request_log.c.id == request_id))).first()
    return RequestLogEntry(*row) if row is not None else None
