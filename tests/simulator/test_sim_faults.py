"""Each injected fault, seen through the openai SDK's exceptions and a raw aiohttp client."""

from __future__ import annotations

import asyncio
import time

import aiohttp
import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam

try:  # the transport under the openai SDK (httpx, renamed httpx2 in recent releases)
    import httpx2 as httpx
except ImportError:  # pragma: no cover
    import httpx  # type: ignore[no-redef,import-not-found,unused-ignore]

from aigw.simulator import SimConfig, SimulatorThread, start_simulator

USER: list[ChatCompletionMessageParam] = [{"role": "user", "content": "Tell me about tea."}]
AUTH = {"Authorization": "Bearer sk-test-key-1234"}


@pytest.mark.parametrize(
    ("fault", "exc", "status", "code"),
    [
        ("500", openai.InternalServerError, 500, None),
        ("502", openai.InternalServerError, 502, None),
        ("503", openai.InternalServerError, 503, None),
        ("429", openai.RateLimitError, 429, "rate_limit_exceeded"),
        ("429_quota", openai.RateLimitError, 429, "insufficient_quota"),
        ("401", openai.AuthenticationError, 401, "invalid_api_key"),
        ("400", openai.BadRequestError, 400, None),
        ("404", openai.NotFoundError, 404, None),
    ],
)
def test_error_faults_by_header(
    client: openai.OpenAI, fault: str, exc: type[openai.APIStatusError], status: int, code: str
) -> None:
    with pytest.raises(exc) as info:
        client.chat.completions.create(
            model="m", messages=USER, extra_headers={"x-sim-fault": fault}
        )
    assert info.value.status_code == status
    assert info.value.code == code
    body = info.value.body
    assert isinstance(body, dict) and set(body) == {"message", "type", "param", "code"}


def test_429_retry_after_and_type(client: openai.OpenAI) -> None:
    with pytest.raises(openai.RateLimitError) as info:
        client.chat.completions.create(
            model="gpt-x",
            messages=USER,
            extra_headers={"x-sim-fault": "429", "x-sim-retry-after": "7"},
        )
    assert info.value.response.headers["retry-after"] == "7"
    assert info.value.type == "requests" and "gpt-x" in info.value.message


def test_queued_faults_apply_to_next_requests(sim: SimulatorThread, client: openai.OpenAI) -> None:
    sim.queue_fault("503", count=2)
    for _ in range(2):
        with pytest.raises(openai.InternalServerError):
            client.chat.completions.create(model="m", messages=USER)
    assert client.chat.completions.create(model="m", messages=USER).choices
    assert sim.stats["faults_injected"] == 2


def test_queued_fault_status_override(sim: SimulatorThread, client: openai.OpenAI) -> None:
    sim.queue_fault("500", status=504)
    with pytest.raises(openai.InternalServerError) as info:
        client.chat.completions.create(model="m", messages=USER)
    assert info.value.status_code == 504


def test_server_fault_rate_is_seeded() -> None:
    def failures() -> list[bool]:
        with (
            SimulatorThread(SimConfig(fault="500", fault_rate=0.5, seed=3)) as sim,
            openai.OpenAI(base_url=sim.base_url, api_key="k", max_retries=0) as client,
        ):
            out = []
            for _ in range(20):
                try:
                    client.chat.completions.create(model="m", messages=USER, max_tokens=1)
                    out.append(False)
                except openai.InternalServerError:
                    out.append(True)
            return out

    first = failures()
    assert 3 <= sum(first) <= 17 and first == failures()


def test_timeout_fault_until_client_gives_up(sim: SimulatorThread) -> None:
    with openai.OpenAI(base_url=sim.base_url, api_key="k", max_retries=0, timeout=0.3) as client:
        started = time.monotonic()
        with pytest.raises(openai.APITimeoutError):
            client.chat.completions.create(
                model="m", messages=USER, extra_headers={"x-sim-fault": "timeout"}
            )
        assert time.monotonic() - started < 2
    _wait_for(lambda: sim.stats["client_disconnects"] == 1)


def test_reset_fault(client: openai.OpenAI) -> None:
    with pytest.raises(openai.APIConnectionError):
        client.chat.completions.create(
            model="m", messages=USER, extra_headers={"x-sim-fault": "reset"}
        )


def test_slow_first_token(client: openai.OpenAI) -> None:
    started = time.monotonic()
    stream = client.chat.completions.create(
        model="m",
        messages=USER,
        stream=True,
        extra_headers={"x-sim-fault": "slow_first_token", "x-sim-fault-delay-ms": "300"},
    )
    next(iter(stream))
    assert time.monotonic() - started >= 0.3
    stream.close()


def test_cut_stream_has_no_done(sim: SimulatorThread, client: openai.OpenAI) -> None:
    sim.queue_fault("cut", after_chunks=4)
    stream = client.chat.completions.create(model="m", messages=USER, stream=True)
    got = []
    with pytest.raises((httpx.HTTPError, openai.APIConnectionError)):
        for chunk in stream:
            got.append(chunk)
    assert len(got) == 4


def test_cut_and_malformed_over_raw_http(sim: SimulatorThread) -> None:
    async def main() -> None:
        url = sim.base_url + "/chat/completions"
        body = {"model": "m", "messages": USER, "stream": True}
        async with aiohttp.ClientSession(headers=AUTH) as http:
            headers = {"x-sim-fault": "cut", "x-sim-fault-after-chunks": "2"}
            async with http.post(url, json=body, headers=headers) as resp:
                with pytest.raises(aiohttp.ClientPayloadError):
                    await resp.read()
            headers = {"x-sim-fault": "malformed", "x-sim-fault-after-chunks": "1"}
            async with http.post(url, json=body, headers=headers) as resp:
                frames = (await resp.read()).split(b"\n\n")
                assert frames[1] == b"data: {not json" and frames[2] == b"data: [DONE]"
            headers = {"x-sim-fault": "malformed"}
            async with http.post(url, json={**body, "stream": False}, headers=headers) as resp:
                assert resp.status == 200
                with pytest.raises(ValueError):
                    await resp.json()
            headers = {"x-sim-fault": "cut"}
            async with http.post(url, json={**body, "stream": False}, headers=headers) as resp:
                with pytest.raises(aiohttp.ClientPayloadError):
                    await resp.read()

    asyncio.run(main())


def test_stall_then_client_gives_up(sim: SimulatorThread) -> None:
    sim.queue_fault("stall", after_chunks=2)
    with openai.OpenAI(base_url=sim.base_url, api_key="k", max_retries=0, timeout=0.3) as client:
        stream = client.chat.completions.create(model="m", messages=USER, stream=True)
        got = []
        with pytest.raises((httpx.HTTPError, openai.APIConnectionError)):
            for chunk in stream:
                got.append(chunk)
        assert len(got) == 2
    _wait_for(lambda: sim.stats["client_disconnects"] == 1)
    assert sim.stats["streams_completed"] == 0


def test_client_disconnect_mid_stream_is_counted() -> None:
    async def main() -> dict[str, int]:
        sim = await start_simulator(SimConfig(tokens_per_second=200, output_tokens=400))
        try:
            async with aiohttp.ClientSession(headers=AUTH) as http:
                body = {"model": "m", "messages": USER, "stream": True}
                resp = await http.post(sim.base_url + "/chat/completions", json=body)
                await resp.content.readuntil(b"\n\n")
                resp.close()  # drop the connection mid-stream
            for _ in range(100):
                if sim.stats["client_disconnects"]:
                    break
                await asyncio.sleep(0.01)
            return sim.stats
        finally:
            await sim.stop()

    stats = asyncio.run(main())
    assert stats["client_disconnects"] == 1
    assert stats["streams_started"] == 1 and stats["streams_completed"] == 0


def test_bad_header_value_is_400(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(
            model="m", messages=USER, extra_headers={"x-sim-fault": "explode"}
        )


def _wait_for(condition: object, timeout: float = 2.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return
        time.sleep(0.01)
    raise AssertionError("condition not reached")
