"""The tools MCP clients see: each is a JSON Schema and a coroutine that runs it through the
same code as the HTTP API (chat through the chat path, jobs through ``submit_job``)."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from aigw.auth.keys import KeyInfo
from aigw.batches.lines import run_chat_line
from aigw.catalog.models import Model
from aigw.errors import InvalidRequest, NotFound
from aigw.jobs import store as jobs
from aigw.jobs.models import from_model
from aigw.server.appkeys import BILLING, CATALOG, DATABASE, LIMITS
from aigw.server.routes.jobs import cancel, submit_job

Run = Callable[[web.Application, KeyInfo, dict[str, Any], str], Awaitable[Any]]


@dataclass(frozen=True, slots=True)
class Tool:
    name: str
    description: str
    schema: dict[str, Any]
    run: Run

    def listing(self) -> dict[str, Any]:
        return {"name": self.name, "description": self.description, "inputSchema": self.schema}


def _obj(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": required}


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


async def _chat(app: web.Application, key: KeyInfo, args: dict[str, Any], _: str) -> Any:
    await app[LIMITS].acquire(app[LIMITS].for_key(key, app[BILLING].sub_rpm(key)))
    messages = args.get("messages")
    if messages is None and isinstance(args.get("prompt"), str):
        messages = [{"role": "user", "content": args["prompt"]}]
    body = {"model": args.get("model"), "messages": messages}
    for name in ("max_tokens", "temperature"):
        if name in args:
            body[name] = args[name]
    status, answer = await run_chat_line(
        app, key, body, secrets.token_hex(16), None, discount=False, endpoint="mcp"
    )
    if status != 200:
        raise InvalidRequest(str(answer.get("error", {}).get("message", "chat failed")))
    return {
        "model": answer.get("model"),
        "content": answer["choices"][0]["message"].get("content"),
        "usage": answer.get("usage"),
    }


async def _list_models(app: web.Application, _: KeyInfo, args: dict[str, Any], __: str) -> Any:
    found = [
        _model_view(m) for m in app[CATALOG].filter(args.get("modality"), args.get("provider"))
    ]
    return found[: int(args.get("limit", 100))]


async def _search_models(app: web.Application, _: KeyInfo, args: dict[str, Any], __: str) -> Any:
    query = str(args.get("query", "")).lower()
    if not query:
        raise InvalidRequest("'query' is required.", param="query")
    hits = [
        _model_view(m)
        for m in app[CATALOG]
        if query in m.id.lower() or query in m.name.lower() or query in m.description.lower()
    ]
    return hits[: int(args.get("limit", 20))]


def _generate(modality: str) -> Run:
    async def run(app: web.Application, key: KeyInfo, args: dict[str, Any], base: str) -> Any:
        job = await submit_job(app, key, modality, dict(args), None, base)
        return job.view()

    return run


async def _get_job(app: web.Application, key: KeyInfo, args: dict[str, Any], _: str) -> Any:
    job = await jobs.get(app[DATABASE], str(args.get("id")), key.account_id)
    if job is None:
        raise NotFound("No such job.", param="id")
    return job.view()


async def _cancel_job(app: web.Application, key: KeyInfo, args: dict[str, Any], _: str) -> Any:
    return (await cancel(app, key.account_id, str(args.get("id")))).view()


_JOB_PROPS: dict[str, Any] = {
    "prompt": {"type": "string"},
    "model": {"type": "string"},
    "duration": {"type": "number", "description": "seconds"},
    "webhook_url": {"type": "string"},
}
_ID = _obj({"id": {"type": "string"}}, ["id"])

TOOLS: dict[str, Tool] = {
    t.name: t
    for t in (
        Tool(
            "chat",
            "Chat completion with any catalog model; give 'messages' (OpenAI format) or "
            "'prompt'. Billed like /v1/chat/completions.",
            _obj(
                {
                    "model": {"type": "string"},
                    "messages": {"type": "array", "items": {"type": "object"}},
                    "prompt": {"type": "string"},
                    "max_tokens": {"type": "integer"},
                    "temperature": {"type": "number"},
                },
                ["model"],
            ),
            _chat,
        ),
        Tool(
            "list_models",
            "Models with prices, optionally one modality (text, image, embedding, video, "
            "music, 3d ...) or provider.",
            _obj(
                {
                    "modality": {"type": "string"},
                    "provider": {"type": "string"},
                    "limit": {"type": "integer"},
                },
                [],
            ),
            _list_models,
        ),
        Tool(
            "search_models",
            "Models whose id, name or description contains the query.",
            _obj({"query": {"type": "string"}, "limit": {"type": "integer"}}, ["query"]),
            _search_models,
        ),
        Tool(
            "generate_video",
            "Start a video job (async); poll it with get_job.",
            _obj({**_JOB_PROPS, "aspect_ratio": {"type": "string"}}, ["prompt"]),
            _generate("video"),
        ),
        Tool(
            "generate_music",
            "Start a music job (async); poll it with get_job.",
            _obj(
                {
                    **_JOB_PROPS,
                    "lyrics": {"type": "string"},
                    "is_instrumental": {"type": "boolean"},
                },
                ["prompt"],
            ),
            _generate("music"),
        ),
        Tool(
            "generate_3d",
            "Start a 3D asset job (async); poll it with get_job.",
            _obj({k: v for k, v in _JOB_PROPS.items() if k != "duration"}, ["prompt"]),
            _generate("3d"),
        ),
        Tool("get_job", "An async job's status and result URL.", _ID, _get_job),
        Tool("cancel_job", "Cancel a queued or running job (refunded).", _ID, _cancel_job),
    )
}
