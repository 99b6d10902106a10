"""BYOK keys in memory: which provider key a request uses, with no database round trip.

An account's own key for a provider is preferred over the gateway's; a request can pick one
with ``provider_key_id``. Keys are decrypted once when loaded and refreshed on a timer, so a
key added or deleted through another process applies within ``refresh_seconds``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aigw.auth.secretbox import SecretBox
from aigw.errors import InvalidRequest
from aigw.store.db import Database
from aigw.store.provider_keys import ProviderKey, changed_provider_keys
from aigw.store.tables import now_ms

log = logging.getLogger("aigw.byok")


class ByokKeys:
    def __init__(self, db: Database, box: SecretBox, refresh_seconds: float = 2.0) -> None:
        self.db = db
        self.box = box
        self._refresh_seconds = refresh_seconds
        self._by_id: dict[str, ProviderKey] = {}
        self._by_account: dict[tuple[str, str], list[ProviderKey]] = {}
        self._seen_ms = 0
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.refresh(full=True)
        self._task = asyncio.create_task(self._run(), name="aigw-byok-refresh")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def refresh(self, *, full: bool = False) -> None:
        started = now_ms()
        since = 0 if full else self._seen_ms - 5000
        for key_id, key in await changed_provider_keys(self.db, self.box, since):
            if key is None:
                self.forget(key_id)
            else:
                self.remember(key)
        self._seen_ms = started

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._refresh_seconds)
            try:
                await self.refresh()
            except Exception:
                log.exception("BYOK key refresh failed; retrying next tick")

    def remember(self, key: ProviderKey) -> None:
        self.forget(key.id)
        self._by_id[key.id] = key
        self._by_account.setdefault((key.account_id, key.provider), []).append(key)

    def forget(self, key_id: str) -> None:
        old = self._by_id.pop(key_id, None)
        if old is not None:
            keys = self._by_account.get((old.account_id, old.provider), [])
            self._by_account[(old.account_id, old.provider)] = [k for k in keys if k.id != key_id]

    def pick(self, account_id: str, provider: str, key_id: object = None) -> ProviderKey | None:
        """The account's key for this call: the named one, else its newest for the provider."""
        if key_id is None:
            keys = self._by_account.get((account_id, provider))
            return keys[-1] if keys else None
        found = self._by_id.get(key_id) if isinstance(key_id, str) else None
        if found is None or found.account_id != account_id:
            raise InvalidRequest(
                f"Unknown provider_key_id {key_id!r}; GET /v1/provider-keys lists yours.",
                param="provider_key_id",
            )
        if found.provider != provider:
            raise InvalidRequest(
                f"Provider key {key_id!r} is for '{found.provider}', but this model is served "
                f"by '{provider}'.",
                param="provider_key_id",
            )
        return found
