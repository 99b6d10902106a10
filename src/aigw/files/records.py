"""Rows of uploaded files (the bytes are in ``FileStore``), in OpenAI's File object shape."""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import delete, select

from aigw.store.db import Database
from aigw.store.tables import files, now_ms

PURPOSES = ("batch", "batch_output")


def new_file_id() -> str:
    return "file-" + secrets.token_hex(12)


def view(r: Any) -> dict[str, Any]:
    return {
        "id": r.id,
        "object": "file",
        "bytes": int(r.bytes),
        "created_at": int(r.created_at) // 1000,
        "filename": r.filename,
        "purpose": r.purpose,
        "status": "processed",
        "status_details": None,
    }


async def add(
    db: Database, file_id: str, account_id: str, purpose: str, filename: str, size: int
) -> dict[str, Any]:
    row = {
        "id": file_id,
        "account_id": account_id,
        "purpose": purpose,
        "filename": filename,
        "bytes": size,
        "created_at": now_ms(),
    }
    async with db.write() as conn:
        await conn.execute(files.insert().values(**row))
        return view((await conn.execute(select(files).where(files.c.id == file_id))).one())


async def get(db: Database, account_id: str, file_id: str) -> dict[str, Any] | None:
    async with db.engine.connect() as conn:
        found = (
            await conn.execute(
                select(files).where(files.c.id == file_id, files.c.account_id == account_id)
            )
        ).one_or_none()
    return view(found) if found else None


async def list_for(
    db: Database, account_id: str, purpose: str | None, limit: int
) -> list[dict[str, Any]]:
    query = select(files).where(files.c.account_id == account_id)
    if purpose is not None:
        query = query.where(files.c.purpose == purpose)
    query = query.order_by(files.c.created_at.desc(), files.c.id).limit(limit)
    async with db.engine.connect() as conn:
        return [view(r) for r in await conn.execute(query)]


async def remove(db: Database, account_id: str, file_id: str) -> bool:
    async with db.write() as conn:
        done = await conn.execute(
            delete(files).where(files.c.id == file_id, files.c.account_id == account_id)
        )
    return bool(done.rowcount)
