"""Chat and embeddings batch lines end like a request (``observe.end_request``): each line,
answered or failed, is one request-log row and one count in the metrics under
``endpoint="batch"``, and a failed line is still a line of the error file."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import openai
import orjson
import pytest

from tests.harness import http, parse_metrics
from tests.jobs.conftest import JobStack, job_stack

CHAT = ("/v1/chat/completions", "openai/gpt-4o-mini")
EMBEDDINGS = ("/v1/embeddings", "openai/text-embedding-3-small")
UNKNOWN = "nope/no-such-model"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JobStack]:
    with job_stack(tmp_path_factory.mktemp("lines")) as s:
        yield s


def _body(url: str, model: str) -> dict[str, Any]:
    if url == "/v1/embeddings":
        return {"model": model, "input": "a text to embed"}
    return {"model": model, "messages": [{"role": "user", "content": "hi"}], "max_tokens": 5}


def _run_batch(stack: JobStack, url: str, lines: dict[str, str]) -> dict[str, dict[str, Any]]:
    """Each line's ``response`` (status_code, request_id, body) by custom_id, from the output
    and error files of a finished batch of ``lines`` (custom_id: model)."""
    client = openai.OpenAI(base_url=stack.url + "/v1", api_key=stack.key, max_retries=0)
    data = b"".join(
        orjson.dumps({"custom_id": c, "method": "POST", "url": url, "body": _body(url, m)}) + b"\n"
        for c, m in lines.items()
    )
    file = client.files.create(file=("in.jsonl", data), purpose="batch")
    batch = client.batches.create(
        input_file_id=file.id,
        endpoint=url,  # type: ignore[arg-type]
        completion_window="24h",
    )
    end = time.monotonic() + 15
    while (batch := client.batches.retrieve(batch.id)).status != "completed":
        assert time.monotonic() < end, batch.status
        time.sleep(0.05)
    rows = []
    for file_id in (batch.output_file_id, batch.error_file_id):
        if file_id is not None:
            rows += map(orjson.loads, client.files.content(file_id).read().splitlines())
    return {r["custom_id"]: r["response"] for r in rows}


def _metrics(stack: JobStack) -> dict[str, float]:
    status, _, raw = http("GET", stack.url + "/metrics")
    assert status == 200
    return parse_metrics(raw)


def _logged(stack: JobStack, request_id: str) -> dict[str, Any]:
    """The request-log row of ``request_id`` (the log is written in the background)."""
    end = time.monotonic() + 5
    while True:
        status, row = stack.call("GET", f"/v1/usage/requests/{request_id}")
        if status == 200:
            return dict(row)
        assert status == 404 and time.monotonic() < end, (status, row)
        time.sleep(0.05)


@pytest.mark.parametrize(("url", "model"), [CHAT, EMBEDDINGS], ids=["chat", "embeddings"])
def test_answered_and_failed_lines_are_logged_and_counted(
    stack: JobStack, url: str, model: str
) -> None:
    ok = f'endpoint="batch",provider="openai",model="{model}"'
    unknown = 'endpoint="batch",provider="",model=""'  # no model resolved
    before = _metrics(stack)
    responses = _run_batch(stack, url, {"ok": model, "bad": UNKNOWN})
    after = _metrics(stack)

    def grew(name: str) -> float:
        return after.get(name, 0) - before.get(name, 0)

    assert responses["ok"]["status_code"] == 200
    assert responses["bad"]["status_code"] == 404
    assert responses["bad"]["body"]["error"]["type"] == "model_not_found"
    assert grew(f'aigw_requests_total{{{ok},status="200"}}') == 1
    assert grew(f"aigw_request_duration_seconds_count{{{ok}}}") == 1
    assert grew(f'aigw_tokens_total{{provider="openai",model="{model}",kind="prompt"}}') > 0
    assert grew(f'aigw_requests_total{{{unknown},status="404"}}') == 1
    assert grew(f'aigw_request_errors_total{{{unknown},type="model_not_found"}}') == 1

    answered = _logged(stack, responses["ok"]["request_id"])
    assert (answered["status"], answered["model"], answered["error_type"]) == (200, model, None)
    assert answered["prompt_tokens"] > 0 and float(answered["charged_cents"]) > 0
    failed = _logged(stack, responses["bad"]["request_id"])
    assert (failed["status"], failed["model"]) == (404, UNKNOWN)
    assert failed["error_type"] == "model_not_found" and float(failed["charged_cents"]) == 0
