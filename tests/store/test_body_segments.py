"""Segment files of replay bodies (file-backed SQLite): records read back by their ref and
only by the right request id, rotation, a failed write abandoning its segment, pruning by
last write, and two processes' writers side by side in one directory."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from aigw.store import request_bodies
from aigw.store.accounts import create_account
from aigw.store.body_segments import BodySegments, directory_for
from aigw.store.db import Database
from aigw.store.request_bodies import BodyEntry
from aigw.store.request_log import RequestLogEntry, RequestLogWriter


def test_records_read_back_by_ref(tmp_path: Path) -> None:
    segments = BodySegments(tmp_path / "b")
    refs = segments.append([("req_a", b"\x00{}", b'\x03{"x":1}'), ("req_b", b"\x00[]", None)])
    more = segments.append([("req_c", b"ccc", b"")])
    assert segments.read(refs[0], "req_a") == (b"\x00{}", b'\x03{"x":1}')
    assert segments.read(refs[1], "req_b") == (b"\x00[]", None)
    assert segments.read(more[0], "req_c") == (b"ccc", None)
    assert len({ref.split(":")[0] for ref in refs + more}) == 1  # one segment
    segments.close()


def test_a_ref_reads_only_as_its_own_request(tmp_path: Path) -> None:
    segments = BodySegments(tmp_path / "b")
    (ref,) = segments.append([("req_a", b"body", b"out")])
    name, at, req_len, out_len = ref.split(":")
    assert segments.read(ref, "req_b") is None  # another request's bytes
    assert segments.read(f"{name}:{int(at) + 1}:{req_len}:{out_len}", "req_a") is None
    assert segments.read(f"{name}:{at}:{req_len}:{int(out_len) + 50}", "req_a") is None  # past EOF
    assert segments.read(f"../{name}:{at}:{req_len}:{out_len}", "req_a") is None
    assert segments.read("nonsense", "req_a") is None
    assert segments.read(f"1795675225515-1-0000abcd.seg:{at}:{req_len}:{out_len}", "req_a") is None
    segments.close()


def test_segments_rotate_by_size_and_age(tmp_path: Path) -> None:
    by_size = BodySegments(tmp_path / "size", rotate_bytes=50)  # checked before a write
    first = by_size.append([("req_1", b"x" * 80, None)])[0]
    second = by_size.append([("req_2", b"y" * 80, None)])[0]
    assert first.split(":")[0] != second.split(":")[0]
    assert by_size.read(first, "req_1") == (b"x" * 80, None)
    by_age = BodySegments(tmp_path / "age", rotate_seconds=0.0)
    names = {by_age.append([(f"req_{i}", b"z", None)])[0].split(":")[0] for i in range(3)}
    assert len(names) == 3
    by_size.close()
    by_age.close()


def test_a_failed_write_abandons_the_segment(tmp_path: Path) -> None:
    segments = BodySegments(tmp_path / "b")
    (kept,) = segments.append([("req_kept", b"kept", None)])
    file = segments._file
    assert file is not None
    os.close(file.fileno())  # the disk goes away under the open segment
    with pytest.raises(OSError):
        segments.append([("req_lost", b"lost", None)])
    (after,) = segments.append([("req_after", b"after", None)])
    assert after.split(":")[0] != kept.split(":")[0]  # a new segment
    assert segments.read(kept, "req_kept") == (b"kept", None)
    assert segments.read(after, "req_after") == (b"after", None)
    segments.close()


def test_prune_goes_by_last_write(tmp_path: Path) -> None:
    segments = BodySegments(tmp_path / "b", rotate_bytes=1)  # a segment per append
    old = segments.append([("req_old", b"old", None)])[0]
    new = segments.append([("req_new", b"new", None)])[0]
    old_path = segments.directory / old.split(":")[0]
    an_hour_ago = time.time() - 3600
    os.utime(old_path, (an_hour_ago, an_hour_ago))
    stranger = segments.directory / "notes.txt"  # not a segment: never touched
    stranger.write_text("keep me")
    assert segments.prune(int((time.time() - 60) * 1000)) == 1
    assert not old_path.exists() and stranger.exists()
    assert segments.read(old, "req_old") is None
    assert segments.read(new, "req_new") == (b"new", None)
    assert segments.prune(int((time.time() + 60) * 1000)) == 1  # the current one, idle
    (again,) = segments.append([("req_again", b"again", None)])
    assert segments.read(again, "req_again") == (b"again", None)
    assert BodySegments(tmp_path / "missing").prune(int(time.time() * 1000)) == 0
    segments.close()


def test_two_writers_share_a_directory_and_read_each_other(tmp_path: Path) -> None:
    """As two worker processes of one gateway: each appends to its own segment."""
    one, two = BodySegments(tmp_path / "b"), BodySegments(tmp_path / "b")
    (a,) = one.append([("req_a", b"from one", None)])
    (b,) = two.append([("req_b", b"from two", None)])
    assert a.split(":")[0] != b.split(":")[0]
    assert two.read(a, "req_a") == (b"from one", None)
    assert one.read(b, "req_b") == (b"from two", None)
    one.close()
    two.close()


async def test_a_body_written_a_flush_before_its_log_row_keeps_its_ref(
    sqlite_database: Database,
) -> None:
    """The writer remembers refs until the log rows that carry them are written."""
    assert sqlite_database.body_segments is not None
    assert sqlite_database.body_segments.directory == directory_for(
        str(sqlite_database.sqlite_file)
    )
    account = await create_account(sqlite_database, "later")
    writer = RequestLogWriter(sqlite_database)
    writer.record_body(BodyEntry("req_late_row", account.id, 1_000, b"{}", [b"{}"], False))
    await writer.flush()  # the body only
    assert await request_bodies.load(sqlite_database, "req_late_row") is None  # no row yet
    writer.record(RequestLogEntry("req_late_row", 1_000, account.id, None, None, "m", "p", 200))
    await writer.flush()
    stored = await request_bodies.load(sqlite_database, "req_late_row")
    assert stored is not None and stored.request == b"{}"
    assert stored.account_id == account.id and stored.created_at == 1_000
    await writer.close()
