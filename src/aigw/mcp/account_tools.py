"""MCP tools over the account: ``replay`` and evals (``run_eval``, ``get_eval``), which run
their chat calls through the chat path like ``POST /v1/replays`` and ``POST /v1/evals``, and
the reports ``get_balance`` and ``get_usage`` (``/v1/balance``, ``/v1/usage/*``)."""

from __future__ import annotations

from typing import Any

from aigw.evals import store as evals
from aigw.evals.scoring import MATCHES, METRICS
from aigw.mcp.base import Ctx, Tool, ToolFailed, boolean, integer, number, obj, string
from aigw.replays import store as replays
from aigw.replays.hooks import REPLAYS
from aigw.replays.service import CallRefused, replay
from aigw.server.appkeys import BILLING, DATABASE, LIMITS, REQUEST_LOG
from aigw.server.routes.cache import clear_for
from aigw.server.routes.common import check_month
from aigw.server.routes.evals import MAX_ITEMS, MAX_MODELS, start_eval
from aigw.server.routes.usage import balance_body, recent_requests, tag_totals
from aigw.store.tables import MODEL_MAX


async def _admit(ctx: Ctx) -> None:
    """Counted against the key's request rate, like the HTTP routes that start calls."""
    limits = ctx.app[LIMITS]
    await limits.acquire(limits.for_key(ctx.key, ctx.app[BILLING].sub_rpm(ctx.key)))


async def _replay(ctx: Ctx, args: dict[str, Any]) -> Any:
    await _admit(ctx)
    state = ctx.app[REPLAYS]
    try:
        row = await replay(
            ctx.app,
            ctx.key,
            args["source_request_id"],
            args["target_model"],
            shadow=args.get("shadow", False),
            tasks=state.mirror.tasks,
        )
    except CallRefused as refused:
        raise ToolFailed(refused.result.body) from None
    return replays.view(row)


async def _run_eval(ctx: Ctx, args: dict[str, Any]) -> Any:
    await _admit(ctx)
    return evals.view(await start_eval(ctx.app, ctx.key, dict(args), ctx.tag))


async def _get_eval(ctx: Ctx, args: dict[str, Any]) -> Any:
    row = await evals.get(ctx.app[DATABASE], args["id"], ctx.key.account_id)
    if row is None:
        raise ToolFailed(
            {"error": {"message": "No such eval run.", "type": "not_found", "code": 404,
                       "param": "id"}}
        )  # fmt: skip
    return evals.view(row, results=args.get("include_results", False))


async def _get_balance(ctx: Ctx, _: dict[str, Any]) -> Any:
    return await balance_body(ctx.app, ctx.key)


async def _clear_cache(ctx: Ctx, _: dict[str, Any]) -> Any:
    return await clear_for(ctx.app, ctx.key.account_id)


async def _get_usage(ctx: Ctx, args: dict[str, Any]) -> Any:
    """The latest requests (this process's unwritten log rows first flushed, so a call just
    made shows) and the month's totals per tag."""
    month = check_month(args.get("month"))
    await ctx.app[REQUEST_LOG].flush()
    recent = await recent_requests(ctx.app, ctx.key, args.get("limit", 20))
    return {
        "object": "usage",
        "month": month,
        "by_tag": await tag_totals(ctx.app, ctx.key, month),
        "recent": recent,
    }


_MODEL = {"type": "string", "minLength": 1, "maxLength": MODEL_MAX}
_ITEM = {
    "type": "object",
    "description": "{input: prompt string or chat messages, expected?: the right answer, "
    "match?: how to compare}.",
}

ACCOUNT_TOOLS = (
    Tool(
        "replay",
        "Re-run a past chat request of this account (its request id) on another model, "
        "billed like /v1/chat/completions; returns the Replay record (outputs, costs, "
        "latencies, score_delta). shadow=true answers at once with a pending record.",
        obj(
            {
                "source_request_id": string(
                    "The X-Request-Id (or chat tool 'id') of the request.",
                    minLength=1,
                    maxLength=128,
                ),
                "target_model": {**_MODEL, "description": "The model to run it on."},
                "shadow": boolean("Run in the background; poll GET /v1/replays/{id}."),
            },
            ["source_request_id", "target_model"],
        ),
        _replay,
    ),
    Tool(
        "run_eval",
        "Score candidate models on a dataset (POST /v1/evals): returns the EvalRun, "
        "'running' if it outlasts the wait (poll get_eval).",
        obj(
            {
                "name": string("A name for the run.", minLength=1, maxLength=200),
                "candidate_models": {
                    "type": "array",
                    "items": _MODEL,
                    "minItems": 1,
                    "maxItems": MAX_MODELS,
                    "description": "The models to compare.",
                },
                "dataset": {
                    "type": "array",
                    "items": _ITEM,
                    "minItems": 1,
                    "maxItems": MAX_ITEMS,
                    "description": "The items to run.",
                },
                "metric": string("What decides the winner.", enum=list(METRICS)),
                "match": string("How answers meet 'expected'.", enum=list(MATCHES)),
                "judge_model": {**_MODEL, "description": "Scores items without 'expected'."},
                "params": {
                    "type": "object",
                    "description": "max_tokens, temperature, top_p, seed for every call.",
                    "properties": {
                        "max_tokens": integer("Most tokens per answer.", minimum=1),
                        "temperature": number("Sampling temperature.", minimum=0),
                        "top_p": number("Nucleus sampling.", minimum=0, maximum=1),
                        "seed": integer("Seed."),
                    },
                },
                "wait": boolean("Wait (up to eval_wait_seconds) for it to finish; default true."),
            },
            ["name", "candidate_models", "dataset"],
        ),
        _run_eval,
    ),
    Tool(
        "get_eval",
        "An eval run's status, scores and winner.",
        obj(
            {
                "id": string("The eval run id (eval_...).", minLength=1),
                "include_results": boolean("Also each item's answers and scores."),
            },
            ["id"],
        ),
        _get_eval,
    ),
    Tool(
        "get_balance",
        "The wallet (balance, reserved, available, spent today / this month) of this key's "
        "account, or its sub-account's cap and spend.",
        obj({}, []),
        _get_balance,
    ),
    Tool(
        "get_usage",
        "Recent requests (model, tokens, cost, latency) and the month's spend per tag.",
        obj(
            {
                "limit": integer("How many recent requests.", minimum=1, maximum=1000),
                "month": string("YYYY-MM (UTC); this month by default."),
            },
            [],
        ),
        _get_usage,
    ),
    Tool(
        "clear_cache",
        "Flush this account's cached answers (exact and semantic), like DELETE /v1/cache.",
        obj({}, []),
        _clear_cache,
    ),
)
