"""A gateway in front of the simulator (module-scoped, SQLite) and an MCP client helper: the
official ``mcp`` SDK over Streamable HTTP, real sockets, the same bearer key as the API."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from aigw.simulator import SimConfig, SimulatorThread
from tests.harness import http
from tests.server.conftest import AWS_SECRET_ACCESS_KEY, Stack, start_stack


@pytest.fixture(scope="module")
def sim_server() -> Iterator[SimulatorThread]:
    with SimulatorThread(SimConfig(aws_secret_access_key=AWS_SECRET_ACCESS_KEY)) as sim:
        yield sim


@pytest.fixture(scope="module")
def stack(sim_server: SimulatorThread, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    path: Path = tmp_path_factory.mktemp("mcp") / "aigw.db"
    yield from start_stack(f"sqlite:///{path}", sim_server)


async def mcp_calls(stack: Stack, calls: list[tuple[str, dict[str, Any]]]) -> list[Any]:
    """Open a session, call each tool in turn, return the SDK's results."""
    client = create_mcp_http_client(headers={"Authorization": f"Bearer {stack.key}"})
    async with client, streamable_http_client(stack.gw.url + "/mcp", http_client=client) as s:
        async with ClientSession(s[0], s[1]) as session:
            await session.initialize()
            return [await session.call_tool(name, args) for name, args in calls]


async def mcp_tools(stack: Stack) -> Any:
    client = create_mcp_http_client(headers={"Authorization": f"Bearer {stack.key}"})
    async with client, streamable_http_client(stack.gw.url + "/mcp", http_client=client) as s:
        async with ClientSession(s[0], s[1]) as session:
            await session.initialize()
            return (await session.list_tools()).tools


def payload(result: Any) -> Any:
    """The JSON of a result's first text block."""
    texts = [c for c in result.content if c.type == "text"]
    return orjson.loads(texts[0].text)


async def fetch(url: str) -> tuple[int, bytes]:
    """A plain GET from inside an async test (the harness's ``http`` runs its own loop)."""
    status, _, body = await asyncio.to_thread(http, "GET", url)
    return status, body


def charge(stack: Stack, request_id: str) -> int:
    """What the ledger charged for one request (µ¢, positive)."""
    return stack.gw.charged(stack.account_id, request_id)
