"""Control API, replay of recorded traffic, auth, validation, pacing and usage styles."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import aiohttp
import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam

from aigw.simulator import SimConfig, SimulatorThread, load_recording, start_simulator
from tests.fixtures_path import fixture

USER: list[ChatCompletionMessageParam] = [{"role": "user", "content": "Tell me about tea."}]
AUTH = {"Authorization": "Bearer sk-test-key-1234"}


def _http(
    sim: SimulatorThread, method: str, path: str, body: Any = None, headers: Any = None
) -> tuple[int, Any, dict[str, str]]:
    async def go() -> tuple[int, Any, dict[str, str]]:
        async with (
            aiohttp.ClientSession() as http,
            http.request(method, sim.url + path, json=body, headers=headers) as resp,
        ):
            raw = await resp.read()
            try:
                data: Any = json.loads(raw)
            except ValueError:
                data = raw
            return resp.status, data, dict(resp.headers)

    return asyncio.run(go())


def test_requests_log_redacts_authorization(sim: SimulatorThread, client: openai.OpenAI) -> None:
    client.chat.completions.create(model="m", messages=USER, temperature=0.2)
    status, data, _ = _http(sim, "GET", "/_sim/requests")
    assert status == 200
    [logged] = data["requests"]
    assert logged["method"] == "POST" and logged["path"] == "/v1/chat/completions"
    assert logged["headers"]["Authorization"] == "Bearer ****1234"
    assert logged["body"]["temperature"] == 0.2 and logged["body"]["messages"] == USER


def test_stats_and_reset(sim: SimulatorThread, client: openai.OpenAI) -> None:
    client.chat.completions.create(model="m", messages=USER)
    list(client.chat.completions.create(model="m", messages=USER, stream=True))
    _, stats, _ = _http(sim, "GET", "/_sim/stats")
    assert stats["requests"] == 2 and stats["completions"] == 1
    assert stats["streams_started"] == stats["streams_completed"] == 1
    assert _http(sim, "POST", "/_sim/reset")[0] == 200
    assert _http(sim, "GET", "/_sim/stats")[1]["requests"] == 0
    assert _http(sim, "GET", "/_sim/requests")[1]["requests"] == []


def test_faults_via_http(sim: SimulatorThread, client: openai.OpenAI) -> None:
    status, data, _ = _http(
        sim, "POST", "/_sim/faults", {"fault": "429", "count": 2, "retry_after": 3}
    )
    assert status == 200 and data == {"queued": 2}
    assert len(_http(sim, "GET", "/_sim/faults")[1]["queued"]) == 2
    with pytest.raises(openai.RateLimitError) as info:
        client.chat.completions.create(model="m", messages=USER)
    assert info.value.response.headers["retry-after"] == "3"
    assert _http(sim, "DELETE", "/_sim/faults")[1] == {"queued": 0}
    assert client.chat.completions.create(model="m", messages=USER).choices
    assert _http(sim, "POST", "/_sim/faults", {"fault": "nope"})[0] == 400


def test_config_patch(sim: SimulatorThread, client: openai.OpenAI) -> None:
    status, data, _ = _http(sim, "POST", "/_sim/config", {"output_tokens": 7})
    assert status == 200 and data["output_tokens"] == 7
    out = client.chat.completions.create(model="m", messages=USER)
    assert out.usage and out.usage.completion_tokens == 7
    assert _http(sim, "POST", "/_sim/config", {"bogus": 1})[0] == 400
    sim.reset()
    assert _http(sim, "GET", "/_sim/config")[1]["output_tokens"] is None


def test_replay_sse_recording_through_sdk(sim: SimulatorThread, client: openai.OpenAI) -> None:
    path = fixture("openai/chat_stream_tool_calls.sse")
    assert _http(sim, "POST", "/_sim/replay", {"path": str(path)})[1] == {"queued": 1}
    chunks = list(client.chat.completions.create(model="m", messages=USER, stream=True))
    assert chunks[0].model == "gpt-4o-mini-2024-07-18"
    args = "".join(
        tc.function.arguments or ""
        for c in chunks
        if c.choices
        for tc in c.choices[0].delta.tool_calls or []
        if tc.function
    )
    assert json.loads(args) == {"country": "UK"}
    assert chunks[-1].usage and chunks[-1].usage.total_tokens == 68
    # the queue is used up: the next answer is generated again
    assert client.chat.completions.create(model="m", messages=USER).model == "m"


@pytest.mark.parametrize(
    "name", ["openai/chat_stream_text_usage.chunks.jsonl", "xai/chat_stream_tool_call.chunks.jsonl"]
)
def test_replay_chunks_jsonl(sim: SimulatorThread, client: openai.OpenAI, name: str) -> None:
    content_type, body = load_recording(fixture(name))
    assert content_type == "text/event-stream" and body.endswith(b"}\n\ndata: [DONE]\n\n")
    lines = [ln for ln in fixture(name).read_bytes().splitlines() if ln.strip()]
    sim.queue_replay({"path": str(fixture(name))})
    chunks = list(client.chat.completions.create(model="m", messages=USER, stream=True))
    assert len(chunks) == len(lines)


def test_replay_inline_body_status_and_headers(sim: SimulatorThread, client: openai.OpenAI) -> None:
    recorded = json.loads(fixture("openai/chat_completion_text.json").read_text())
    sim.queue_replay({"body": recorded, "headers": {"x-upstream": "recorded"}})
    raw = client.chat.completions.with_raw_response.create(model="m", messages=USER)
    assert raw.headers["x-upstream"] == "recorded"
    assert raw.parse().id == recorded["id"]
    error = {"error": {"message": "over", "type": "tokens", "param": None, "code": "x"}}
    sim.queue_replay({"body": json.dumps(error), "status": 429})
    with pytest.raises(openai.RateLimitError):
        client.chat.completions.create(model="m", messages=USER)


def test_deepseek_usage_style(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(
        model="m", messages=USER, stream=True, extra_headers={"x-sim-usage-style": "deepseek"}
    )
    chunks = list(stream)
    last = chunks[-1]
    assert last.choices[0].finish_reason == "stop" and last.usage is not None
    assert (last.usage.model_extra or {})["prompt_cache_miss_tokens"] == last.usage.prompt_tokens


def test_auth_missing_and_required_key() -> None:
    with (
        SimulatorThread(SimConfig(require_key="sk-right")) as sim,
        openai.OpenAI(base_url=sim.base_url, api_key="sk-wrong-key-9999", max_retries=0) as bad,
    ):
        with pytest.raises(openai.AuthenticationError) as info:
            bad.chat.completions.create(model="m", messages=USER)
        assert info.value.code == "invalid_api_key" and "9999" in info.value.message
        with openai.OpenAI(base_url=sim.base_url, api_key="sk-right", max_retries=0) as good:
            assert good.chat.completions.create(model="m", messages=USER).choices
        status, data, _ = _http(sim, "POST", "/v1/chat/completions", {"model": "m"})
        assert status == 401 and data["error"]["type"] == "invalid_request_error"


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"model": "m"}, "messages"),
        ({"model": "m", "messages": []}, "messages"),
        ({"model": "m", "messages": USER, "stream_options": {"include_usage": True}},
         "stream_options"),
        ({"model": "m", "messages": USER, "n": 0}, "n"),
        ({"model": "m", "messages": [{"role": "robot", "content": "x"}]}, "messages[0].role"),
        ({"messages": USER}, None),
    ],
)  # fmt: skip
def test_validation_errors(sim: SimulatorThread, body: dict[str, Any], param: str | None) -> None:
    status, data, headers = _http(sim, "POST", "/v1/chat/completions", body, AUTH)
    assert status == 400 and headers["Content-Type"].startswith("application/json")
    assert data["error"]["type"] == "invalid_request_error"
    assert data["error"]["param"] == param
    assert set(data["error"]) == {"message", "type", "param", "code"}


def test_invalid_json_body(sim: SimulatorThread) -> None:
    async def go() -> int:
        async with (
            aiohttp.ClientSession(headers=AUTH) as http,
            http.post(sim.base_url + "/chat/completions", data=b"{oops") as resp,
        ):
            return resp.status

    assert asyncio.run(go()) == 400


def test_healthz_and_models(sim: SimulatorThread) -> None:
    assert _http(sim, "GET", "/healthz")[0] == 200
    status, data, _ = _http(sim, "GET", "/v1/models", headers=AUTH)
    assert status == 200 and data["object"] == "list" and data["data"][0]["object"] == "model"


def test_pacing_ttft_and_tokens_per_second() -> None:
    async def main() -> tuple[float, float, int]:
        sim = await start_simulator(SimConfig(ttft_ms=150, tokens_per_second=100))
        try:
            async with aiohttp.ClientSession(headers=AUTH) as http:
                body = {"model": "m", "messages": USER, "stream": True}
                headers = {"x-sim-output-tokens": "21"}
                started = time.monotonic()
                url = sim.base_url + "/chat/completions"
                async with http.post(url, json=body, headers=headers) as resp:
                    await resp.content.readuntil(b"\n\n")
                    first = time.monotonic() - started
                    rest = await resp.read()
                    total = time.monotonic() - started
                return first, total, rest.count(b"data: ")
        finally:
            await sim.stop()

    first, total, frames = asyncio.run(main())
    assert 0.14 <= first < 1.0
    assert 0.33 <= total < 1.5  # 150 ms + 20 tokens at 100/s
    assert frames == 21 + 2  # 21 content chunks (after role), finish, [DONE]


def test_latency_header_non_stream(client: openai.OpenAI) -> None:
    started = time.monotonic()
    client.chat.completions.create(
        model="m", messages=USER, extra_headers={"x-sim-latency-ms": "200"}
    )
    assert time.monotonic() - started >= 0.2
