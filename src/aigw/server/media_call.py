"""One non-chat call (embeddings, images, speech, transcriptions, moderations, rerank) through
the chat path's machinery, without the HTTP request around it: plan (routing/router.py, with a
resolver that insists on the operation's modality), reserve the dearest candidate's maximum,
send with retries and fallbacks, price what the upstream reported at the catalog price, settle.

The route handlers (routes/media.py), batch lines (batches/lines.py) and ``embed_texts``
(server/embed_api.py) all come through ``run_media``, so billing and the request log cannot
differ between them.

In-process providers: a provider id registered with ``register_local_provider`` is called as
a Python coroutine instead of over HTTP (a local embedding model, say). Its catalog entry is
an ordinary provider and model (any wire format, ``key_required = false``); planning, the
reservation, pricing and the request log are the same as for a remote provider.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from aigw.billing.media_estimate import media_bound, media_reserve_amount
from aigw.billing.units import units_cost_micro_cents
from aigw.core.usage import Usage
from aigw.errors import InvalidRequest, ModelNotFound
from aigw.formats.media_answers import MediaAnswer, estimate_tokens
from aigw.formats.openai_media import MediaRequest
from aigw.providers.media import MediaCall, Operation, media_call
from aigw.routing.resolve import REHOSTS
from aigw.routing.router import Route
from aigw.server.appkeys import BILLING, BYOK, ROUTER, SETTINGS
from aigw.server.routed import adopt
from aigw.server.translated import provider_options

if TYPE_CHECKING:
    from aigw.catalog.loader import Catalog
    from aigw.catalog.models import Model
    from aigw.routing.deployments import Candidate, Plan
    from aigw.server.metering import Meter

LocalProvider = Callable[[Operation, "Model", MediaRequest], Awaitable[MediaAnswer]]
"""An in-process provider: answers one operation for one of its catalog models."""

LOCAL_PROVIDERS: web.AppKey[dict[str, LocalProvider]] = web.AppKey("aigw_local_providers", dict)
DISCOUNT_DIVISOR = 2  # batch lines cost half


def setup(app: web.Application) -> None:
    """Create the (mutable) registry of in-process providers before the app starts."""
    if LOCAL_PROVIDERS not in app:
        app[LOCAL_PROVIDERS] = {}


def register_local_provider(app: web.Application, provider_id: str, call: LocalProvider) -> None:
    """Serve ``provider_id``'s models in-process from now on (works on a running app)."""
    app[LOCAL_PROVIDERS][provider_id] = call


def resolver(op: Operation) -> Callable[[Catalog, str], Model]:
    """Catalog ids resolve exactly, bare upstream names within the operation's modality; a
    model of another modality (a chat model for embeddings) is the client's mistake: 400."""

    def resolve(catalog: Catalog, name: str) -> Model:
        model = catalog.get(name)
        if model is None and "/" not in name:
            matches = [m for m in catalog.models if m.upstream_id == name]
            matches = [m for m in matches if m.modality == op.modality] or matches
            if len(matches) > 1:
                matches = [m for m in matches if m.provider not in REHOSTS] or matches
            if len(matches) == 1:
                model = matches[0]
            elif len(matches) > 1:
                options = ", ".join(sorted(m.id for m in matches)[:5])
                raise ModelNotFound(
                    f"Model '{name}' is served by several providers; name one of: {options}.",
                    param="model",
                )
        if model is None:
            raise ModelNotFound(
                f"Model '{name}' is not in the catalog; GET /v1/models?modality={op.modality} "
                "lists the models for this endpoint.",
                param="model",
            )
        if model.modality != op.modality:
            raise InvalidRequest(
                f"'{model.id}' is a {model.modality} model; {op.path} needs a {op.modality} "
                f"model (GET /v1/models?modality={op.modality}).",
                param="model",
            )
        return model

    return resolve


def plan_media(app: web.Application, op: Operation, req: MediaRequest, account_id: str) -> Plan:
    return app[ROUTER].plan({"model": req.model}, account_id, app[BYOK], resolver(op))


async def run_media(
    app: web.Application,
    meter: Meter,
    op: Operation,
    req: MediaRequest,
    *,
    discount: bool = False,
) -> MediaAnswer:
    """Plan, reserve, call, price and settle one call; ``meter`` carries the key and tag and
    is left billed (the caller writes the log record and releases on failure)."""
    billing, router = app[BILLING], app[ROUTER]
    assert meter.key is not None
    meter.model_name = req.model
    plan = plan_media(app, op, req, meter.key.account_id)
    meter.model = plan.candidates[0].model
    meter.billing = billing
    meter.reservation = await billing.reserve(meter.key, _ceiling(app, op, req, plan), meter.tag)
    route = Route(plan)
    local = app[LOCAL_PROVIDERS].get(meter.model.provider) if LOCAL_PROVIDERS in app else None
    if local is not None:
        route.candidate = plan.candidates[0]
        meter.byok = route.candidate.byok
        answer = await local(op, meter.model, req)
    else:
        calls = _Calls(app, op, req)
        try:  # retries and fallbacks before the answer
            await router.send(route, calls.prepare, stream=False)
        finally:
            adopt(meter, route)
        answer = route.body
        assert isinstance(answer, MediaAnswer)
    meter.mark_first_byte()
    price(meter, op, req, answer, discount=discount)
    await meter.bill()  # committed before the answer leaves
    meter.route = route if local is None else None
    return answer


def price(
    meter: Meter, op: Operation, req: MediaRequest, answer: MediaAnswer, *, discount: bool
) -> None:
    """The catalog price of what the upstream reported (estimated where it reports nothing)."""
    assert meter.model is not None
    usage = answer.usage
    if usage is None:
        usage = Usage(prompt_tokens=estimate_tokens(req)) if op.name == "embeddings" else Usage()
    cost = units_cost_micro_cents(meter.model.price, usage, answer.units)
    if discount:
        cost = math.ceil(cost / DISCOUNT_DIVISOR)
    meter.usage, meter.cost = usage, cost


def _ceiling(app: web.Application, op: Operation, req: MediaRequest, plan: Plan) -> int:
    """The most the call can cost wherever it ends up: the dearest candidate's maximum."""
    billing = app[BILLING]
    ceiling = 0
    for cand in plan.candidates:
        if cand.byok:
            usage, _ = media_bound(op.name, req)
            amount = billing.charge_for(0, byok=True, total_tokens=usage.total_tokens)[0]
        else:
            amount = media_reserve_amount(cand.model, op.name, req)
        ceiling = max(ceiling, amount)
    return ceiling


class _Calls:
    """Encodes the operation for each deployment the router tries."""

    __slots__ = ("_app", "_op", "_req")

    def __init__(self, app: web.Application, op: Operation, req: MediaRequest) -> None:
        self._app, self._op, self._req = app, op, req

    def prepare(self, cand: Candidate) -> MediaCall:
        model = cand.model
        options = provider_options(self._app, model.provider, self._app[SETTINGS])
        return media_call(cand.upstream, model, self._op, self._req, options)


def client_body(op: Operation, answer: MediaAnswer, meter: Meter) -> Any:
    """The answer as the client gets it: the gateway's model id and ``usage.cost`` added."""
    assert meter.model is not None
    body = answer.body
    if not isinstance(body, dict):
        return body
    cost = meter.cost_fields()
    if op.name in ("embeddings", "moderations"):
        body["model"] = meter.model.id
    if op.name == "rerank":
        usage: dict[str, Any] = answer.units.as_dict()
        if answer.usage is not None:
            usage["total_tokens"] = answer.usage.total_tokens
        body = {"id": body["id"] or meter.request_id, "model": meter.model.id, **body}
        body["usage"] = {**usage, **cost}
    elif isinstance(body.get("usage"), dict):
        body["usage"].update(cost)
    elif op.name == "embeddings" and meter.usage is not None:
        tokens = meter.usage.prompt_tokens
        body["usage"] = {"prompt_tokens": tokens, "total_tokens": tokens, **cost}
    return body
