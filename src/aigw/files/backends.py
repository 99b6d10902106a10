"""Where file bytes live: the local disk (default) or an S3-compatible bucket.

Both speak in keys such as ``files/<file id>`` or ``jobs/<job id>/<filename>`` (checked safe
by ``FileStore``), so swapping the backend changes no record and no URL: every read still
goes through the gateway, which checks the key or the signed link first.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Protocol

from aiohttp import web


class Backend(Protocol):
    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def put(self, key: str, data: bytes) -> None: ...

    async def get(self, key: str) -> bytes | None:
        """The whole object, or None when it does not exist."""
        ...

    async def delete(self, key: str) -> None:
        """Remove the object; a missing object is not an error."""
        ...

    async def respond(
        self, request: web.Request, key: str, content_type: str
    ) -> web.StreamResponse | None:
        """Stream the object to the client, or None when it does not exist."""
        ...


class LocalBackend:
    """``<data_dir>/<key>`` on the local disk."""

    def __init__(self, root: Path) -> None:
        self.root = root

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None

    def path(self, key: str) -> Path:
        return self.root / key

    async def put(self, key: str, data: bytes) -> None:
        """Write via a temporary name so a reader never sees half a file."""
        path = self.path(key)

        def go() -> None:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(path.name + ".part")
            tmp.write_bytes(data)
            tmp.replace(path)

        await asyncio.to_thread(go)

    async def get(self, key: str) -> bytes | None:
        path = self.path(key)
        try:
            return await asyncio.to_thread(path.read_bytes)
        except FileNotFoundError:
            return None

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self.path(key).unlink, missing_ok=True)

    async def respond(
        self, request: web.Request, key: str, content_type: str
    ) -> web.StreamResponse | None:
        path = self.path(key)
        if not path.is_file():
            return None
        return web.FileResponse(path, headers={"Content-Type": content_type})
