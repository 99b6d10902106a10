"""An S3-compatible bucket (AWS S3, MinIO, R2, Ceph ...) as file storage, over aiohttp.

Requests are signed with SigV4 (``providers/aws_sigv4.py``) using path-style URLs
(``<endpoint>/<bucket>/<prefix><key>``), which every S3-compatible server accepts. Keys are
restricted to ``[A-Za-z0-9._/-]`` by ``FileStore``, so the canonical path needs no S3-specific
encoding. Reads stream: an object is copied to the client chunk by chunk, never held whole.
"""

from __future__ import annotations

import hashlib
import logging
import re

import aiohttp
from aiohttp import web

from aigw.errors import ConfigError, ServiceUnavailable
from aigw.providers.aws_sigv4 import Credentials, sign

log = logging.getLogger("aigw.files")

SAFE_PREFIX = re.compile(r"^[A-Za-z0-9._/-]*$")
CHUNK = 256 * 1024


class StorageError(ServiceUnavailable):
    """The bucket did not answer as expected (the client sees a 503)."""


class S3Backend:
    def __init__(
        self,
        *,
        bucket: str,
        region: str,
        credentials: Credentials,
        endpoint_url: str | None = None,
        prefix: str = "",
        timeout: float = 60.0,
    ) -> None:
        if not bucket:
            raise ConfigError("setting 's3_bucket' is required when files_storage is 's3'")
        if not SAFE_PREFIX.match(prefix):
            raise ConfigError("setting 's3_prefix' may only hold letters, digits and ._/-")
        self.bucket = bucket
        self.region = region
        self.credentials = credentials
        endpoint = endpoint_url or f"https://s3.{region}.amazonaws.com"
        self.base = f"{endpoint.rstrip('/')}/{bucket}"
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.timeout = aiohttp.ClientTimeout(total=None, connect=10, sock_read=timeout)
        self._session: aiohttp.ClientSession | None = None

    def url(self, key: str) -> str:
        return f"{self.base}/{self.prefix}{key}"

    def signed_headers(self, method: str, url: str, payload: bytes = b"") -> dict[str, str]:
        digest = hashlib.sha256(payload).hexdigest()
        return sign(
            method,
            url,
            {"x-amz-content-sha256": digest},
            payload,
            self.credentials,
            region=self.region,
            service="s3",
        )

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self.timeout)
        return self._session

    async def start(self) -> None:
        """Check the bucket once, so a wrong name or key shows at start, not on an upload."""
        try:
            async with self.session.head(
                self.base, headers=self.signed_headers("HEAD", self.base)
            ) as resp:
                status = resp.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.warning("S3 bucket %s is unreachable at start: %s", self.bucket, exc)
            return
        if status == 404:
            raise ConfigError(f"S3 bucket {self.bucket!r} does not exist")
        if status in (301, 400, 401, 403):
            raise ConfigError(f"S3 bucket {self.bucket!r} refused the credentials ({status})")

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def put(self, key: str, data: bytes) -> None:
        url = self.url(key)
        headers = self.signed_headers("PUT", url, data)
        headers["Content-Type"] = "application/octet-stream"
        try:
            async with self.session.put(url, data=data, headers=headers) as resp:
                if resp.status != 200:
                    raise StorageError(f"File storage refused the upload ({resp.status}).")
        except (aiohttp.ClientError, TimeoutError):
            raise StorageError("File storage is unreachable.") from None

    async def get(self, key: str) -> bytes | None:
        url = self.url(key)
        try:
            async with self.session.get(url, headers=self.signed_headers("GET", url)) as resp:
                if resp.status == 404:
                    return None
                if resp.status != 200:
                    raise StorageError(f"File storage refused the read ({resp.status}).")
                return await resp.read()
        except (aiohttp.ClientError, TimeoutError):
            raise StorageError("File storage is unreachable.") from None

    async def delete(self, key: str) -> None:
        url = self.url(key)
        try:
            async with self.session.delete(url, headers=self.signed_headers("DELETE", url)) as resp:
                if resp.status not in (200, 204, 404):
                    raise StorageError(f"File storage refused the delete ({resp.status}).")
        except (aiohttp.ClientError, TimeoutError):
            raise StorageError("File storage is unreachable.") from None

    async def respond(
        self, request: web.Request, key: str, content_type: str
    ) -> web.StreamResponse | None:
        url = self.url(key)
        try:
            async with self.session.get(url, headers=self.signed_headers("GET", url)) as resp:
                if resp.status == 404:
                    return None
                if resp.status != 200:
                    raise StorageError(f"File storage refused the read ({resp.status}).")
                out = web.StreamResponse(headers={"Content-Type": content_type})
                if resp.content_length is not None:
                    out.content_length = resp.content_length
                await out.prepare(request)
                async for chunk in resp.content.iter_chunked(CHUNK):
                    await out.write(chunk)
                await out.write_eof()
                return out
        except (aiohttp.ClientError, TimeoutError):
            raise StorageError("File storage is unreachable.") from None
