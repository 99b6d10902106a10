"""The tools MCP clients see: each is a JSON Schema and a coroutine that runs it through the
same code as the HTTP API (chat through the chat path, jobs through ``submit_job``, media
through ``run_media``: mcp/media_tools.py; replays, evals and reports: mcp/account_tools.py).
``TOOLS`` is every tool by name."""

from __future__ import annotations

from typing import Any

import orjson

from aigw.batches.lines import run_chat_line
from aigw.catalog.models import Model
from aigw.jobs import store as jobs
from aigw.jobs.models import from_model
from aigw.mcp.account_tools import ACCOUNT_TOOLS
from aigw.mcp.base import Ctx, Run, Tool, ToolFailed, boolean, integer, number, obj, string
from aigw.mcp.media_tools import MEDIA_TOOLS
from aigw.replays.hooks import keep_for_replay
from aigw.server.appkeys import BILLING, CATALOG, DATABASE, LIMITS
from aigw.server.metering import Meter
from aigw.server.middleware import new_request_id
from aigw.server.routes.jobs import cancel, submit_job

MODEL = string("A catalog model id (e.g. 'openai/gpt-4o'); list_models shows them.")


def _model_view(m: Model) -> dict[str, Any]:
    return {
        "id": m.id,
        "name": m.name,
        "modality": m.modality,
        "context_window": m.context_window,
        "price_per_1m": {"input": str(m.price.input), "output": str(m.price.output)},
        **(
            {"price": {"usd": str(j.price_per_unit), "per": j.unit}} if (j := from_model(m)) else {}
        ),
    }


async def _chat(ctx: Ctx, args: dict[str, Any]) -> Any:
    """Rate-limited, then ``run_chat_line`` (billed, logged, observed as ``mcp``); the body is
    kept for replays like a /v1/chat/completions call's, so ``replay`` can take its id."""
    app, key = ctx.app, ctx.key
    limits = app[LIMITS].for_key(key, app[BILLING].sub_rpm(key))
    await app[LIMITS].acquire(limits)
    messages = args.get("messages")
    if messages is None:
        if args.get("prompt") is None:
            raise ToolFailed(_needs("messages", "Give 'messages' or 'prompt'."))
        messages = [{"role": "user", "content": args["prompt"]}]
    body: dict[str, Any] = {"model": args["model"], "messages": messages}
    for name in ("max_tokens", "temperature"):
        if name in args:
            body[name] = args[name]
    meter = Meter(new_request_id())
    meter.key = key
    meter.limits = limits  # its tokens count against the key's token limits when it ends
    keep_for_replay(app, meter, orjson.dumps(body))
    status, answer = await run_chat_line(
        app, key, body, meter.request_id, ctx.tag, discount=False, meter=meter, endpoint="mcp"
    )
    if status != 200:
        raise ToolFailed(answer)
    return {
        "id": meter.request_id,
        "model": answer.get("model"),
        "content": answer["choices"][0]["message"].get("content"),
        "usage": answer.get("usage"),
    }


def _needs(param: str, message: str) -> dict[str, Any]:
    return {
        "error": {"message": message, "type": "invalid_request_error", "code": 400, "param": param}
    }


async def _list_models(ctx: Ctx, args: dict[str, Any]) -> Any:
    found = ctx.app[CATALOG].filter(args.get("modality"), args.get("provider"))
    return [_model_view(m) for m in found][: args.get("limit", 100)]


async def _search_models(ctx: Ctx, args: dict[str, Any]) -> Any:
    query = args["query"].lower()
    hits = [
        _model_view(m)
        for m in ctx.app[CATALOG]
        if query in m.id.lower() or query in m.name.lower() or query in m.description.lower()
    ]
    return hits[: args.get("limit", 20)]


def _generate(modality: str) -> Run:
    async def run(ctx: Ctx, args: dict[str, Any]) -> Any:
        job = await submit_job(ctx.app, ctx.key, modality, dict(args), ctx.tag, ctx.base)
        return job.view()

    return run


async def _get_job(ctx: Ctx, args: dict[str, Any]) -> Any:
    job = await jobs.get(ctx.app[DATABASE], args["id"], ctx.key.account_id)
    if job is None:
        raise ToolFailed(_not_found("No such job."))
    return job.view()


def _not_found(message: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": "not_found", "code": 404, "param": "id"}}


async def _cancel_job(ctx: Ctx, args: dict[str, Any]) -> Any:
    return (await cancel(ctx.app, ctx.key.account_id, args["id"])).view()


_JOB_PROPS: dict[str, Any] = {
    "prompt": string("What to make.", minLength=1, maxLength=20_000),
    "model": string("A catalog model of this modality; the default model when left out."),
    "seed": integer("Seed, where the model takes one."),
    "webhook_url": string("Signed webhook called when the job ends."),
}
_DURATION = number("Length in seconds (priced per second where the model is).", minimum=0)
_IMAGE_URL = string("An input image URL (image-to-video / image-to-3D).")
_ID = obj({"id": string("The job id (job_...).", minLength=1)}, ["id"])
LIMIT = integer("How many to return at most.", minimum=1, maximum=1000)

CORE_TOOLS = (
    Tool(
        "chat",
        "Chat completion with any catalog model; give 'messages' (OpenAI format) or "
        "'prompt'. Billed like /v1/chat/completions; 'id' is the request id (for replay).",
        obj(
            {
                "model": MODEL,
                "messages": {
                    "type": "array",
                    "items": {"type": "object"},
                    "minItems": 1,
                    "description": "OpenAI chat messages ({role, content}).",
                },
                "prompt": string("A single user message (instead of 'messages')."),
                "max_tokens": integer("Most tokens to generate.", minimum=1),
                "temperature": number("Sampling temperature.", minimum=0, maximum=2),
            },
            ["model"],
        ),
        _chat,
    ),
    Tool(
        "list_models",
        "Models with prices, optionally one modality (text, image, embedding, video, "
        "music, 3d ...) or provider.",
        obj(
            {
                "modality": string("text, image, embedding, audio, video, music, 3d ..."),
                "provider": string("A provider id, e.g. 'openai'."),
                "limit": LIMIT,
            },
            [],
        ),
        _list_models,
    ),
    Tool(
        "search_models",
        "Models whose id, name or description contains the query.",
        obj({"query": string("Text to look for.", minLength=1), "limit": LIMIT}, ["query"]),
        _search_models,
    ),
    Tool(
        "generate_video",
        "Start a video job (async, charged up front); poll it with get_job.",
        obj(
            {
                **_JOB_PROPS,
                "duration": _DURATION,
                "aspect_ratio": string("e.g. '16:9'."),
                "resolution": string("e.g. '720p'."),
                "image_url": _IMAGE_URL,
                "negative_prompt": string("What to avoid."),
            },
            ["prompt"],
        ),
        _generate("video"),
    ),
    Tool(
        "generate_music",
        "Start a music job (async, charged up front); poll it with get_job.",
        obj(
            {
                **_JOB_PROPS,
                "duration": _DURATION,
                "lyrics": string("Lyrics to sing."),
                "is_instrumental": boolean("No vocals."),
                "lyrics_optimizer": boolean("Let the model write or polish lyrics."),
            },
            ["prompt"],
        ),
        _generate("music"),
    ),
    Tool(
        "generate_3d",
        "Start a 3D asset job (async, charged up front); poll it with get_job.",
        obj(
            {**_JOB_PROPS, "image_url": _IMAGE_URL, "format": string("e.g. 'glb'.")},
            ["prompt"],
        ),
        _generate("3d"),
    ),
    Tool("get_job", "An async job's status and result URL.", _ID, _get_job),
    Tool("cancel_job", "Cancel a queued or running job (refunded).", _ID, _cancel_job),
)

TOOLS: dict[str, Tool] = {t.name: t for t in (*CORE_TOOLS, *MEDIA_TOOLS, *ACCOUNT_TOOLS)}
