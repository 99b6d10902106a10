"""A client that hangs up mid-stream cancels the upstream call; what was sent is logged."""

from __future__ import annotations

import asyncio
import time

import aiohttp
import pytest
from tests.server.conftest import Stack

from aigw.server.appkeys import DATABASE
from aigw.store import request_log


def test_client_disconnect_cancels_the_upstream_stream(stack: Stack) -> None:
    stack.sim.set_config(tokens_per_second=20, output_tokens=400)

    async def read_a_little_then_hang_up() -> str:
        async with aiohttp.ClientSession() as session:
            response = await session.post(
                f"{stack.base_url}/chat/completions",
                headers={"Authorization": f"Bearer {stack.key}"},
                json={
                    "model": "xai/grok-4.3",
                    "messages": [{"role": "user", "content": "a long story please"}],
                    "stream": True,
                },
            )
            assert response.status == 200
            request_id = response.headers["X-Request-Id"]
            await response.content.readuntil(b"\n\n")
            await response.content.readuntil(b"\n\n")
            response.close()  # hang up mid-stream
            return request_id

    request_id = asyncio.run(read_a_little_then_hang_up())
    deadline = time.monotonic() + 5
    while stack.sim.stats["client_disconnects"] < 1:
        assert time.monotonic() < deadline, "the upstream never saw the gateway hang up"
        time.sleep(0.05)
    assert stack.sim.stats["streams_completed"] == 0

    deadline = time.monotonic() + 5
    while True:
        stack.gw.flush_log()
        entry = stack.gw.call(request_log.get(stack.gw.app[DATABASE], request_id))
        if entry is not None:
            break
        assert time.monotonic() < deadline, "the cancelled request was never logged"
        time.sleep(0.05)
    assert entry.status == 499 and entry.error_type == "client_closed"
    assert entry.streamed and entry.ttft_ms is not None


@pytest.mark.parametrize(
    ("path", "model"),
    [
        ("/chat/completions", "anthropic/claude-haiku-4-5"),  # translated stream
        ("/messages", "anthropic/claude-haiku-4-5"),  # Anthropic pass-through
        ("/messages", "xai/grok-4.3"),  # translated to Anthropic's events
    ],
)
def test_client_disconnect_cancels_translated_and_messages_streams(
    stack: Stack, path: str, model: str
) -> None:
    stack.sim.set_config(tokens_per_second=20, output_tokens=400)

    async def read_a_little_then_hang_up() -> str:
        async with aiohttp.ClientSession() as session:
            response = await session.post(
                f"{stack.base_url}{path}",
                headers={"Authorization": f"Bearer {stack.key}"},
                json={
                    "model": model,
                    "max_tokens": 1000,
                    "messages": [{"role": "user", "content": "a long story please"}],
                    "stream": True,
                },
            )
            assert response.status == 200
            request_id = response.headers["X-Request-Id"]
            for _ in range(3):
                await response.content.readuntil(b"\n\n")
            response.close()  # hang up mid-stream
            return request_id

    request_id = asyncio.run(read_a_little_then_hang_up())
    deadline = time.monotonic() + 5
    while stack.sim.stats["client_disconnects"] < 1:
        assert time.monotonic() < deadline, "the upstream never saw the gateway hang up"
        time.sleep(0.05)
    assert stack.sim.stats["streams_completed"] == 0
    deadline = time.monotonic() + 5
    while True:
        stack.gw.flush_log()
        entry = stack.gw.call(request_log.get(stack.gw.app[DATABASE], request_id))
        if entry is not None:
            break
        assert time.monotonic() < deadline, "the cancelled request was never logged"
        time.sleep(0.05)
    assert entry.status == 499 and entry.error_type == "client_closed"
    assert entry.charged_micro_cents > 0, "what was produced is billed"
