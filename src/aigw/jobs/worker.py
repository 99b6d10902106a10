"""The job worker: claims live jobs (one worker per job, by lease), submits them upstream,
polls until they end, stores the result file, refunds failures, and queues the webhook.

Restart-safe: the upstream request id is saved before anything else happens, so a resumed job
is polled, not submitted again; a lease that expires (its process died) lets another worker
take the job over. A clean stop hands its jobs back at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import mimetypes
import secrets
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from aigw.errors import GatewayError, ModelNotFound
from aigw.jobs import store
from aigw.jobs.models import find
from aigw.jobs.queue_provider import QueueProviders
from aigw.jobs.store import Job

if TYPE_CHECKING:
    from aigw.billing.service import Billing
    from aigw.catalog.loader import Catalog
    from aigw.files.store import FileStore
    from aigw.store.db import Database
    from aigw.webhooks.delivery import Deliverer

log = logging.getLogger("aigw.jobs")

MAX_RESULT_BYTES = 512 * 1024 * 1024
MAX_CONCURRENT = 32
_EXT = {"video": ".mp4", "music": ".mp3", "3d": ".glb"}


class JobWorker:
    def __init__(
        self,
        db: Database,
        providers: QueueProviders,
        files: FileStore,
        billing: Billing,
        deliverer: Deliverer,
        *,
        poll_seconds: float,
        catalog: Catalog,
    ) -> None:
        self.db = db
        self.catalog = catalog
        self.providers = providers
        self.files = files
        self.billing = billing
        self.deliverer = deliverer
        self.poll = poll_seconds
        self.lease_ms = int(max(30.0, poll_seconds * 10) * 1000)
        self.worker_id = "wrk_" + secrets.token_hex(8)
        self._running: dict[str, asyncio.Task[None]] = {}
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="aigw-jobs")

    async def stop(self) -> None:
        tasks = [t for t in (self._task, *self._running.values()) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await store.release(self.db, self.worker_id)

    def wake(self) -> None:
        self._wake.set()

    def _forget(self, task: asyncio.Task[None]) -> None:
        for job_id, running in list(self._running.items()):
            if running is task:
                del self._running[job_id]

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            room = MAX_CONCURRENT - len(self._running)
            if room > 0:
                try:
                    for job in await store.claim(self.db, self.worker_id, self.lease_ms, room):
                        task = asyncio.create_task(self._drive(job), name=f"aigw-job-{job.id}")
                        self._running[job.id] = task
                        task.add_done_callback(self._forget)
                except Exception:
                    log.exception("claiming jobs failed; retrying")
            # Not ``asyncio.wait_for``: on Python 3.11 it returns the inner result, swallowing
            # a cancellation that arrives in the same loop turn as a wake-up, and ``stop``
            # then waited for this loop forever (seen as a hang at shutdown under load).
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.poll):
                    await self._wake.wait()

    async def _drive(self, job: Job) -> None:
        try:
            await self._steps(job)
        except asyncio.CancelledError:
            raise
        except GatewayError as err:
            await self._end(job, "failed", error=err.message)
        except Exception:
            log.exception("job %s failed in the gateway", job.id)
            await self._end(job, "failed", error="The gateway could not complete the job.")

    async def _steps(self, job: Job) -> None:
        model = find(self.catalog, job.model)
        if model is None:  # the operator removed it from the catalog since
            raise ModelNotFound(f"Model {job.model!r} is no longer in the catalog.")
        provider = self.providers.get(model.provider)
        upstream_id = job.upstream_id
        if upstream_id is None:
            body = {k: v for k, v in job.request.items() if k not in ("model", "webhook_url")}
            upstream_id = await provider.submit(model.upstream_id, body, job.id)
            saved = await store.renew(
                self.db,
                job.id,
                self.worker_id,
                self.lease_ms,
                upstream_id=upstream_id,
                status="processing",
            )
            if not saved:  # cancelled while we submitted
                await provider.cancel(model.upstream_id, upstream_id)
                return
        while True:
            state = await provider.status(model.upstream_id, upstream_id)
            if state.state == "failed":
                await self._end(job, "failed", error=state.error or "The provider failed.")
                return
            if state.state == "completed":
                url, answer = await provider.result(model.upstream_id, upstream_id)
                data = await provider.fetch(url, MAX_RESULT_BYTES)
                name = _filename(url, job.modality)
                await self.files.write(self.files.job_key(job.id, name), data)
                result = {"bytes": len(data), "content_type": _content_type(name)}
                if isinstance(answer.get("seed"), int):
                    result["seed"] = answer["seed"]
                await self._end(job, "completed", result=result, result_file=name)
                return
            await asyncio.sleep(self.poll)
            if not await store.renew(self.db, job.id, self.worker_id, self.lease_ms):
                with contextlib.suppress(GatewayError):  # cancelled: stop the upstream too
                    await provider.cancel(model.upstream_id, upstream_id)
                return

    async def _end(
        self,
        job: Job,
        status: str,
        *,
        result: dict[str, object] | None = None,
        result_file: str | None = None,
        error: str | None = None,
    ) -> None:
        ended, state, queued = await store.finish(
            self.db,
            job,
            status,
            worker=self.worker_id,
            result=result,
            result_file=result_file,
            error=error,
        )
        if state is not None and ended is not None:
            await self.billing.credited(state, store.refund_of(ended))
        if queued:
            self.deliverer.wake()
        if ended is not None:
            log.info("job %s %s", job.id, status)


def _filename(url: str, modality: str) -> str:
    """``output.<ext>`` from the upstream file name's extension, else the modality's."""
    last = urlsplit(url).path.rsplit("/", 1)[-1]
    suffix = "." + last.rsplit(".", 1)[-1].lower() if "." in last else ""
    if not (2 <= len(suffix) <= 6 and suffix[1:].isalnum()):
        suffix = _EXT.get(modality, ".bin")
    return "output" + suffix


def _content_type(name: str) -> str:
    return mimetypes.guess_type(name)[0] or "application/octet-stream"
