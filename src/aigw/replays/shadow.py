"""Shadow traffic: a share of an account's live requests for a model is re-run on a
candidate model in the background and compared (a Replay record with ``shadow: true``).

The client never waits for it: ``offer`` is synchronous and O(rules), called once the answer
is built; the mirrored call is a task of its own. At most ``limit`` mirrored calls run at
once per process; a request that finds every slot busy is not mirrored and is counted in
``dropped`` (shadow traffic is a sample, never a queue that can grow). Rules and the
accounts that opted out of keeping bodies are cached and re-read every few seconds, so every
replica follows changes made on any of them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson
from sqlalchemy import select

from aigw.replays import store
from aigw.replays.capture import output_text
from aigw.replays.runner import run_chat
from aigw.replays.service import outcome
from aigw.store.tables import accounts, now_ms

if TYPE_CHECKING:
    from aiohttp import web

    from aigw.auth.keys import KeyInfo
    from aigw.server.metering import Meter
    from aigw.store.db import Database

log = logging.getLogger("aigw.shadow")


# How long a mirrored call waits before it starts. The handler offers it before aiohttp has
# written the live answer, and one loop turn is not always enough for that write: a mirrored
# call that starts at once runs its parse, plan and reservation (a few hundred µs) ahead of
# the live answer's last bytes (bench/shadow.py saw +0.3 ms at p50 with 20-50 ms between
# requests). A few milliseconds later the client has its answer.
START_DELAY = 0.005


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    source_model: str
    target_model: str
    share: float


@dataclass(slots=True)
class Counters:
    mirrored: int = 0
    dropped: int = 0
    failed: int = 0

    def view(self) -> dict[str, int]:
        return {"mirrored": self.mirrored, "dropped": self.dropped, "failed": self.failed}


@dataclass(frozen=True, slots=True)
class Source:
    """What the live request leaves for its mirror (taken before the meter is reused)."""

    key: KeyInfo
    request_id: str
    model: str | None
    tag: str | None
    body: bytes
    output: list[bytes] | None
    streamed: bool
    cost: int
    latency_ms: int


@dataclass
class ShadowMirror:
    app: web.Application
    db: Database
    limit: int
    refresh_seconds: float
    rules: dict[str, list[Rule]] = field(default_factory=dict)  # by account id
    opted_out: set[str] = field(default_factory=set)
    counters: Counters = field(default_factory=Counters)
    running: int = 0
    tasks: set[asyncio.Task[None]] = field(default_factory=set)
    _poller: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.refresh()
        self._poller = asyncio.create_task(self._poll(), name="aigw-shadow-rules")

    async def stop(self) -> None:
        tasks = [t for t in (self._poller, *self.tasks) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def refresh(self) -> None:
        found: dict[str, list[Rule]] = {}
        for row in await store.rules(self.db):
            rule = Rule(row.id, row.source_model, row.target_model, float(row.share))
            found.setdefault(row.account_id, []).append(rule)
        async with self.db.engine.connect() as conn:
            refused = select(accounts.c.id).where(accounts.c.store_bodies.is_(False))
            out = await conn.execute(refused)
            self.opted_out = set(out.scalars())
        self.rules = found

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(self.refresh_seconds)
            try:
                await self.refresh()
            except Exception as exc:
                log.warning("shadow rules: refresh failed (%s); keeping the last ones", exc)

    def has_rules(self, account_id: str) -> bool:
        return account_id in self.rules

    def offer(self, meter: Meter) -> None:
        """Mirror this finished live request per the account's rules (never blocks)."""
        key = meter.key
        if key is None or meter.status != 200 or meter.request_body is None:
            return
        rules = self.rules.get(key.account_id)
        if not rules:
            return
        names = {meter.model_name, meter.model.id if meter.model is not None else None}
        source: Source | None = None
        for rule in rules:
            if rule.source_model not in names or random.random() >= rule.share:
                continue
            if self.running >= self.limit:
                self.counters.dropped += 1
                continue
            if source is None:
                source = Source(
                    key=key,
                    request_id=meter.request_id,
                    model=meter.model.id if meter.model is not None else meter.model_name,
                    tag=meter.tag,
                    body=meter.request_body,
                    output=list(meter.output) if meter.output is not None else None,
                    streamed=meter.streamed,
                    cost=meter.cost,
                    latency_ms=round((time.perf_counter() - meter.started) * 1000),
                )
            self.running += 1
            task = asyncio.create_task(self._mirror(rule, source), name="aigw-shadow")
            self.tasks.add(task)
            task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self.tasks.discard(task)
        self.running -= 1

    async def _mirror(self, rule: Rule, src: Source) -> None:
        await asyncio.sleep(START_DELAY)  # let the live response go out first
        try:
            body: dict[str, Any] = orjson.loads(src.body)
            body["model"] = rule.target_model
            result = await run_chat(self.app, src.key, body, tag=src.tag, endpoint="shadow")
            keep = src.key.account_id not in self.opted_out
            text = output_text(src.output, streamed=src.streamed) if src.output else None
            done = outcome(result, text)
            if not keep:  # the account keeps no bodies: compare, but store no text
                done["target_output"] = None
            await store.create(
                self.db,
                {
                    "account_id": src.key.account_id,
                    "source_request_id": src.request_id,
                    "source_model": src.model,
                    "target_model": rule.target_model,
                    "shadow": True,
                    "rule_id": rule.id,
                    "cost_source_micro_cents": src.cost,
                    "latency_source_ms": src.latency_ms,
                    "source_output": text if keep else None,
                    **done,
                    "completed_at": now_ms(),
                },
            )
            if result.ok:
                self.counters.mirrored += 1
            else:
                self.counters.failed += 1
        except asyncio.CancelledError:
            raise
        except Exception:
            self.counters.failed += 1
            log.exception("shadow call for request %s failed in the gateway", src.request_id)
