"""Where file bytes live, and the signed links that serve job results without a key.

Uploads are ``<data_dir>/files/<file id>``; a job's result is
``<data_dir>/jobs/<job id>/<filename>``. Links are signed with a random key kept in the
``meta`` table, so every process sharing the database accepts the others' links.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import re
import secrets
from pathlib import Path

from aigw.errors import InvalidRequest
from aigw.store.db import Database
from aigw.store.meta import get_meta
from aigw.store.tables import meta

SIGNING_META = "files_signing_key"
SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
MIN_EXPIRES, MAX_EXPIRES = 60, 604800


class FileStore:
    def __init__(self, data_dir: str | Path) -> None:
        self.root = Path(data_dir)
        self._signing_key = b""

    async def start(self, db: Database) -> None:
        fresh = db.insert(meta).values(key=SIGNING_META, value=secrets.token_hex(32))
        async with db.engine.begin() as conn:  # the first process to start wins
            await conn.execute(fresh.on_conflict_do_nothing(index_elements=[meta.c.key]))
        key = await get_meta(db, SIGNING_META)
        assert key is not None
        self._signing_key = bytes.fromhex(key)

    # -- paths -----------------------------------------------------------------------------

    def upload_path(self, file_id: str) -> Path:
        return self.root / "files" / _safe(file_id)

    def job_path(self, job_id: str, filename: str) -> Path:
        return self.root / "jobs" / _safe(job_id) / _safe(filename)

    async def write(self, path: Path, data: bytes) -> None:
        """Write via a temporary name so a reader never sees half a file."""

        def go() -> None:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(path.name + ".part")
            tmp.write_bytes(data)
            tmp.replace(path)

        await asyncio.to_thread(go)

    async def delete(self, path: Path) -> None:
        await asyncio.to_thread(path.unlink, missing_ok=True)

    # -- signed links ------------------------------------------------------------------------

    def sign(self, account_id: str, job_id: str, filename: str, expires_at: int) -> str:
        message = f"{account_id}:{job_id}/{filename}:{expires_at}".encode()
        return hmac.new(self._signing_key, message, hashlib.sha256).hexdigest()

    def check(
        self, account_id: str, job_id: str, filename: str, expires_at: int, token: str
    ) -> bool:
        expected = self.sign(account_id, job_id, filename, expires_at)
        return hmac.compare_digest(expected.encode(), token.encode())  # any text, safely


def _safe(name: str) -> str:
    if not SAFE_NAME.match(name) or name.endswith(".part"):
        raise InvalidRequest(f"Invalid file name {name!r}.")
    return name
