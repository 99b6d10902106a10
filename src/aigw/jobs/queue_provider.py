"""Queue-style job providers: submit → request id, poll status, fetch the result file.

Two adapters over one pooled client: fal.ai's queue API (below) and Replicate's predictions
API (``ReplicateQueue``). fal:

    POST {base}/{model}                          → {"request_id": ...}
    GET  {base}/{model}/requests/{id}/status     → {"status": IN_QUEUE|IN_PROGRESS|COMPLETED,
                                                    "error": ...}
    GET  {base}/{model}/requests/{id}            → {"video"|"audio_file"|"model_mesh": {"url"}}
    PUT  {base}/{model}/requests/{id}/cancel

The job id goes along as ``X-Idempotency-Key`` so a submission repeated after a crash (before
the upstream id was saved) is recognised by providers that honour it (the simulator does).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp

from aigw.errors import ProviderNotConfigured, UpstreamError, from_upstream_status


@dataclass(frozen=True, slots=True)
class QueueEndpoint:
    name: str
    base_url_env: str
    default_base_url: str
    api_key_env: str | None
    path: str = ""
    adapter: str = "fal"


ENDPOINTS = {
    "fal": QueueEndpoint("fal", "FAL_BASE_URL", "https://queue.fal.run", "FAL_KEY"),
    "replicate": QueueEndpoint(
        "replicate",
        "REPLICATE_BASE_URL",
        "https://api.replicate.com/v1",
        "REPLICATE_API_TOKEN",
        adapter="replicate",
    ),
    # The simulator's OpenAI base URL (…/v1) serves the queue API under /queue.
    "simulator": QueueEndpoint(
        "simulator", "SIMULATOR_BASE_URL", "http://127.0.0.1:8090/v1", None, "/queue"
    ),
}


@dataclass(frozen=True, slots=True)
class UpstreamStatus:
    state: str  # queued | processing | completed | failed
    error: str | None = None


_STATES = {
    "IN_QUEUE": "queued",
    "IN_PROGRESS": "processing",
    "COMPLETED": "completed",
    "FAILED": "failed",
}
_RESULT_KEYS = ("video", "audio_file", "audio", "model_mesh", "model_glb", "file")


class QueueProvider:
    """fal's queue API; the pooled client is handed in."""

    auth_scheme = "Key"

    def __init__(self, base_url: str, api_key: str | None, session: aiohttp.ClientSession) -> None:
        self.base_url = base_url.rstrip("/")
        self._headers = {"Authorization": f"{self.auth_scheme} {api_key}"} if api_key else {}
        self._session = session

    async def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        url = f"{self.base_url}/{path}"
        try:
            async with self._session.request(
                method, url, headers={**self._headers, **kwargs.pop("headers", {})}, **kwargs
            ) as resp:
                if resp.status >= 400:
                    text = (await resp.text())[:200]
                    raise from_upstream_status(resp.status, f"upstream said {resp.status}: {text}")
                return await resp.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise UpstreamError(f"upstream unreachable: {type(exc).__name__}") from exc

    async def submit(self, model: str, body: Mapping[str, Any], idempotency_key: str) -> str:
        out = await self._call(
            "POST", model, json=dict(body), headers={"X-Idempotency-Key": idempotency_key}
        )
        request_id = out.get("request_id") if isinstance(out, dict) else None
        if not isinstance(request_id, str):
            raise UpstreamError("upstream gave no request_id")
        return request_id

    async def status(self, model: str, request_id: str) -> UpstreamStatus:
        out = await self._call("GET", f"{model}/requests/{request_id}/status")
        state = _STATES.get(str(out.get("status")), "processing")
        error = out.get("error")
        if error:
            return UpstreamStatus("failed", str(error))
        return UpstreamStatus(state)

    async def result(self, model: str, request_id: str) -> tuple[str, dict[str, Any]]:
        """(URL of the produced file, the provider's whole answer)."""
        out = await self._call("GET", f"{model}/requests/{request_id}")
        for key in _RESULT_KEYS:
            item = out.get(key) if isinstance(out, dict) else None
            if isinstance(item, dict) and isinstance(item.get("url"), str):
                return item["url"], out
        raise UpstreamError("upstream result has no file URL")

    async def cancel(self, model: str, request_id: str) -> None:
        await self._call("PUT", f"{model}/requests/{request_id}/cancel")

    async def fetch(self, url: str, limit: int) -> bytes:
        try:
            async with self._session.get(url, headers=self._headers) as resp:
                if resp.status >= 400:
                    raise UpstreamError(f"result download said {resp.status}")
                data = await resp.content.read(limit + 1)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise UpstreamError(f"result download failed: {type(exc).__name__}") from exc
        if len(data) > limit:
            raise UpstreamError("result file is too large")
        return data


class ReplicateQueue(QueueProvider):
    """Replicate's predictions API::

    POST {base}/models/{owner}/{name}/predictions {"input": ...} → {"id", "status"}
    GET  {base}/predictions/{id}   → {"status": starting|processing|succeeded|failed|
                                      canceled, "output": URL | [URL, ...], "error"}
    POST {base}/predictions/{id}/cancel
    """

    auth_scheme = "Bearer"
    _STATES = {
        "starting": "queued",
        "processing": "processing",
        "succeeded": "completed",
        "failed": "failed",
        "canceled": "failed",
    }

    async def submit(self, model: str, body: Mapping[str, Any], idempotency_key: str) -> str:
        out = await self._call(
            "POST",
            f"models/{model}/predictions",
            json={"input": dict(body)},
            headers={"X-Idempotency-Key": idempotency_key},
        )
        prediction_id = out.get("id") if isinstance(out, dict) else None
        if not isinstance(prediction_id, str):
            raise UpstreamError("upstream gave no prediction id")
        return prediction_id

    async def status(self, model: str, request_id: str) -> UpstreamStatus:
        out = await self._call("GET", f"predictions/{request_id}")
        state = self._STATES.get(str(out.get("status")), "processing")
        if state == "failed":
            return UpstreamStatus("failed", str(out.get("error") or "The provider failed."))
        return UpstreamStatus(state)

    async def result(self, model: str, request_id: str) -> tuple[str, dict[str, Any]]:
        out = await self._call("GET", f"predictions/{request_id}")
        output = out.get("output") if isinstance(out, dict) else None
        if isinstance(output, list) and output:
            output = output[0]
        if isinstance(output, dict):
            output = output.get("url")
        if not isinstance(output, str):
            raise UpstreamError("upstream result has no file URL")
        return output, out

    async def cancel(self, model: str, request_id: str) -> None:
        await self._call("POST", f"predictions/{request_id}/cancel")


ADAPTERS: dict[str, type[QueueProvider]] = {"fal": QueueProvider, "replicate": ReplicateQueue}


class QueueProviders:
    """The configured queue providers, built from ``<NAME>_BASE_URL`` / key variables."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ
        self._session: aiohttp.ClientSession | None = None
        self._built: dict[str, QueueProvider] = {}

    def get(self, name: str) -> QueueProvider:
        if name in self._built:
            return self._built[name]
        spec = ENDPOINTS[name]
        key = self._environ.get(spec.api_key_env) if spec.api_key_env else None
        if spec.api_key_env and not key:
            raise ProviderNotConfigured(
                f"Provider {name!r} has no API key: set {spec.api_key_env}."
            )
        if self._session is None:
            timeout = aiohttp.ClientTimeout(total=120, connect=10)
            self._session = aiohttp.ClientSession(timeout=timeout)
        base = (self._environ.get(spec.base_url_env) or spec.default_base_url).rstrip("/")
        base += spec.path
        self._built[name] = ADAPTERS[spec.adapter](base, key, self._session)
        return self._built[name]

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
