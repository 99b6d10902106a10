"""The catalog API over a real socket: aiohttp client and the official OpenAI SDK."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import openai
from aiohttp import web

from aigw.catalog import CAPABILITIES, builtin_catalog
from aigw.server.appkeys import CATALOG
from aigw.server.middleware import gateway_middleware
from aigw.server.routes.models import setup_routes

Get = Callable[[str], Awaitable[tuple[int, Any]]]


@asynccontextmanager
async def serve() -> AsyncIterator[tuple[str, Get]]:
    app = web.Application(middlewares=[gateway_middleware])
    app[CATALOG] = builtin_catalog()
    setup_routes(app)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    base = f"http://{host}:{port}"
    try:
        async with aiohttp.ClientSession() as session:

            async def get(path: str) -> tuple[int, Any]:
                async with session.get(base + path) as resp:
                    assert resp.content_type == "application/json"
                    return resp.status, await resp.json()

            yield base, get
    finally:
        await runner.cleanup()


def run(test: Callable[[str, Get], Awaitable[None]]) -> None:
    async def main() -> None:
        async with serve() as (base, get):
            await test(base, get)

    asyncio.run(main())


def test_list_models() -> None:
    async def check(base: str, get: Get) -> None:
        status, body = await get("/v1/models")
        assert status == 200 and body["object"] == "list"
        assert len(body["data"]) == len(builtin_catalog())
        grok = next(e for e in body["data"] if e["id"] == "xai/grok-4.3")
        assert grok["object"] == "model"
        assert grok["owned_by"] == "xai"
        assert grok["created"] == 1779408000  # 2026-05-22T00:00:00Z
        assert (grok["name"], grok["family"], grok["modality"]) == ("Grok 4.3", "Grok 4", "text")
        assert grok["input_modalities"] == ["text", "image"]
        assert (grok["context_window"], grok["max_output_tokens"]) == (1_000_000, 4096)
        assert grok["pricing"] == {
            "currency": "USD",
            "unit": "per_1m_tokens",
            "input": 1.25,
            "output": 2.5,
            "cached_input": 0.2,
            "reasoning": None,
            "tiers": [{"above_tokens": 200_000, "input": 2.5, "output": 5.0, "cached_input": 0.4}],
        }
        assert grok["capabilities"] == [
            "streaming",
            "tools",
            "vision",
            "structured_outputs",
            "reasoning",
        ]
        assert grok["capability_flags"]["tools"] is True
        assert grok["capability_flags"]["json_mode"] is False
        assert grok["reasoning_efforts"] == ["none", "low", "medium", "high"]
        assert grok["released"] == "2026-05-22"
        assert grok["strengths"] == ["General-purpose chat", "Long context", "Tool use"]
        assert grok["use_cases"] == ["Chatbots", "Content generation", "Agentic workflows"]
        assert "schema" not in grok
        undated = next(e for e in body["data"] if e["released"] is None)
        assert undated["created"] == 0

    run(check)


def test_filters() -> None:
    async def check(base: str, get: Get) -> None:
        status, body = await get("/v1/models?modality=embedding")
        assert status == 200 and body["data"]
        assert {e["modality"] for e in body["data"]} == {"embedding"}
        status, body = await get("/v1/models?provider=xai&modality=text")
        ids = [e["id"] for e in body["data"]]
        assert "xai/grok-4.3" in ids and all(i.startswith("xai/") for i in ids)
        status, body = await get("/v1/models?provider=nope")
        assert (status, body) == (200, {"object": "list", "data": []})
        status, body = await get("/v1/models?modality=smell")
        assert status == 400
        assert body["error"]["type"] == "invalid_request_error"
        assert body["error"]["code"] == 400 and body["error"]["param"] == "modality"

    run(check)


def test_get_model_with_schema() -> None:
    async def check(base: str, get: Get) -> None:
        status, body = await get("/v1/models/xai/grok-4.3")
        assert status == 200
        assert body["id"] == "xai/grok-4.3" and body["pricing"]["input"] == 1.25
        schema = body["schema"]
        assert schema["endpoint"] == f"POST {base}/v1/chat/completions"
        assert schema["request"]["model"] == "xai/grok-4.3"
        assert schema["stream"][-1] == "data: [DONE]"
        assert "Accepts reasoning_effort: none, low, medium, high." in schema["quirks"]
        assert set(schema["snippets"]) == {"curl", "python", "typescript"}
        status, only = await get("/v1/models/xai/grok-4.3/schema")
        assert status == 200 and only == schema

    run(check)


def test_ids_with_several_slashes() -> None:
    async def check(base: str, get: Get) -> None:
        mid = "together/meta-llama/Llama-3.3-70B-Instruct-Turbo"
        status, body = await get(f"/v1/models/{mid}")
        assert status == 200 and body["id"] == mid
        status, schema = await get(f"/v1/models/{mid}/schema")
        assert status == 200 and schema["request"]["model"] == mid

    run(check)


def test_unknown_model_is_404() -> None:
    async def check(base: str, get: Get) -> None:
        for path in ("/v1/models/xai/nope", "/v1/models/xai/nope/schema", "/v1/models/nope"):
            status, body = await get(path)
            assert status == 404, path
            assert body["error"]["type"] == "model_not_found"
            assert body["error"]["param"] == "id" and body["error"]["code"] == 404
            assert "xai/nope" in body["error"]["message"] or path == "/v1/models/nope"

    run(check)


def test_capabilities() -> None:
    async def check(base: str, get: Get) -> None:
        status, body = await get("/v1/capabilities")
        assert status == 200 and body["object"] == "list"
        assert [c["id"] for c in body["data"]] == [c.id for c in CAPABILITIES]
        streaming = body["data"][0]
        assert streaming["id"] == "streaming"
        assert streaming["endpoint"] == "/v1/chat/completions" and streaming["description"]
        embeddings = next(c for c in body["data"] if c["id"] == "embeddings")
        assert embeddings["endpoint"] == "/v1/embeddings"

    run(check)


def test_openai_sdk_lists_models() -> None:
    async def check(base: str, get: Get) -> None:
        async with openai.AsyncOpenAI(base_url=base + "/v1", api_key="unused") as client:
            page = await client.models.list()
            ids = [m.id for m in page.data]
            assert "xai/grok-4.3" in ids and len(ids) == len(builtin_catalog())
            grok = next(m for m in page.data if m.id == "xai/grok-4.3")
            assert grok.owned_by == "xai" and grok.created == 1779408000

    run(check)
