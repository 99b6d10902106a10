"""The two calls ``/v1/chat/completions`` makes into replays: keep the body (before the
upstream call) and offer the finished request to shadow rules (after the answer is built).
Both are synchronous, O(1) and touch no database."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from aigw.replays.shadow import ShadowMirror
    from aigw.server.metering import Meter


class ReplayState:
    """What the hot path needs to know: keep bodies at all, and the shadow rules."""

    def __init__(self, store_bodies: bool, mirror: ShadowMirror) -> None:
        self.store_bodies = store_bodies
        self.mirror = mirror


REPLAYS: web.AppKey[ReplayState] = web.AppKey("replays")


def keep_for_replay(app: web.Application, meter: Meter, raw: bytes) -> None:
    """Keep the request body and (as it is sent) the answer for the request log / shadow."""
    state = app.get(REPLAYS)
    if state is None or meter.key is None:
        return
    account = meter.key.account_id
    mirror = state.mirror
    wanted = state.store_bodies and account not in mirror.opted_out
    if wanted or mirror.has_rules(account):
        meter.request_body = raw
        meter.output = []


def offer_shadow(app: web.Application, meter: Meter) -> None:
    state = app.get(REPLAYS)
    if state is not None and meter.request_body is not None:
        state.mirror.offer(meter)
