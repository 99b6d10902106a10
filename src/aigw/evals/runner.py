"""Runs eval runs: every candidate on every item, a few calls at a time, each billed to the
account like a chat completion; then scores, the summary and the winner.

Progress and a lease are saved every second. A run is not resumed after a restart: when the
process stops (cleanly or not) its runs end as failed — at once on a clean stop, after the
lease runs out otherwise (``store.fail_stale``, checked at start and by the pruner).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import web

from aigw.errors import ModelNotFound
from aigw.evals import scoring, store
from aigw.evals.scoring import ItemResult
from aigw.replays.runner import run_chat
from aigw.routing.eval_alias import RunInfo
from aigw.routing.resolve import resolve_model
from aigw.server.appkeys import ROUTER, SETTINGS

if TYPE_CHECKING:
    from aigw.auth.keys import KeyInfo
    from aigw.routing.eval_alias import EvalAliases
    from aigw.store.db import Database

log = logging.getLogger("aigw.evals")
LEASE_MS = 30_000
SAVE_SECONDS = 1.0


@dataclass(frozen=True, slots=True)
class RunSpec:
    id: str
    key: KeyInfo
    tag: str | None
    metric: str
    models: list[str]
    judge_model: str | None
    match: str
    params: dict[str, Any]
    dataset: list[dict[str, Any]]


def messages_of(item: dict[str, Any]) -> list[dict[str, Any]]:
    value = item["input"]
    if isinstance(value, str):
        return [{"role": "user", "content": value}]
    if isinstance(value, dict):
        value = value["messages"]
    return list(value)


def question_of(messages: list[dict[str, Any]]) -> str:
    for message in reversed(messages):
        if message.get("role") == "user" and isinstance(message.get("content"), str):
            return str(message["content"])
    return ""


@dataclass
class EvalRunner:
    """The process's eval runs in flight (``EVALS`` on the app)."""

    app: web.Application
    db: Database
    aliases: EvalAliases
    concurrency: int
    tasks: dict[str, asyncio.Task[None]] = field(default_factory=dict)

    def start(self, spec: RunSpec) -> asyncio.Task[None]:
        task = asyncio.create_task(self._run(spec), name=f"aigw-eval-{spec.id}")
        self.tasks[spec.id] = task
        task.add_done_callback(lambda _t: self.tasks.pop(spec.id, None))
        return task

    async def stop(self) -> None:
        running = dict(self.tasks)
        for task in running.values():
            task.cancel()
        for run_id, task in running.items():
            with contextlib.suppress(asyncio.CancelledError):
                await task
            with contextlib.suppress(Exception):
                await store.finish(self.db, run_id, "failed", error=store.INTERRUPTED)

    async def _run(self, spec: RunSpec) -> None:
        try:
            await self._steps(spec)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("eval %s failed in the gateway", spec.id)
            await store.finish(self.db, spec.id, "failed", error="The gateway could not run it.")
            self.aliases.remember(spec.id, RunInfo(spec.key.account_id, "failed", None))

    async def _steps(self, spec: RunSpec) -> None:
        gate = asyncio.Semaphore(max(1, self.concurrency))
        done = [0]

        async def one(model: str, index: int, item: dict[str, Any]) -> ItemResult:
            async with gate:
                try:
                    return await self._item(spec, model, index, item)
                finally:
                    done[0] += 1

        work = [
            one(model, index, item)
            for index, item in enumerate(spec.dataset)
            for model in spec.models
        ]
        saver = asyncio.create_task(self._save_progress(spec.id, done))
        try:
            results = list(await asyncio.gather(*work))
        finally:
            saver.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await saver
        summary = scoring.summarize(spec.models, results)
        best = scoring.winner(spec.metric, spec.models, summary)
        status = "completed" if best is not None else "failed"
        await store.finish(
            self.db,
            spec.id,
            status,
            done=done[0],
            winner_model=best,
            summary={m: s.view() for m, s in summary.items()},
            results=[r.view() for r in results],
            error=None if best is not None else "Every candidate call failed.",
        )
        self.aliases.remember(spec.id, RunInfo(spec.key.account_id, status, best))
        if spec.metric == "quality" and self.app[SETTINGS].auto_priors_from_evals:
            self._teach_auto_router(summary)

    def _teach_auto_router(self, summary: dict[str, scoring.ModelSummary]) -> None:
        """A quality eval's mean scores become evidence for the auto-router's quality priors
        (routing/priors.py), weighted by how many items each model was scored on."""
        router = self.app[ROUTER]
        for name, result in summary.items():
            scored = result.items - result.errors
            if result.score is None or scored <= 0:
                continue
            try:
                model = resolve_model(router.catalog, name)
            except ModelNotFound:
                continue
            prior = router.auto.priors.update(model.id, result.score, weight=scored)
            log.info("auto-router prior of %s is now %.3f (eval)", model.id, prior)

    async def _save_progress(self, run_id: str, done: list[int]) -> None:
        while True:
            await asyncio.sleep(SAVE_SECONDS)
            try:
                await store.progress(self.db, run_id, done[0], LEASE_MS)
            except Exception as exc:
                log.warning("eval %s: saving progress failed (%s)", run_id, exc)

    async def _item(
        self, spec: RunSpec, model: str, index: int, item: dict[str, Any]
    ) -> ItemResult:
        messages = messages_of(item)
        body = {**spec.params, "model": model, "messages": messages}
        run = await run_chat(self.app, spec.key, body, tag=spec.tag, endpoint="eval")
        result = ItemResult(
            model=model,
            index=index,
            ok=run.ok,
            output=run.text,
            score=None,
            cost=run.cost,
            judge_cost=0,
            latency_ms=run.latency_ms,
            error=run.error,
            request_id=run.request_id,
        )
        if not run.ok:
            result.score = 0.0 if spec.metric == "quality" or "expected" in item else None
            return result
        answer = run.text or ""
        if "expected" in item and item["expected"] is not None:
            mode = scoring.match_mode(item["expected"], item.get("match"), spec.match)
            result.score = 1.0 if scoring.matches(answer, item["expected"], mode) else 0.0
        elif spec.metric == "quality" and spec.judge_model is not None:
            verdict = await run_chat(
                self.app,
                spec.key,
                {
                    "model": spec.judge_model,
                    "messages": scoring.judge_messages(question_of(messages), answer),
                    "max_tokens": 16,
                    "temperature": 0,
                },
                tag=spec.tag,
                endpoint="eval",
            )
            result.judge_cost = verdict.cost
            result.score = scoring.parse_judge(verdict.text or "") if verdict.ok else None
            if result.score is None:
                result.error = "The judge gave no 0-10 score." if verdict.ok else verdict.error
        return result


EVALS: web.AppKey[EvalRunner] = web.AppKey("evals")
