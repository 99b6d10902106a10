"""The webhook deliverer stops when told to, even right after a wake-up (a job that just
ended asks for a delivery round as the gateway shuts down)."""

from __future__ import annotations

import asyncio

from aigw.store.db import Database
from aigw.webhooks.delivery import Deliverer


async def test_stop_right_after_a_wake_up_does_not_hang(database: Database) -> None:
    deliverer = Deliverer(database, allow_private=True, retry_base_seconds=1, poll_seconds=3600)
    await deliverer.start()
    await asyncio.sleep(0.05)  # the first round found nothing: waiting for a wake-up
    deliverer.wake()
    stopping = asyncio.create_task(deliverer.stop())  # cancels in the same loop turn
    done, _ = await asyncio.wait({stopping}, timeout=3)  # (asyncio.wait cancels nothing)
    assert stopping in done, "stop() is still waiting for the delivery loop"
