"""Kept request bodies (SQLite: segment files; PostgreSQL: the table): written by the
request-log writer before its rows, compressed when big enough to gain from it, skipped
(unpacked) for accounts that opted out, pruned by age; and the eval runs' lease-based failure
of runs whose process died."""

from __future__ import annotations

import sqlite3
import zlib
from collections.abc import Callable

import pytest
from sqlalchemy import select

from aigw.evals import store as evals_store
from aigw.replays.capture import output_text
from aigw.store import request_bodies
from aigw.store.accounts import create_account, set_account_store_bodies
from aigw.store.db import Database
from aigw.store.request_bodies import BodyEntry
from aigw.store.request_log import RequestLogEntry, RequestLogWriter
from aigw.store.tables import request_bodies as table
from aigw.store.tables import request_log as log_table
from tests.dbfixtures import StatementCounter

BODY = b'{"model":"m","messages":[{"role":"user","content":"hello there hello there"}]}'
ANSWER = b'{"choices":[{"index":0,"message":{"role":"assistant","content":"Hi!"}}]}'


def log_entry(request_id: str, account_id: str, created_at: int) -> RequestLogEntry:
    return RequestLogEntry(request_id, created_at, account_id, None, None, "m", "p", 200)


async def store(database: Database, entries: list[BodyEntry]) -> None:
    """As the gateway does: each request's log row and body through the writer, one flush."""
    writer = RequestLogWriter(database)
    for e in entries:
        writer.record(log_entry(e.request_id, e.account_id, e.created_at))
        writer.record_body(e)
    await writer.flush()
    await writer.close()


async def raw_columns(database: Database, request_id: str) -> tuple[bytes, bytes | None]:
    """The stored (request, output) columns: a segment record on SQLite, a row elsewhere."""
    segments = database.body_segments
    async with database.engine.connect() as conn:
        if segments is not None:
            query = select(log_table.c.body_ref).where(log_table.c.id == request_id)
            ref = (await conn.execute(query)).scalar_one()
            found = segments.read(ref, request_id)
            assert found is not None
            return found
        query = select(table.c.request, table.c.output).where(table.c.request_id == request_id)
        row = (await conn.execute(query)).one()
        return row.request, row.output


async def test_bodies_are_written_and_opt_out_is_honoured(database: Database) -> None:
    keeps = await create_account(database, "keeps")
    refuses = await create_account(database, "refuses")
    await set_account_store_bodies(database, "refuses", False)
    writer = RequestLogWriter(database)
    for rid, account in (("req_keep", keeps.id), ("req_refuse", refuses.id)):
        writer.record(log_entry(rid, account, 1_000))
        writer.record_body(BodyEntry(rid, account, 1_000, BODY, [ANSWER], False))
    await writer.flush()
    kept = await request_bodies.load(database, "req_keep")
    assert kept is not None and kept.request == BODY and kept.output == "Hi!"
    assert kept.account_id == keeps.id
    assert await request_bodies.load(database, "req_refuse") is None
    raw, _ = await raw_columns(database, "req_keep")
    assert raw == b"\x00" + BODY  # small: kept as it is, behind its tag
    if database.body_segments is None:
        async with database.engine.connect() as conn:  # nothing of the refused account's
            assert (await conn.execute(select(table.c.request_id))).scalars().all() == ["req_keep"]
    await writer.close()


async def test_small_blobs_are_kept_as_they_are_and_big_ones_compressed(
    database: Database,
) -> None:
    """Under 1 KB a zlib stream is not worth its set-up; from 1 KB on, blobs are compressed.
    Either way the bytes come back exactly, and a JSON answer and a stream read as text."""
    account = await create_account(database, "sizes")
    small = BODY
    big = b'{"messages":[%s]}' % b",".join([b'{"role":"user","content":"hi"}'] * 60)
    assert len(small) < 1024 <= len(big)
    stream = [b'data: {"choices":[{"delta":{"content":"w "}}]}\n\n'] * 40 + [b"data: [DONE]\n\n"]
    entries = [
        BodyEntry("req_small", account.id, 1_000, small, [ANSWER], False),
        BodyEntry("req_big", account.id, 1_000, big, [ANSWER * 20], False),
        BodyEntry("req_small_sse", account.id, 1_000, small, SSE, True),
        BodyEntry("req_big_sse", account.id, 1_000, big, stream, True),
    ]
    await store(database, entries)
    rows = {e.request_id: await raw_columns(database, e.request_id) for e in entries}
    assert rows["req_small"] == (b"\x00" + small, b"\x03" + ANSWER)
    assert rows["req_small_sse"][1] == b"\x04" + b"".join(SSE)
    big_request, big_output = rows["req_big"]
    assert zlib.decompress(big_request) == big
    assert len(big_request) < len(big)
    assert big_output is not None and big_output[:1] == b"\x01"
    assert zlib.decompress(big_output[1:]) == ANSWER * 20
    big_sse = rows["req_big_sse"][1]
    assert big_sse is not None and big_sse[:1] == b"\x02"
    for entry in entries:
        stored = await request_bodies.load(database, entry.request_id)
        assert stored is not None and stored.request == entry.request
        assert stored.output == output_text(entry.output or [], streamed=entry.streamed)


async def test_prune_deletes_only_what_is_older(database: Database) -> None:
    """Table rows (PostgreSQL; SQLite rows from before segments) go by their time."""
    account = await create_account(database, "old-and-new")
    async with database.engine.begin() as conn:
        for rid, at in (("req_old", 1_000), ("req_new", 5_000)):
            await conn.execute(
                table.insert().values(
                    request_id=rid,
                    account_id=account.id,
                    created_at=at,
                    request=request_bodies.pack_request(BODY),
                    output=request_bodies.pack_answer([b"data: [DONE]\n\n"], streamed=True),
                )
            )
    pruned = await request_bodies.prune(database, 2_000)
    assert (pruned.rows, pruned.segments) == (1, 0)
    assert await request_bodies.load(database, "req_old") is None
    new = await request_bodies.load(database, "req_new")
    assert new is not None and new.output == ""


async def test_prune_deletes_segments_last_written_before_the_cutoff(
    sqlite_database: Database,
) -> None:
    """SQLite: a segment file goes once its last write is older than the retention."""
    account = await create_account(sqlite_database, "segments")
    await store(sqlite_database, [BodyEntry("req_seg", account.id, 1_000, BODY, [ANSWER], False)])
    segments = sqlite_database.body_segments
    assert segments is not None
    (path,) = segments.directory.iterdir()
    written_ms = int(path.stat().st_mtime * 1000)
    pruned = await request_bodies.prune(sqlite_database, written_ms)  # not before its last write
    assert pruned.segments == 0 and await request_bodies.load(sqlite_database, "req_seg")
    pruned = await request_bodies.prune(sqlite_database, written_ms + 1)
    assert (pruned.rows, pruned.segments) == (0, 1) and not path.exists()
    assert await request_bodies.load(sqlite_database, "req_seg") is None
    # the pruned segment was this process's own: the next body starts a new one
    await store(sqlite_database, [BodyEntry("req_next", account.id, 1_000, BODY, None, False)])
    assert await request_bodies.load(sqlite_database, "req_next") is not None


async def test_runs_whose_lease_ran_out_are_failed(database: Database) -> None:
    values = {
        "account_id": "acct_x",
        "name": "n",
        "metric": "quality",
        "candidate_models": '["m"]',
        "match": "normalized",
        "total": 1,
    }
    stale = await evals_store.create(database, values, [{"input": "q"}], lease_ms=-1)
    live = await evals_store.create(database, values, [{"input": "q"}], lease_ms=60_000)
    assert await evals_store.fail_stale(database) == 1
    assert (await evals_store.get(database, stale.id)).status == "failed"
    assert (await evals_store.get(database, live.id)).status == "running"
    info = await evals_store.info(database, stale.id)
    assert info is not None and info.status == "failed" and info.winner is None
    assert await evals_store.finish(database, live.id, "completed", winner_model="m")
    assert not await evals_store.finish(database, live.id, "failed")  # ends once


SSE = [
    b'data: {"choices":[{"index":0,"delta":{"role":"assistant","content":"Hel"}}]}\n\n',
    b'data: {"choices":[{"index":0,"delta":{"content":"lo"}}]}\n\ndata: not json\n\n',
    b'data: {"choices":[{"index":0,"delta":{"tool_calls":[{"function":{"arguments":"{}"}}]}}]}\n\n',
    b"data: [DONE]\n\n",
]
ANSWERS: list[tuple[list[bytes] | None, bool]] = [
    ([ANSWER], False),
    ([ANSWER[:10], ANSWER[10:]], False),  # as sent, in pieces
    ([b"not json"], False),  # unreadable: no text
    (SSE, True),
    ([b"data: [DONE]\n\n"], True),
    ([], True),  # nothing sent
    ([b""], False),
    (None, False),  # the output was not captured
]


async def test_answers_are_kept_as_sent_and_read_as_their_text(database: Database) -> None:
    account = await create_account(database, "as-sent")
    entries = [
        BodyEntry(f"req_{i}", account.id, 1_000, BODY, output, streamed)
        for i, (output, streamed) in enumerate(ANSWERS)
    ]
    await store(database, entries)
    for entry in entries:
        stored = await request_bodies.load(database, entry.request_id)
        assert stored is not None and stored.request == BODY
        want = None
        if entry.output is not None and b"".join(entry.output):  # what was stored before
            want = output_text(entry.output, streamed=entry.streamed)
        assert stored.output == want, entry


async def test_rows_written_before_still_read(database: Database) -> None:
    """Older rows kept the answer's text, zlib level 6, and the request at level 6."""
    account = await create_account(database, "older")
    async with database.engine.begin() as conn:
        for rid, text in (("req_text", "Hi there"), ("req_none", None), ("req_empty", "")):
            await conn.execute(
                table.insert().values(
                    request_id=rid,
                    account_id=account.id,
                    created_at=1_000,
                    request=zlib.compress(BODY, 6),
                    output=request_bodies.pack(text),
                )
            )
    for rid, text in (("req_text", "Hi there"), ("req_none", None), ("req_empty", "")):
        stored = await request_bodies.load(database, rid)
        assert stored is not None and stored.request == BODY and stored.output == text


async def test_opt_out_is_read_per_batch_for_any_number_of_accounts(database: Database) -> None:
    accounts = [await create_account(database, f"acct-{i}") for i in range(12)]
    refused = {a.id for a in accounts[::3]}
    for account in accounts[::3]:
        await set_account_store_bodies(database, account.id, False)
    for size in (1, 2, 5, 12):
        ids = {a.id for a in accounts[:size]}
        assert await request_bodies.opted_out(database, ids) == ids & refused
    assert await request_bodies.opted_out(database, set()) == set()
    assert await request_bodies.opted_out(database, {"acct_unknown"}) == set()
    # an opt-out (or back in) between two batches applies to the next batch
    writer = RequestLogWriter(database)
    first = accounts[1]
    writer.record_body(BodyEntry("req_before", first.id, 1_000, BODY, None, False))
    writer.record(log_entry("req_before", first.id, 1_000))
    await set_account_store_bodies(database, first.id, False)  # before the batch is written
    await writer.flush()
    assert await request_bodies.load(database, "req_before") is None
    await set_account_store_bodies(database, first.id, True)
    writer.record_body(BodyEntry("req_after", first.id, 1_000, BODY, None, False))
    writer.record(log_entry("req_after", first.id, 1_000))
    await writer.flush()
    assert await request_bodies.load(database, "req_after") is not None
    await writer.close()


def count_packing(
    monkeypatch: pytest.MonkeyPatch, then: Callable[[], None] = lambda: None
) -> list[bytes]:
    """Records the request bodies packed (``_rows`` looks ``pack_request`` up at each call);
    ``then`` runs at the first, in the packing thread."""
    packed: list[bytes] = []
    pack = request_bodies.pack_request

    def counting(body: bytes) -> bytes:
        if not packed:
            then()
        packed.append(body)
        return pack(body)

    monkeypatch.setattr(request_bodies, "pack_request", counting)
    return packed


async def test_opted_out_bodies_are_neither_packed_nor_stored(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    keeps = await create_account(database, "keeps")
    refuses = await create_account(database, "refuses")
    await set_account_store_bodies(database, "refuses", False)
    packed = count_packing(monkeypatch)
    entries = [
        BodyEntry(
            f"req_{name}_{i}",
            account.id,
            1_000,
            b'{"n":"%s-%d"}' % (name.encode(), i),
            [ANSWER],
            False,
        )
        for i in range(3)
        for name, account in (("keep", keeps), ("refuse", refuses))
    ]
    counter = StatementCounter(database)
    written = await request_bodies.write(database, entries)
    assert set(written) == {e.request_id for e in entries if e.account_id == keeps.id}
    if database.direct is not None:  # SQLite: check and insert bypass aiosqlite
        assert counter.count == 0
    counter.close()
    assert sorted(packed) == sorted(e.request for e in entries if e.account_id == keeps.id)
    segments = database.body_segments
    for entry in entries:
        if segments is not None:  # the refs the log rows would carry
            ref = written.get(entry.request_id)
            found = ref is not None and segments.read(ref, entry.request_id) is not None
        else:
            found = await request_bodies.load(database, entry.request_id) is not None
        assert found == (entry.account_id == keeps.id), entry.request_id
    only_refused = [BodyEntry("req_none", refuses.id, 1_000, BODY, [ANSWER], False)]
    assert await request_bodies.write(database, only_refused) == {}
    assert len(packed) == 3 and await request_bodies.load(database, "req_none") is None


async def test_sqlite_honours_an_opt_out_made_while_the_batch_is_packed(
    sqlite_database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first check kept the account; the check after packing drops it."""
    late = await create_account(sqlite_database, "late")
    stays = await create_account(sqlite_database, "stays")

    def opt_out_now() -> None:  # another worker's PATCH, committed while packing
        with sqlite3.connect(str(sqlite_database.sqlite_file)) as conn:
            conn.execute("UPDATE accounts SET store_bodies = 0 WHERE id = ?", (late.id,))

    packed = count_packing(monkeypatch, then=opt_out_now)
    entries = [
        BodyEntry("req_late", late.id, 1_000, BODY, None, False),
        BodyEntry("req_stays", stays.id, 1_000, BODY + b" ", None, False),
    ]
    await store(sqlite_database, entries)
    assert len(packed) == 2  # both kept by the first check
    assert await request_bodies.load(sqlite_database, "req_late") is None
    assert await request_bodies.load(sqlite_database, "req_stays") is not None


async def test_bodies_longer_than_the_compression_window_round_trip(database: Database) -> None:
    """Bodies are packed with a 4 KB window (cheap to set up for small bodies); a request of
    200 KB with repeats far apart, and a long stream, must come back byte for byte."""
    account = await create_account(database, "big")
    body = (
        b'{"messages":['
        + b",".join(b'{"role":"user","content":"%s"}' % (b"%05d-" % i * 40) for i in range(1000))
        + b"]}"
    )
    events = [b'data: {"choices":[{"delta":{"content":"w%d "}}]}\n\n' % i for i in range(3000)]
    writer = RequestLogWriter(database)
    writer.record(log_entry("req_big", account.id, 1_000))
    writer.record_body(
        BodyEntry("req_big", account.id, 1_000, body, [*events, b"data: [DONE]\n\n"], True)
    )
    await writer.flush()
    kept = await request_bodies.load(database, "req_big")
    assert kept is not None and kept.request == body
    assert kept.output == "".join(f"w{i} " for i in range(3000))
    await writer.close()
