"""Async jobs: ``POST /v1/videos/generations``, ``/v1/audio/music``, ``/v1/3d/generations``
answer 202 with a queued job, charged up front at the model's price (refunded if it fails or
is cancelled); ``GET /v1/jobs/{id}`` polls it and ``DELETE /v1/jobs/{id}`` cancels it."""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web

from aigw.auth.keys import KeyInfo
from aigw.billing.ledger import Entry
from aigw.errors import InvalidRequest, NotFound
from aigw.jobs import models, store
from aigw.server.appkeys import BILLING, CATALOG, DATABASE, JOBS, LIMITS, SETTINGS
from aigw.server.auth import authenticate
from aigw.server.routes.chat import read_tag
from aigw.server.routes.common import json_response, read_object
from aigw.webhooks.urls import check_url

FIELDS = {
    "video": (
        "prompt", "model", "duration", "aspect_ratio", "resolution", "image_url",
        "negative_prompt", "seed", "webhook_url",
    ),
    "music": (
        "prompt", "model", "duration", "lyrics", "is_instrumental", "lyrics_optimizer",
        "seed", "webhook_url",
    ),
    "3d": ("prompt", "model", "image_url", "format", "seed", "webhook_url"),
}  # fmt: skip
MAX_PROMPT = 20_000


def creator(modality: str) -> Any:
    async def handler(request: web.Request) -> web.Response:
        return await create_job(request, modality)

    return handler


async def create_job(request: web.Request, modality: str) -> web.Response:
    app = request.app
    key = await authenticate(request)
    billing = app[BILLING]
    await app[LIMITS].acquire(app[LIMITS].for_key(key, billing.sub_rpm(key)))
    tag = read_tag(request) or billing.default_tag(key)
    body = await read_object(request, FIELDS[modality])
    base_url = f"{request.scheme}://{request.host}"
    job = await submit_job(app, key, modality, body, tag, base_url)
    return json_response(job.view(), status=202)


async def submit_job(
    app: web.Application,
    key: KeyInfo,
    modality: str,
    body: dict[str, Any],
    tag: str | None,
    base_url: str,
) -> store.Job:
    """Check, charge and store one job (the HTTP route and the MCP tools share this)."""
    billing = app[BILLING]
    for name in body:
        if name not in FIELDS[modality]:
            raise InvalidRequest(f"Unknown field '{name}'.", param=name)
    prompt = body.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip() or len(prompt) > MAX_PROMPT:
        raise InvalidRequest(
            f"'prompt' must be a non-empty string of at most {MAX_PROMPT} characters.",
            param="prompt",
        )
    model = models.resolve(app[CATALOG], modality, body.get("model"))
    app[JOBS].providers.get(model.provider)  # 503 now if unconfigured, not after charging
    cost = models.cost_micro_cents(model, body)
    webhook_url = None
    if body.get("webhook_url") is not None:
        webhook_url = await check_url(
            body["webhook_url"], allow_private=app[SETTINGS].webhook_allow_private
        )
    job_id = store.new_job_id()
    charged, fee = billing.charge_for(cost, byok=False, total_tokens=0)
    reservation = await billing.reserve(key, charged, tag)  # 402 when it does not fit
    entry = None
    if reservation is not None and charged:
        entry = Entry(
            key.account_id,
            "charge",
            -charged,
            fee_micro_cents=fee,
            request_id=job_id,
            sub_account_id=key.sub_account_id,
            tag=tag,
        )
    values = {
        "id": job_id,
        "account_id": key.account_id,
        "key_id": key.key_id,
        "sub_account_id": key.sub_account_id,
        "tag": tag,
        "modality": modality,
        "model": model.id,
        "request": orjson.dumps(body).decode(),
        "webhook_url": webhook_url,
        "base_url": base_url,
        "charged_micro_cents": charged if entry else 0,
    }
    try:
        job, state = await store.create(app[DATABASE], values, entry)
    except BaseException:
        await billing.release(reservation)
        raise
    if entry is not None and state is not None:
        await billing.settle(reservation, key, request_id=job_id, charged=charged, fee=fee, tag=tag)
        await billing.committed_elsewhere(entry, reservation, state)
    app[JOBS].wake()
    return job


async def cancel(app: web.Application, account_id: str, job_id: str) -> store.Job:
    """Cancel a live job (refunded); one that already ended is returned as it is."""
    job = await store.get(app[DATABASE], job_id, account_id)
    if job is None:
        raise NotFound("No such job.", param="id")
    if job.status in store.LIVE:
        ended, state, _ = await store.finish(
            app[DATABASE], job, "cancelled", error="Cancelled by the client."
        )
        if state is not None and ended is not None:
            await app[BILLING].credited(state, store.refund_of(ended))
        job = ended or await store.get(app[DATABASE], job.id) or job
    return job


async def get_job(request: web.Request) -> web.Response:
    key = await authenticate(request)
    job = await store.get(request.app[DATABASE], request.match_info["id"], key.account_id)
    if job is None:
        raise NotFound("No such job.", param="id")
    return json_response(job.view())


async def cancel_job(request: web.Request) -> web.Response:
    key = await authenticate(request)
    job = await cancel(request.app, key.account_id, request.match_info["id"])
    return json_response(job.view())


def setup_routes(app: web.Application) -> None:
    app.router.add_post("/v1/videos/generations", creator("video"))
    app.router.add_post("/v1/audio/music", creator("music"))
    app.router.add_post("/v1/3d/generations", creator("3d"))
    app.router.add_get("/v1/jobs/{id}", get_job)
    app.router.add_delete("/v1/jobs/{id}", cancel_job)
