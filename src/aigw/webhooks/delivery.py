"""Delivers the outbox: POST the signed payload, 2xx within 10 s counts; otherwise retry with
doubling delays (from ``webhook_retry_base_seconds``, capped at 1 h) until 24 h after the
event, then give up. Every attempt is logged in ``webhook_attempts``."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

import aiohttp

from aigw.errors import InvalidRequest
from aigw.store.db import Database
from aigw.store.tables import now_ms
from aigw.webhooks import store
from aigw.webhooks.signing import HEADER, signature
from aigw.webhooks.urls import check_url

log = logging.getLogger("aigw.webhooks")

TIMEOUT_S = 10.0
GIVE_UP_MS = 24 * 3600 * 1000
MAX_DELAY_S = 3600.0


class Deliverer:
    def __init__(
        self,
        db: Database,
        *,
        allow_private: bool,
        retry_base_seconds: float,
        poll_seconds: float = 1.0,
    ) -> None:
        self.db = db
        self.allow_private = allow_private
        self.retry_base = retry_base_seconds
        self.poll = poll_seconds
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT_S))
        self._task = asyncio.create_task(self._run(), name="aigw-webhooks")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._session is not None:
            await self._session.close()

    def wake(self) -> None:
        """New deliveries were written: send them now rather than at the next poll."""
        self._wake.set()

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            try:
                due = await store.claim_due(self.db, lease_ms=int((TIMEOUT_S + 20) * 1000))
                if due:
                    await asyncio.gather(*(self._deliver(row) for row in due))
                    continue
            except Exception:
                log.exception("webhook delivery round failed; retrying")
            with contextlib.suppress(TimeoutError):  # (not wait_for: see jobs/worker.py)
                async with asyncio.timeout(self.poll):
                    await self._wake.wait()

    async def _deliver(self, row: Any) -> None:
        assert self._session is not None
        started = time.perf_counter()
        status_code: int | None = None
        error: str | None = None
        try:
            await check_url(row.url, allow_private=self.allow_private)
            secret = await store.get_secret(self.db, row.account_id)
            body = row.payload.encode()
            headers = {
                "Content-Type": "application/json",
                HEADER: signature(secret, body),
                "User-Agent": "aigw-webhooks",
            }
            async with self._session.post(
                row.url, data=body, headers=headers, allow_redirects=False
            ) as resp:
                status_code = resp.status
                await resp.read()
        except InvalidRequest as exc:
            error = exc.message
        except (aiohttp.ClientError, TimeoutError) as exc:
            error = type(exc).__name__
        ok = status_code is not None and 200 <= status_code < 300
        attempts = int(row.attempts) + 1
        delay_ms = int(min(MAX_DELAY_S, self.retry_base * 2 ** (attempts - 1)) * 1000)
        next_at = now_ms() + delay_ms
        outcome = "delivered" if ok else "pending"
        if not ok and next_at > int(row.created_at) + GIVE_UP_MS:
            outcome = "failed"
        if not ok and error is None:
            error = f"HTTP {status_code}"
        await store.record_attempt(
            self.db,
            row.id,
            status_code=status_code,
            error=error,
            duration_ms=round((time.perf_counter() - started) * 1000, 3),
            outcome=outcome,
            next_attempt_at=next_at,
        )
