"""Run one chat completion for an account in-process: the path ``/v1/chat/completions``
takes (router, retries and fallbacks, translation, reserve and settle, request log), without
an HTTP request around it. Replays, shadow traffic and evals all call it, so each of their
calls is billed to the account and logged like a client's own."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aigw.batches.lines import run_chat_line
from aigw.replays.capture import message_text
from aigw.server.metering import Meter
from aigw.server.middleware import new_request_id

if TYPE_CHECKING:
    from aiohttp import web

    from aigw.auth.keys import KeyInfo


@dataclass(frozen=True, slots=True)
class RunResult:
    request_id: str
    status: int
    body: dict[str, Any]
    model: str | None  # the catalog id that answered
    text: str | None  # the first choice's text
    cost: int  # micro-cents, the provider's price
    charged: int  # micro-cents, what the wallet paid
    latency_ms: int

    @property
    def ok(self) -> bool:
        return self.status == 200

    @property
    def error(self) -> str | None:
        if self.ok:
            return None
        err = self.body.get("error")
        message = err.get("message") if isinstance(err, dict) else None
        return str(message or f"HTTP {self.status}")


async def run_chat(
    app: web.Application,
    key: KeyInfo,
    body: dict[str, Any],
    *,
    tag: str | None = None,
    endpoint: str = "replay",
) -> RunResult:
    """One non-streaming chat completion, billed to ``key``'s account and observed (health,
    breakers, metrics) under ``endpoint``: replay, shadow or eval."""
    body = {k: v for k, v in body.items() if k not in ("stream", "stream_options")}
    request_id = new_request_id()
    meter = Meter(request_id)
    started = time.perf_counter()
    status, answer = await run_chat_line(
        app, key, body, request_id, tag, discount=False, meter=meter, endpoint=endpoint
    )
    return RunResult(
        request_id=request_id,
        status=status,
        body=answer,
        model=meter.model.id if meter.model is not None else None,
        text=message_text(answer) if status == 200 else None,
        cost=meter.cost,
        charged=meter.charged,
        latency_ms=round((time.perf_counter() - started) * 1000),
    )
