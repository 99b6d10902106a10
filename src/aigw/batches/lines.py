"""One batch line through the same path as ``POST /v1/chat/completions`` or ``/v1/embeddings``
(router, retries and fallbacks, translation, reserve and settle, request log, health and
metrics), without the HTTP request around it: no rate limit (batches are not counted against
RPM) and half the price. A line ends like a request (``observe.end_request``) but returns its
error body instead of raising it."""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import orjson
from aiohttp import web

from aigw.billing.estimate import typical_prompt_tokens
from aigw.core.usage import Usage
from aigw.errors import GatewayError, InvalidRequest
from aigw.formats.openai_chat import parse_request
from aigw.formats.openai_media import check_embeddings
from aigw.providers.media import OPERATIONS
from aigw.routing.router import Route
from aigw.server.appkeys import BILLING, BYOK, ROUTER, SETTINGS
from aigw.server.media_call import client_body, run_media
from aigw.server.metering import Meter
from aigw.server.observe import end_request
from aigw.server.relay import relay_json
from aigw.server.routed import ChatCalls, adopt, first_name, reservation_ceiling
from aigw.server.translated import OpenAIClient, relay_answer

if TYPE_CHECKING:
    from aigw.auth.keys import KeyInfo

DISCOUNT_DIVISOR = 2  # batches cost 50% of the listed price
ENDPOINT = "batch"  # the metrics' endpoint label of batch lines, chat and embeddings alike


@dataclass(slots=True)
class BatchMeter(Meter):
    """A meter that prices at half the catalog price."""

    def price(self, usage: Usage | None) -> int:
        full = Meter.price(self, usage)
        self.cost = (full + DISCOUNT_DIVISOR - 1) // DISCOUNT_DIVISOR
        return self.cost


async def run_chat_line(
    app: web.Application,
    key: KeyInfo,
    body: dict[str, Any],
    request_id: str,
    tag: str | None,
    *,
    discount: bool = True,
    meter: Meter | None = None,
    endpoint: str = ENDPOINT,
) -> tuple[int, dict[str, Any]]:
    """(HTTP status, response body) of one chat call, billed, logged and observed (health,
    breaker, metrics under ``endpoint``) like one; batch lines pass ``discount`` (half
    price), MCP's chat tool does not. A caller that wants the call's cost and timing passes
    its own ``meter`` (replays, evals)."""
    if meter is None:
        meter = BatchMeter(request_id) if discount else Meter(request_id)
    meter.key = key
    meter.tag = tag
    return await _ended(app, meter, endpoint, _chat(app, meter, body))


async def _ended(
    app: web.Application, meter: Meter, endpoint: str, answer: Awaitable[dict[str, Any]]
) -> tuple[int, dict[str, Any]]:
    """(status, body) of a line, ended as the HTTP routes end a request (``Meter.fail``,
    ``Meter.crashed``, ``end_request``) except that an error is returned as its body, not
    raised: a batch writes it to the error file, replays and evals record it."""
    try:
        return 200, await answer
    except GatewayError as err:
        meter.fail(err)
        return err.status, err.body()
    except Exception:
        meter.crashed()
        return 500, {"error": {"message": "Internal error.", "type": "server_error"}}
    finally:
        await end_request(app, meter, endpoint)


async def _chat(app: web.Application, meter: Meter, body: dict[str, Any]) -> Any:
    raw = orjson.dumps(body)
    body = parse_request(raw)
    if body.get("stream"):
        raise InvalidRequest("Batch lines cannot stream.", param="stream")
    return await _run(app, meter, body, len(raw))


async def _run(app: web.Application, meter: Meter, body: dict[str, Any], size: int) -> Any:
    settings, billing, router = app[SETTINGS], app[BILLING], app[ROUTER]
    assert meter.key is not None
    meter.model_name = first_name(body["model"])
    plan = router.plan(body, meter.key.account_id, app[BYOK])
    meter.model = plan.candidates[0].model
    meter.prompt_estimate = typical_prompt_tokens(size)
    meter.billing = billing
    ceiling = reservation_ceiling(plan, body, size, settings, billing)
    meter.reservation = await billing.reserve(meter.key, ceiling, meter.tag)
    route = Route(plan)
    calls = ChatCalls(app, settings, body, False)
    try:
        await router.send(route, calls.prepare, stream=False)
    finally:
        adopt(meter, route)
    cand = route.candidate
    assert cand is not None and calls.call is not None
    if cand.upstream.translator is not None:
        client = OpenAIClient(meter, include_usage=False)
        # A whole answer never touches the request (only streams do).
        response = await relay_answer(cast(web.Request, None), meter, route, calls.call, client, {})
    else:
        response = await relay_json(route.body, meter, {})
    assert isinstance(response, web.Response) and response.body is not None
    return orjson.loads(cast(bytes, response.body))


async def run_embeddings_line(
    app: web.Application,
    key: KeyInfo,
    body: dict[str, Any],
    request_id: str,
    tag: str | None,
    *,
    discount: bool = True,
) -> tuple[int, dict[str, Any]]:
    """(HTTP status, response body) of one ``/v1/embeddings`` call, through the same
    ``run_media`` as the endpoint, at half price, billed, logged and observed under ``batch``
    like a chat line; the body is OpenAI's embeddings answer."""
    meter = Meter(request_id)
    meter.key = key
    meter.tag = tag
    return await _ended(app, meter, ENDPOINT, _embeddings(app, meter, body, discount))


async def _embeddings(
    app: web.Application, meter: Meter, body: dict[str, Any], discount: bool
) -> Any:
    op = OPERATIONS["embeddings"]
    answer = await run_media(app, meter, op, check_embeddings(body), discount=discount)
    return client_body(op, answer, meter)
