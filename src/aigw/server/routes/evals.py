"""Evals: ``POST /v1/evals`` (201 with the finished run, or 202 while it runs on),
``GET /v1/evals``, ``GET /v1/evals/{id}``."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import orjson
from aiohttp import web

from aigw.auth.keys import KeyInfo
from aigw.errors import InvalidRequest, NotFound
from aigw.evals import store
from aigw.evals.runner import EVALS, RunSpec
from aigw.evals.scoring import MATCHES, METRICS
from aigw.replays.service import check_model
from aigw.server.appkeys import DATABASE, SETTINGS
from aigw.server.auth import authenticate
from aigw.server.routes.chat import read_tag
from aigw.server.routes.common import json_response, read_object, text_field
from aigw.server.routes.paging import list_page
from aigw.server.routes.replays import _admit
from aigw.store.tables import MODEL_MAX

MAX_ITEMS = 1000
MAX_MODELS = 10
PARAMS = ("max_tokens", "temperature", "top_p", "seed")
FIELDS = (
    "name",
    "metric",
    "candidate_models",
    "dataset",
    "judge_model",
    "match",
    "params",
    "wait",
)


def _models(app: web.Application, value: Any) -> list[str]:
    if (
        not isinstance(value, list)
        or not 1 <= len(value) <= MAX_MODELS
        or not all(isinstance(m, str) and 0 < len(m) <= MODEL_MAX for m in value)
    ):
        raise InvalidRequest(
            f"'candidate_models' must list 1-{MAX_MODELS} model ids.", param="candidate_models"
        )
    if len(set(value)) != len(value):
        raise InvalidRequest("'candidate_models' lists a model twice.", param="candidate_models")
    for model in value:
        check_model(app, model, "candidate_models")
    return list(value)


def _item_ok(item: Any) -> bool:
    if not isinstance(item, dict) or "input" not in item:
        return False
    value = item["input"]
    if isinstance(value, dict):
        value = value.get("messages")
    if isinstance(value, str):
        return bool(value)
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(m, dict) and isinstance(m.get("role"), str) for m in value)
    )


def _dataset(value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_ITEMS:
        raise InvalidRequest(f"'dataset' must hold 1-{MAX_ITEMS} items.", param="dataset")
    for n, item in enumerate(value):
        if not _item_ok(item):
            raise InvalidRequest(
                f"dataset[{n}] needs 'input': a prompt string or a list of chat messages.",
                param="dataset",
            )
        if "match" in item and item["match"] not in MATCHES:
            raise InvalidRequest(
                f"dataset[{n}].match must be one of {', '.join(MATCHES)}.", param="dataset"
            )
    return list(value)


def _params(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict) or any(k not in PARAMS for k in value):
        raise InvalidRequest(f"'params' may set only {', '.join(PARAMS)}.", param="params")
    return dict(value)


async def create_eval(request: web.Request) -> web.Response:
    key = await _admit(request)
    data = await read_object(request, FIELDS)
    found = await start_eval(request.app, key, data, read_tag(request))
    status = 202 if found.status == "running" else 201
    return json_response(store.view(found), status)


async def start_eval(
    app: web.Application, key: KeyInfo, data: dict[str, Any], tag: str | None
) -> Any:
    """Check the fields, store the run and start it; wait up to ``eval_wait_seconds`` when
    ``wait`` (the HTTP route and MCP's ``run_eval`` share this). Returns the stored row."""
    name = text_field(data, "name", max_len=200, required=True)
    metric = data.get("metric", "quality")
    if metric not in METRICS:
        raise InvalidRequest(f"'metric' must be one of {', '.join(METRICS)}.", param="metric")
    match = data.get("match", "normalized")
    if match not in MATCHES:
        raise InvalidRequest(f"'match' must be one of {', '.join(MATCHES)}.", param="match")
    models = _models(app, data.get("candidate_models"))
    dataset = _dataset(data.get("dataset"))
    params = _params(data.get("params"))
    wait = data.get("wait", True)
    if not isinstance(wait, bool):
        raise InvalidRequest("'wait' must be a boolean.", param="wait")
    judge = text_field(data, "judge_model", max_len=MODEL_MAX) or app[SETTINGS].eval_judge_model
    needs_judge = metric == "quality" and any(item.get("expected") is None for item in dataset)
    if needs_judge and judge is None:
        raise InvalidRequest(
            "Quality evals need 'expected' on every item, or a 'judge_model' (or the "
            "eval_judge_model setting) to score the others.",
            param="judge_model",
        )
    if judge is not None:
        check_model(app, judge, "judge_model")
    db = app[DATABASE]
    runner = app[EVALS]
    assert name is not None
    row = await store.create(
        db,
        {
            "account_id": key.account_id,
            "key_id": key.key_id,
            "sub_account_id": key.sub_account_id,
            "name": name,
            "metric": metric,
            "candidate_models": orjson.dumps(models).decode(),
            "judge_model": judge,
            "match": match,
            "total": len(models) * len(dataset),
        },
        dataset,
        60_000,
    )
    spec = RunSpec(row.id, key, tag, metric, models, judge, match, params, dataset)
    task = runner.start(spec)
    if wait:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(app[SETTINGS].eval_wait_seconds):
                await asyncio.shield(task)
    return await store.get(db, row.id)


async def list_evals(request: web.Request) -> web.Response:
    key = await authenticate(request)
    db = request.app[DATABASE]

    async def fetch(after: str | None, limit: int) -> list[Any]:
        return await store.list_for(db, key.account_id, after, limit)

    return await list_page(request, fetch, store.view, default=20)


async def get_eval(request: web.Request) -> web.Response:
    key = await authenticate(request)
    row = await store.get(request.app[DATABASE], request.match_info["id"], key.account_id)
    if row is None:
        raise NotFound("No such eval run.", param="id")
    results = request.query.get("include") == "results"
    return json_response(store.view(row, results=results))


def setup_routes(app: web.Application) -> None:
    app.router.add_post("/v1/evals", create_eval)
    app.router.add_get("/v1/evals", list_evals)
    app.router.add_get("/v1/evals/{id}", get_eval)
