"""Runs batches: validate the input file, run each line through the chat or embeddings path
(a few at a time), append each answer to a part file as it lands, then publish the output and error
files. A restart resumes from the part files, so finished lines are not run again."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from aigw.auth.keys import KeyInfo
from aigw.batches import store
from aigw.batches.lines import run_chat_line, run_embeddings_line
from aigw.files import records
from aigw.server.appkeys import DATABASE, FILES
from aigw.store.tables import now_ms

if TYPE_CHECKING:
    from aiohttp import web

    from aigw.webhooks.delivery import Deliverer

log = logging.getLogger("aigw.batches")

CONCURRENCY = 4
MAX_LINES = 50_000
ENDPOINTS = ("/v1/chat/completions", "/v1/embeddings")


class BatchWorker:
    def __init__(self, app: web.Application, deliverer: Deliverer, *, poll_seconds: float) -> None:
        self.app = app
        self.deliverer = deliverer
        self.poll = poll_seconds
        self.lease_ms = int(max(30.0, poll_seconds * 10) * 1000)
        self.worker_id = "bwk_" + secrets.token_hex(8)
        self._running: set[asyncio.Task[None]] = set()
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="aigw-batches")

    async def stop(self) -> None:
        tasks = [t for t in (self._task, *self._running) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await store.release(self.app[DATABASE], self.worker_id)

    def wake(self) -> None:
        self._wake.set()

    async def _run(self) -> None:
        db = self.app[DATABASE]
        while True:
            self._wake.clear()
            try:
                for row in await store.claim(db, self.worker_id, self.lease_ms, 4):
                    task = asyncio.create_task(self._drive(row), name=f"aigw-batch-{row.id}")
                    self._running.add(task)
                    task.add_done_callback(self._running.discard)
            except Exception:
                log.exception("claiming batches failed; retrying")
            with contextlib.suppress(TimeoutError):  # (not wait_for: see jobs/worker.py)
                async with asyncio.timeout(self.poll):
                    await self._wake.wait()

    def _dir(self, batch_id: str) -> Path:
        return self.app[FILES].root / "batches" / batch_id

    async def _drive(self, row: Any) -> None:
        try:
            await self._steps(row)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("batch %s failed in the gateway", row.id)
            error = {"code": "server_error", "message": "The gateway could not run the batch."}
            await store.end(
                self.app[DATABASE],
                row.id,
                self.worker_id,
                "failed",
                errors=orjson.dumps({"object": "list", "data": [error]}).decode(),
            )

    async def _steps(self, row: Any) -> None:
        db = self.app[DATABASE]
        raw = await self.app[FILES].read(self.app[FILES].upload_key(row.input_file_id)) or b""
        lines, errors = parse_lines(raw, row.endpoint)
        if errors:
            await store.end(
                db,
                row.id,
                self.worker_id,
                "failed",
                errors=orjson.dumps({"object": "list", "data": errors}).decode(),
            )
            return
        status: str | None = row.status
        if status == "validating":
            status = await store.renew(
                db,
                row.id,
                self.worker_id,
                self.lease_ms,
                status="in_progress",
                in_progress_at=now_ms(),
                total=len(lines),
            )
        if status is None:
            return
        folder = self._dir(row.id)
        await asyncio.to_thread(folder.mkdir, parents=True, exist_ok=True)
        out, err = folder / "output.jsonl", folder / "errors.jsonl"
        done = _done_ids(out) | _done_ids(err)
        counts = {"completed": len(_done_ids(out)), "failed": len(_done_ids(err))}
        key = KeyInfo(row.key_id or "", row.account_id, "", None, row.sub_account_id)
        todo = [line for line in lines if line["custom_id"] not in done]
        run_line = run_embeddings_line if row.endpoint == "/v1/embeddings" else run_chat_line
        gate = asyncio.Semaphore(CONCURRENCY)
        stop = asyncio.Event()
        if status == "cancelling":
            stop.set()
        deadline = store.deadline_ms(row)
        unrun: list[str] = []

        async def one(line: dict[str, Any]) -> None:
            async with gate:
                if stop.is_set():
                    return
                if now_ms() >= deadline:  # the window is over: no new line starts
                    unrun.append(line["custom_id"])
                    return
                request_id = secrets.token_hex(16)
                status, body = await run_line(self.app, key, line["body"], request_id, row.tag)
                target = out if status == 200 else err
                counts["completed" if status == 200 else "failed"] += 1
                _append(target, _output_line(line["custom_id"], status, request_id, body))
                state = await store.renew(db, row.id, self.worker_id, self.lease_ms, **counts)
                if state != "in_progress":
                    stop.set()  # cancelled, or no longer ours

        await asyncio.gather(*(one(line) for line in todo))
        expired = bool(unrun) and not stop.is_set()
        if expired:
            for custom_id in unrun:
                _append(err, _expired_line(custom_id))
            counts["failed"] += len(unrun)
        await self._finish(row, out, err, counts, expired=expired)

    async def _finish(
        self, row: Any, out: Path, err: Path, counts: dict[str, int], *, expired: bool = False
    ) -> None:
        db = self.app[DATABASE]
        status = await store.renew(
            db, row.id, self.worker_id, self.lease_ms, finalizing_at=now_ms(), **counts
        )
        if status is None:
            return
        ids: dict[str, str | None] = {"output_file_id": None, "error_file_id": None}
        for path, column in ((out, "output_file_id"), (err, "error_file_id")):
            if not path.exists() and column == "error_file_id":
                continue  # OpenAI leaves error_file_id null when no line failed
            data = await asyncio.to_thread(path.read_bytes) if path.exists() else b""
            file_id = records.new_file_id()
            await self.app[FILES].write(self.app[FILES].upload_key(file_id), data)
            label = "output" if column == "output_file_id" else "errors"
            await records.add(
                db, file_id, row.account_id, "batch_output", f"{row.id}_{label}.jsonl", len(data)
            )
            ids[column] = file_id
        final = "cancelled" if status == "cancelling" else "expired" if expired else "completed"
        if await store.end(db, row.id, self.worker_id, final, **ids):
            self.deliverer.wake()


def parse_lines(raw: bytes, endpoint: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The input's lines, or OpenAI-style validation errors (code, message, line)."""
    lines: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    seen: set[str] = set()
    for number, text in enumerate(raw.splitlines(), start=1):
        if not text.strip():
            continue

        def bad(message: str, code: str = "invalid_request", n: int = number) -> None:
            errors.append({"code": code, "message": message, "param": None, "line": n})

        try:
            line = orjson.loads(text)
        except orjson.JSONDecodeError:
            bad("This line is not valid JSON.", "invalid_json_line")
            continue
        if not isinstance(line, dict) or not isinstance(line.get("custom_id"), str):
            bad("Each line needs a string 'custom_id'.", "missing_required_parameter")
            continue
        if line["custom_id"] in seen:
            bad(f"Duplicate custom_id {line['custom_id']!r}.", "duplicate_custom_id")
        seen.add(line["custom_id"])
        if line.get("method") != "POST":
            bad("'method' must be POST.", "invalid_method")
        if line.get("url") != endpoint:
            bad(f"'url' must be the batch's endpoint {endpoint}.", "mismatched_url")
        if not isinstance(line.get("body"), dict):
            bad("'body' must be an object.", "missing_required_parameter")
        lines.append(line)
    if not lines and not errors:
        errors.append({"code": "empty_file", "message": "The input file has no lines."})
    if len(lines) > MAX_LINES:
        errors.append({"code": "too_many_lines", "message": f"At most {MAX_LINES} lines."})
    return lines, errors


def _output_line(custom_id: str, status: int, request_id: str, body: dict[str, Any]) -> bytes:
    """OpenAI's output line, with its Python-style spacing."""
    line = {
        "id": "batch_req_" + secrets.token_hex(16),
        "custom_id": custom_id,
        "response": {"status_code": status, "request_id": request_id, "body": body},
        "error": None,
    }
    return (json.dumps(line) + "\n").encode()


def _expired_line(custom_id: str) -> bytes:
    """OpenAI's error-file line for a request the completion window left unrun."""
    line = {
        "id": "batch_req_" + secrets.token_hex(16),
        "custom_id": custom_id,
        "response": None,
        "error": {
            "code": "batch_expired",
            "message": "This request could not be executed before the completion window expired.",
        },
    }
    return (json.dumps(line) + "\n").encode()


def _append(path: Path, data: bytes) -> None:
    with path.open("ab") as handle:
        handle.write(data)


def _done_ids(path: Path) -> set[str]:
    if not path.exists():
        return set()
    done = set()
    for text in path.read_bytes().splitlines():
        with contextlib.suppress(orjson.JSONDecodeError, TypeError, KeyError):
            done.add(orjson.loads(text)["custom_id"])
    return done
