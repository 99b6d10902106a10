"""``POST /mcp`` driven by the official ``mcp`` SDK's Streamable HTTP client, with the same
bearer key as the HTTP API."""

from __future__ import annotations

import time
from typing import Any

import httpx2
import orjson
import pytest
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from tests.harness import http
from tests.jobs.conftest import JobStack


async def _session_calls(stack: JobStack, calls: list[tuple[str, dict[str, Any]]]) -> Any:
    client = create_mcp_http_client(headers={"Authorization": f"Bearer {stack.key}"})
    async with client, streamable_http_client(stack.url + "/mcp", http_client=client) as streams:
        read, write = streams[0], streams[1]
        async with ClientSession(read, write) as session:
            init = await session.initialize()
            tools = await session.list_tools()
            results = [await session.call_tool(name, args) for name, args in calls]
            return init, tools, results


def _payload(result: Any) -> Any:
    return orjson.loads(result.content[0].text)


async def test_mcp_sdk_lists_and_calls_tools(jobstack: JobStack) -> None:
    init, tools, results = await _session_calls(
        jobstack,
        [
            ("list_models", {"modality": "video"}),
            ("search_models", {"query": "grok-4.3"}),
            ("chat", {"model": "xai/grok-4.3", "prompt": "hello", "max_tokens": 10}),
            ("generate_music", {"prompt": "a jingle", "model": "simulator/music", "duration": 5}),
            ("chat", {"model": "nope/none", "prompt": "x"}),
        ],
    )
    assert init.server_info.name == "aigw"
    names = {t.name for t in tools.tools}
    assert {"chat", "list_models", "search_models", "generate_video", "generate_music"} <= names
    assert {"generate_3d", "get_job", "cancel_job"} <= names
    videos, found, chat, job, failed = results
    assert {m["id"] for m in _payload(videos)} >= {"simulator/video", "fal/kling-video-v2.1"}
    assert any(m["id"] == "xai/grok-4.3" for m in _payload(found))
    answer = _payload(chat)
    assert not chat.is_error and answer["content"] and answer["usage"]["cost"] > 0
    assert _payload(job)["status"] == "queued"
    assert failed.is_error and "model" in failed.content[0].text
    job_id = _payload(job)["id"]
    deadline = time.monotonic() + 10
    while True:
        _, _, (polled,) = await _session_calls(jobstack, [("get_job", {"id": job_id})])
        if _payload(polled)["status"] == "completed" or time.monotonic() > deadline:
            break
    assert _payload(polled)["status"] == "completed"


async def test_mcp_needs_the_key(jobstack: JobStack) -> None:
    client = create_mcp_http_client()
    with pytest.raises(Exception):  # noqa: B017 - the SDK wraps the 401 in its own errors
        async with client, streamable_http_client(jobstack.url + "/mcp", http_client=client) as s:
            async with ClientSession(s[0], s[1]) as session:
                await session.initialize()
    assert isinstance(client, httpx2.AsyncClient)


def test_mcp_raw_json_rpc(jobstack: JobStack) -> None:
    headers = {"Authorization": f"Bearer {jobstack.key}", "Content-Type": "application/json"}
    url = jobstack.url + "/mcp"
    status, _, body = http("POST", url, data=b"{nope", headers=headers)
    assert status == 400 and orjson.loads(body)["error"]["code"] == -32700
    msg = {"jsonrpc": "2.0", "id": 1, "method": "nope"}
    status, _, body = http("POST", url, json=msg, headers=headers)
    assert status == 200 and orjson.loads(body)["error"]["code"] == -32601
    note = {"jsonrpc": "2.0", "method": "notifications/initialized"}
    assert http("POST", url, json=note, headers=headers)[0] == 202
    for method in ("GET", "DELETE"):  # no server stream, no sessions: the router's 405
        status, answer_headers, body = http(method, url, headers=headers)
        assert status == 405 and answer_headers["Allow"] == "POST", method
        assert orjson.loads(body)["error"]["code"] == 405
