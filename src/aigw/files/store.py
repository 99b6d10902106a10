"""Where file bytes live, and the signed links that serve job results without a key.

Uploads are stored under the key ``files/<file id>``; a job's result under
``jobs/<job id>/<filename>``, in the backend the settings choose (``files/backends.py``:
the local ``data_dir`` by default, or an S3-compatible bucket, ``files/s3.py``). The local
``data_dir`` also holds scratch work (batch part files) whatever the backend. Links are
signed with a random key kept in the ``meta`` table, so every process sharing the database
accepts the others' links.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from pathlib import Path

from aiohttp import web

from aigw.config import Settings
from aigw.errors import InvalidRequest, NotFound
from aigw.files.backends import Backend, LocalBackend
from aigw.providers.aws_sigv4 import Credentials
from aigw.store.db import Database
from aigw.store.meta import get_meta
from aigw.store.tables import meta

SIGNING_META = "files_signing_key"
SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
MIN_EXPIRES, MAX_EXPIRES = 60, 604800


class FileStore:
    def __init__(self, data_dir: str | Path, backend: Backend | None = None) -> None:
        self.root = Path(data_dir)
        self.backend: Backend = backend or LocalBackend(self.root)
        self._signing_key = b""

    @classmethod
    def from_settings(cls, settings: Settings) -> FileStore:
        if settings.files_storage == "s3":
            from aigw.files.s3 import S3Backend

            secret = settings.s3_secret_access_key
            backend = S3Backend(
                bucket=settings.s3_bucket or "",
                region=settings.s3_region,
                credentials=Credentials(
                    settings.s3_access_key_id or "", secret.reveal() if secret else ""
                ),
                endpoint_url=settings.s3_endpoint_url,
                prefix=settings.s3_prefix,
            )
            return cls(settings.data_dir, backend)
        return cls(settings.data_dir)

    async def start(self, db: Database) -> None:
        await self.backend.start()
        fresh = db.insert(meta).values(key=SIGNING_META, value=secrets.token_hex(32))
        async with db.write() as conn:  # the first process to start wins
            await conn.execute(fresh.on_conflict_do_nothing(index_elements=[meta.c.key]))
        key = await get_meta(db, SIGNING_META)
        assert key is not None
        self._signing_key = bytes.fromhex(key)

    async def close(self) -> None:
        await self.backend.close()

    # -- keys and bytes --------------------------------------------------------------------

    def upload_key(self, file_id: str) -> str:
        return f"files/{_safe(file_id)}"

    def job_key(self, job_id: str, filename: str) -> str:
        return f"jobs/{_safe(job_id)}/{_safe(filename)}"

    async def write(self, key: str, data: bytes) -> None:
        await self.backend.put(key, data)

    async def read(self, key: str) -> bytes | None:
        return await self.backend.get(key)

    async def delete(self, key: str) -> None:
        await self.backend.delete(key)

    async def serve(
        self, request: web.Request, key: str, content_type: str, missing: NotFound
    ) -> web.StreamResponse:
        """Stream the object, or raise ``missing`` when the backend has no such object."""
        response = await self.backend.respond(request, key, content_type)
        if response is None:
            raise missing
        return response

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
