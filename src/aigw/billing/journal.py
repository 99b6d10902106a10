"""The charge journal of a file-backed SQLite gateway: a charge is durable once appended
here, so the response need not wait for its ledger transaction.

Why: a lone request's ledger transaction (wallet row, ledger row and their four indexes: six
WAL pages, six locks) took 80-140 µs before the answer could go; one ``write`` of a line
takes a few. The durability is the same: SQLite runs with ``synchronous = NORMAL``, so a
committed transaction survives a crash of the process (it is in the OS's page cache), not
necessarily a power cut, and so does a line written here. The ledger rows follow in group
commits (billing/charges.py) that tell each line applied; a file whose lines are all
applied is deleted.

Layout: ``<database file>.charges/<start ms>-<pid>-<random>.jnl``, one JSON object per line
(the ledger row: id, account, kind, amounts, request id, sub-account, tag, note, time). A
process holds an exclusive ``flock`` on its own files for as long as it lives (taken before
the file gets its name), so recovery (``recoverable``) only ever takes files whose process is
gone: at start-up, before balances are read, and on each billing refresh. Recovery applies
lines by their ledger id with ``ledger.append_once``, so a line applied twice (by its owner
and by a recovery that raced it) moves the wallet once.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import re
import secrets
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import orjson

from aigw.billing.ledger import Entry

log = logging.getLogger("aigw.billing")

ROTATE_BYTES = 4 * 1024 * 1024
_NAME = re.compile(r"\d{13}-\d+-[0-9a-f]{8}\.jnl")
_NAME_NEW = re.compile(r"\d{13}-\d+-[0-9a-f]{8}\.jnl\.new")  # not yet named: no lines
_SWEEP_AFTER = 60.0  # seconds: an unnamed file this old was left by a crash


def directory_for(database_path: str) -> Path:
    return Path(f"{database_path}.charges")


def encode(entry: Entry) -> bytes:
    return orjson.dumps(
        {
            "id": entry.id,
            "account_id": entry.account_id,
            "kind": entry.kind,
            "amount_micro_cents": entry.amount_micro_cents,
            "fee_micro_cents": entry.fee_micro_cents,
            "request_id": entry.request_id,
            "sub_account_id": entry.sub_account_id,
            "tag": entry.tag,
            "note": entry.note,
            "created_at": entry.created_at,
        }
    )


def decode(lines: bytes) -> list[Entry]:
    """The entries of a journal's bytes; a last line cut short by a crash is not one."""
    entries = []
    complete, _, _ = lines.rpartition(b"\n")
    for line in complete.split(b"\n"):
        if not line:
            continue
        try:
            entries.append(Entry(**orjson.loads(line)))
        except (orjson.JSONDecodeError, TypeError) as exc:
            log.error("charge journal: skipped an unreadable line (%s): %r", exc, line[:200])
    return entries


@dataclass(slots=True)
class _File:
    name: str
    fd: int
    size: int = 0
    unapplied: int = 0
    rotated: bool = False


class ChargeJournal:
    """This process's journal file(s): append a line per charge, forget applied files."""

    def __init__(self, directory: Path, *, rotate_bytes: int = ROTATE_BYTES) -> None:
        self.directory = directory
        self._rotate_bytes = rotate_bytes
        self._current: _File | None = None
        self._files: dict[str, _File] = {}

    def write_many(self, entries: Sequence[Entry]) -> str:
        """Append charges in one ``write``; returns the token to pass to ``applied`` once per
        charge. Raises ``OSError`` when the lines could not be written whole: the caller
        then commits them another way, by the same ledger ids, so that a line that did get
        written whole and is recovered after a crash is skipped (``append_once``)."""
        file = self._file()
        lines = b"".join([encode(entry) + b"\n" for entry in entries])
        try:
            written = os.write(file.fd, lines)
        except OSError:
            self._retire(file)
            raise
        if written != len(lines):  # a full disk: a line is cut; never append after it
            self._retire(file)
            raise OSError(f"charge journal: short write to {file.name}")
        file.size += written
        file.unapplied += len(entries)
        return file.name

    def applied(self, token: str) -> None:
        """The charge written under ``token`` is in the ledger now."""
        file = self._files.get(token)
        if file is None:
            return
        file.unapplied -= 1
        if file.unapplied <= 0 and file.rotated:
            self._drop(file)

    def close(self) -> None:
        """Delete the files whose charges are all applied; keep (and unlock) the rest for
        recovery at the next start."""
        for file in list(self._files.values()):
            if file.unapplied <= 0:
                self._drop(file)
            else:
                log.error(
                    "charge journal: %d charges in %s are not in the ledger yet; "
                    "they are applied at the next start",
                    file.unapplied,
                    file.name,
                )
                os.close(file.fd)
                del self._files[file.name]
        self._current = None

    def recoverable(self) -> Iterator[tuple[Path, list[Entry]]]:
        """The files of processes that are gone, each with its entries, locked while the
        caller applies them; the caller deletes each file once applied."""
        try:
            names = sorted(os.listdir(self.directory))
        except FileNotFoundError:
            return
        for name in names:
            if _NAME_NEW.fullmatch(name):
                self._sweep_unnamed(self.directory / name)
                continue
            if not _NAME.fullmatch(name) or name in self._files:
                continue
            path = self.directory / name
            try:
                fd = os.open(path, os.O_RDONLY)
            except FileNotFoundError:
                continue  # recovered by another process meanwhile
            try:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    continue  # its process is alive and applies it itself
                if not path.exists():
                    continue  # another recovery finished it between our open and lock
                with os.fdopen(os.dup(fd), "rb") as f:
                    data = f.read()
                yield path, decode(data)
            finally:
                os.close(fd)

    @staticmethod
    def _sweep_unnamed(path: Path) -> None:
        """Delete a file a process created and died before naming (it holds no line)."""
        try:
            if time.time() - path.stat().st_mtime < _SWEEP_AFTER:
                return
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            path.unlink(missing_ok=True)
        except BlockingIOError:
            pass  # its process is alive
        finally:
            os.close(fd)

    def _file(self) -> _File:
        current = self._current
        if current is not None and current.size < self._rotate_bytes:
            return current
        if current is not None:
            self._retire(current)
        self.directory.mkdir(parents=True, exist_ok=True)
        name = f"{int(time.time() * 1000):013d}-{os.getpid()}-{secrets.token_hex(4)}.jnl"
        # Locked before it has its name: recovery never sees it unlocked while we live.
        temp = self.directory / (name + ".new")
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.rename(temp, self.directory / name)
        file = self._current = self._files[name] = _File(name, fd)
        return file

    def _retire(self, file: _File) -> None:
        """No more lines go to ``file``; it goes once its last charge is applied."""
        file.rotated = True
        if self._current is file:
            self._current = None
        if file.unapplied <= 0:
            self._drop(file)

    def _drop(self, file: _File) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.directory / file.name)
        os.close(file.fd)  # (the lock goes with it, after the name)
        self._files.pop(file.name, None)
        if self._current is file:
            self._current = None
