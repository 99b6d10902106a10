"""The legacy HTTP+SSE transport (``GET /mcp/sse`` + ``POST /mcp/message``): the official
``mcp`` SDK's ``sse_client`` over real sockets against the simulator, then the transport's
rules over raw HTTP (keys, unknown sessions, keep-alives, bounds, idle end, disconnects)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest
from mcp.client.session import ClientSession
from mcp.client.sse import sse_client

from aigw.mcp.tools import TOOLS
from aigw.server.routes.mcp_sse import SESSIONS
from aigw.simulator import SimulatorThread
from tests.mcp.conftest import charge, payload
from tests.server.conftest import Stack, start_stack

MAX_SESSIONS, IDLE, KEEPALIVE = 3, 2.0, 0.2


@pytest.fixture(scope="module")
def sse_stack(
    sim_server: SimulatorThread, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    path: Path = tmp_path_factory.mktemp("mcp-sse") / "aigw.db"
    yield from start_stack(
        f"sqlite:///{path}",
        sim_server,
        mcp_sse_max_sessions=MAX_SESSIONS,
        mcp_sse_idle_seconds=IDLE,
        mcp_sse_keepalive_seconds=KEEPALIVE,
    )


@pytest.fixture(scope="module")
def other_key(sse_stack: Stack) -> str:
    """A valid key of another account: it must not reach this account's sessions."""
    status, _ = sse_stack.admin("POST", "/admin/accounts", {"name": "other"})
    assert status == 201
    status, key = sse_stack.admin("POST", "/admin/keys", {"account": "other"})
    assert status == 201
    return str(key["key"])


def _auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def _open_sessions(stack: Stack) -> int:
    return len(stack.gw.app[SESSIONS])


async def _until_sessions(stack: Stack, count: int, within: float = 5.0) -> None:
    deadline = time.monotonic() + within
    while _open_sessions(stack) != count:
        assert time.monotonic() < deadline, f"{_open_sessions(stack)} sessions, not {count}"
        await asyncio.sleep(0.05)


async def test_sdk_sse_client_lists_and_calls_tools(sse_stack: Stack) -> None:
    url = sse_stack.gw.url + "/mcp/sse"
    async with sse_client(url, headers=_auth(sse_stack.key)) as (read, write):
        async with ClientSession(read, write) as session:
            init = await session.initialize()
            assert _open_sessions(sse_stack) == 1
            tools = (await session.list_tools()).tools
            models = await session.call_tool("list_models", {"provider": "simulator"})
            chat = await session.call_tool(
                "chat", {"model": "simulator/chat", "prompt": "hello", "max_tokens": 10}
            )
            failed = await session.call_tool("chat", {"model": "nope/none", "prompt": "x"})
            bad_args = await session.call_tool("list_models", {"modality": 7})
    assert init.server_info.name == "aigw"
    assert {t.name for t in tools} == set(TOOLS)
    assert "simulator/chat" in {m["id"] for m in payload(models)}
    answer = payload(chat)
    assert not chat.is_error and answer["content"] and answer["usage"]["cost"] > 0
    assert charge(sse_stack, answer["id"]) > 0  # billed like POST /mcp and the HTTP API
    assert failed.is_error and payload(failed)["error"]["param"] == "model"
    assert bad_args.is_error and payload(bad_args)["error"]["param"] == "modality"
    await _until_sessions(sse_stack, 0)  # the client closed its stream: the session is gone


async def test_sse_stream_needs_a_valid_key(sse_stack: Stack) -> None:
    url = sse_stack.gw.url + "/mcp/sse"
    async with aiohttp.ClientSession() as http:
        for headers in ({}, _auth("sk-aig-not-a-key")):
            async with http.get(url, headers=headers) as resp:
                assert resp.status == 401
                assert resp.content_type == "application/json"
                assert (await resp.json())["error"]["param"] == "authorization"
    assert _open_sessions(sse_stack) == 0


class Stream:
    """One raw ``GET /mcp/sse`` read event by event."""

    def __init__(self, resp: aiohttp.ClientResponse) -> None:
        self.resp = resp
        self.comments = 0

    async def event(self, within: float = 5.0) -> tuple[str, str] | None:
        """The next event (name, data), counting comments on the way; None at the end."""
        name, data = "message", []
        while True:
            line = await asyncio.wait_for(self.resp.content.readline(), within)
            if not line:
                return None
            text = line.decode().rstrip("\r\n")
            if text.startswith(":"):
                self.comments += 1
            elif text.startswith("event:"):
                name = text[6:].strip()
            elif text.startswith("data:"):
                data.append(text[5:].strip())
            elif text == "" and data:
                return name, "\n".join(data)


@asynccontextmanager
async def open_stream(sse_stack: Stack) -> AsyncIterator[tuple[aiohttp.ClientSession, Stream, str]]:
    """A raw stream, its first event read: (client, stream, the endpoint URL it named)."""
    async with aiohttp.ClientSession() as http:
        async with http.get(sse_stack.gw.url + "/mcp/sse", headers=_auth(sse_stack.key)) as resp:
            assert resp.status == 200
            assert resp.headers["Content-Type"].startswith("text/event-stream")
            events = Stream(resp)
            first = await events.event()
            assert first is not None and first[0] == "endpoint"
            assert first[1].startswith("/mcp/message?session_id=")
            yield http, events, sse_stack.gw.url + first[1]


async def _post(http: aiohttp.ClientSession, url: str, key: str | None, body: Any) -> Any:
    data = body if isinstance(body, bytes) else orjson.dumps(body)
    headers = _auth(key) if key else {}
    async with http.post(url, data=data, headers=headers) as resp:
        text = await resp.read()
        return resp.status, (
            orjson.loads(text) if resp.content_type == "application/json" else text
        )


async def test_messages_are_answered_on_the_stream(sse_stack: Stack) -> None:
    async with open_stream(sse_stack) as (http, events, endpoint):
        await _ping_batch_keepalive(sse_stack, http, events, endpoint)


async def _ping_batch_keepalive(
    sse_stack: Stack, http: aiohttp.ClientSession, events: Stream, endpoint: str
) -> None:
    ping = {"jsonrpc": "2.0", "id": 7, "method": "ping"}
    assert (await _post(http, endpoint, sse_stack.key, ping))[0] == 202
    assert await events.event() == ("message", '{"jsonrpc":"2.0","id":7,"result":{}}')
    batch = [{"jsonrpc": "2.0", "id": 8, "method": "nope"}, {"jsonrpc": "2.0", "method": "x"}]
    assert (await _post(http, endpoint, sse_stack.key, batch))[0] == 202
    got = await events.event()
    assert got is not None and orjson.loads(got[1])[0]["error"]["code"] == -32601
    # Keep-alive comments flow while nothing happens.
    before = events.comments
    await asyncio.sleep(KEEPALIVE * 4)
    await _post(http, endpoint, sse_stack.key, ping)
    assert await events.event() is not None and events.comments > before


async def test_message_errors_over_raw_http(sse_stack: Stack, other_key: str) -> None:
    async with open_stream(sse_stack) as (http, _, endpoint):
        await _errors(sse_stack, other_key, http, endpoint)


async def _errors(
    sse_stack: Stack, other_key: str, http: aiohttp.ClientSession, endpoint: str
) -> None:
    ping = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
    status, body = await _post(http, endpoint, None, ping)
    assert status == 401 and body["error"]["type"] == "authentication_error"
    status, body = await _post(http, endpoint, other_key, ping)  # not this key's session
    assert status == 404 and body["error"]["param"] == "session_id"
    base = sse_stack.gw.url + "/mcp/message"
    status, body = await _post(http, base + "?session_id=nope", sse_stack.key, ping)
    assert status == 404 and body["error"]["type"] == "not_found"
    status, body = await _post(http, base, sse_stack.key, ping)
    assert status == 400 and body["error"]["param"] == "session_id"
    status, body = await _post(http, endpoint, sse_stack.key, b"{nope")
    assert status == 400 and body["error"]["type"] == "invalid_request_error"


async def test_sessions_are_bounded(sse_stack: Stack) -> None:
    url = sse_stack.gw.url + "/mcp/sse"
    async with aiohttp.ClientSession() as http:
        opened = [await http.get(url, headers=_auth(sse_stack.key)) for _ in range(MAX_SESSIONS)]
        assert all(r.status == 200 for r in opened)
        async with http.get(url, headers=_auth(sse_stack.key)) as refused:
            assert refused.status == 503 and refused.headers["Retry-After"]
            assert (await refused.json())["error"]["type"] == "service_unavailable"
        for resp in opened:
            resp.close()
    await _until_sessions(sse_stack, 0)  # closed by the client: found by the keep-alive


async def test_idle_session_ends_and_is_then_unknown(sse_stack: Stack) -> None:
    async with open_stream(sse_stack) as (http, events, endpoint):
        started = time.monotonic()
        assert await events.event(within=IDLE * 3) is None  # the server ended the stream
        assert time.monotonic() - started >= IDLE * 0.9
        status, body = await _post(http, endpoint, sse_stack.key, {"jsonrpc": "2.0", "id": 1})
        assert status == 404 and body["error"]["param"] == "session_id"
        assert events.comments >= 3  # keep-alives went out while it was idle
