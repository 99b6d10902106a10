"""Replay bodies of a file-backed SQLite gateway, appended to segment files beside the
database rather than stored as a table row each.

Why: a row per request in ``request_bodies`` (a kilobyte or more, three B-trees, written
to the WAL and copied again at each checkpoint, by an ``executemany`` that hands the GIL
back and forth once per row) cost the gateway's one core 30-40 µs per request at
concurrency 16, a sixth of all its work (bench/RESULTS.md). Appending a batch to a file is
one ``write``; the request log row, written after it, carries where the body is
(``request_log.body_ref``). PostgreSQL keeps the table: replicas on other hosts must read
each other's bodies.

Layout: ``<database file>.bodies/<start ms>-<pid>-<random>.seg``. A process only ever
appends to its own segment, and starts a new one every ``ROTATE_SECONDS`` or
``ROTATE_BYTES``; any process of the same gateway can read any segment. A record is the
request id and a newline, then the request column and the output column in the table's
packed formats (store/request_bodies.py). A ref is ``segment:offset:request
length:output length``; a read checks the id at the offset, so a stale or foreign ref
reads as "not kept", never as another request's body.

Durability matches the database's: written with the flush that writes the log rows, not
fsynced (SQLite runs with ``synchronous = NORMAL``), so a process crash loses nothing
written, a power loss may lose the last moments. Pruning deletes a segment once its last
write is older than the retention, so a body lives at most ``ROTATE_SECONDS`` past it.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO

log = logging.getLogger("aigw.body_segments")

ROTATE_SECONDS = 600.0
ROTATE_BYTES = 64 * 1024 * 1024
_NAME = re.compile(r"\d{13}-\d+-[0-9a-f]{8}\.seg")
_REF = re.compile(r"(\d{13}-\d+-[0-9a-f]{8}\.seg):(\d+):(\d+):(\d+)")

# One record to append: (request id, request column, output column or None).
Record = tuple[str, bytes, bytes | None]


def directory_for(database_path: str) -> Path:
    return Path(f"{database_path}.bodies")


class BodySegments:
    """Appends records to this process's current segment; reads and prunes any segment."""

    def __init__(
        self,
        directory: Path,
        *,
        rotate_seconds: float = ROTATE_SECONDS,
        rotate_bytes: int = ROTATE_BYTES,
    ) -> None:
        self.directory = directory
        self._rotate_seconds = rotate_seconds
        self._rotate_bytes = rotate_bytes
        self._lock = threading.Lock()  # appends come from worker threads
        self._file: BinaryIO | None = None
        self._name = ""
        self._size = 0
        self._opened = 0.0
        self._pid = os.getpid()

    def append(self, records: Sequence[Record]) -> list[str]:
        """Write the records with one ``write`` (to the page cache: the log writer calls
        this on the loop, a slice at a time); returns each one's ref, in order. On a failed
        write the segment is abandoned (a new one is started next time) and the error
        raised: none of these records has a ref."""
        with self._lock:
            out = self._current()
            buf = bytearray()
            refs = []
            base = self._size
            for request_id, request, output in records:
                head = request_id.encode() + b"\n"
                at = base + len(buf)
                buf += head
                buf += request
                if output is not None:
                    buf += output
                out_len = 0 if output is None else len(output)
                refs.append(f"{self._name}:{at}:{len(request)}:{out_len}")
            try:
                out.write(buf)
                out.flush()
            except BaseException:
                self._abandon()
                raise
            self._size += len(buf)
            return refs

    def read(self, ref: str, request_id: str) -> tuple[bytes, bytes | None] | None:
        """The (request, output) columns behind ``ref``, or None when the segment is gone
        (pruned), the ref is malformed, or the bytes there are not ``request_id``'s."""
        match = _REF.fullmatch(ref)
        if match is None:
            return None
        name, at, req_len, out_len = match[1], int(match[2]), int(match[3]), int(match[4])
        head = request_id.encode() + b"\n"
        try:
            with open(self.directory / name, "rb") as f:
                f.seek(at)
                data = f.read(len(head) + req_len + out_len)
        except FileNotFoundError:
            return None
        if len(data) != len(head) + req_len + out_len or not data.startswith(head):
            return None
        request = data[len(head) : len(head) + req_len]
        return request, (data[len(head) + req_len :] if out_len else None)

    def prune(self, before_ms: int) -> int:
        """Delete the segments last written before ``before_ms`` (unix ms): every body in
        them is older. Returns how many files went."""
        removed = 0
        try:
            entries = list(os.scandir(self.directory))
        except FileNotFoundError:
            return 0
        for entry in entries:
            if not _NAME.fullmatch(entry.name):
                continue
            try:
                if entry.stat().st_mtime * 1000 >= before_ms:
                    continue
                with self._lock:
                    if entry.name == self._name:
                        self._abandon()  # idle past the retention: start afresh
                    os.unlink(entry.path)
                removed += 1
            except FileNotFoundError:
                continue  # another process pruned it first
        return removed

    def close(self) -> None:
        with self._lock:
            self._abandon()

    def _current(self) -> BinaryIO:
        now = time.time()
        if (
            self._file is not None
            and self._pid == os.getpid()  # a forked child starts its own segment
            and self._size < self._rotate_bytes
            and now - self._opened < self._rotate_seconds
        ):
            return self._file
        self._abandon()
        self.directory.mkdir(parents=True, exist_ok=True)
        self._pid = os.getpid()
        self._name = f"{int(now * 1000):013d}-{self._pid}-{secrets.token_hex(4)}.seg"
        # "xb": never append to a file another process might own
        self._file = open(self.directory / self._name, "xb")
        self._size, self._opened = 0, now
        return self._file

    def _abandon(self) -> None:
        if self._file is not None:
            try:
                self._file.close()
            except OSError as exc:
                log.warning("replay bodies: closing segment %s failed: %s", self._name, exc)
        self._file, self._name, self._size = None, "", 0
