"""Batch lines and MCP's chat tool feed deployment health and the metrics like
``/v1/chat/completions`` does (``Observer.finish``), under endpoints ``batch`` and ``mcp``."""

from __future__ import annotations

import time
from collections.abc import Iterator

import openai
import orjson
import pytest

from tests.harness import http, parse_metrics
from tests.jobs.conftest import JobStack, job_stack

MODEL = "openai/gpt-4o-mini"  # used by no other call in this module


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JobStack]:
    with job_stack(tmp_path_factory.mktemp("observed")) as s:
        yield s


def _metrics(stack: JobStack) -> dict[str, float]:
    status, _, raw = http("GET", stack.url + "/metrics")
    assert status == 200
    return parse_metrics(raw)


def _requests(stack: JobStack) -> int:
    status, _, raw = http("GET", stack.url + "/v1/health/providers")
    assert status == 200
    return sum(
        d["requests"]
        for p in orjson.loads(raw)["data"]
        for d in p["deployments"]
        if p["provider"] == "openai"
    )


def test_batch_lines_and_mcp_chat_are_observed(stack: JobStack) -> None:
    assert _requests(stack) == 0
    client = openai.OpenAI(base_url=stack.url + "/v1", api_key=stack.key, max_retries=0)
    body = {"model": MODEL, "messages": [{"role": "user", "content": "hi"}], "max_tokens": 5}
    lines = b"".join(
        orjson.dumps(
            {"custom_id": c, "method": "POST", "url": "/v1/chat/completions", "body": body}
        )
        + b"\n"
        for c in ("a", "b", "c")
    )
    file = client.files.create(file=("in.jsonl", lines), purpose="batch")
    batch = client.batches.create(
        input_file_id=file.id, endpoint="/v1/chat/completions", completion_window="24h"
    )
    end = time.monotonic() + 15
    while client.batches.retrieve(batch.id).status != "completed":
        assert time.monotonic() < end
        time.sleep(0.05)
    call = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {"name": "chat", "arguments": {"model": MODEL, "prompt": "hi", "max_tokens": 5}},
    }
    status, _, raw = http(
        "POST",
        stack.url + "/mcp",
        json=call,
        headers={"Authorization": f"Bearer {stack.key}", "Accept": "application/json"},
    )
    assert status == 200 and not orjson.loads(raw)["result"].get("isError"), raw
    assert _requests(stack) == 4  # three lines and one tool call reached the deployment
    m = _metrics(stack)
    for endpoint, count in (("batch", 3), ("mcp", 1)):
        labels = f'endpoint="{endpoint}",provider="openai",model="{MODEL}"'
        assert m[f'aigw_requests_total{{{labels},status="200"}}'] == count
        assert m[f"aigw_request_duration_seconds_count{{{labels}}}"] == count
    assert m[f'aigw_tokens_total{{provider="openai",model="{MODEL}",kind="completion"}}'] > 0
