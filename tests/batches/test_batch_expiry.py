"""The completion window: only "24h" is accepted (as OpenAI), it lasts
``batch_completion_window_seconds``, and a batch still running at its end goes ``expired``:
answered lines keep their output, lines never started go to the error file as
``batch_expired`` (OpenAI's semantics, with ``expires_at`` / ``expired_at``)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import openai
import orjson
import pytest

from tests.harness import http
from tests.jobs.conftest import JobStack, job_stack

WINDOW_S = 1.2
LINES = 24  # 4 at a time, 0.5 s each: about 3 s of work for a 1.2 s window


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JobStack]:
    with job_stack(
        tmp_path_factory.mktemp("expiry"), batch_completion_window_seconds=WINDOW_S
    ) as s:
        status, _, body = http("POST", s.sim.url + "/_sim/config", json={"latency_ms": 500})
        assert status == 200, body
        yield s


def _client(stack: JobStack) -> openai.OpenAI:
    return openai.OpenAI(base_url=stack.url + "/v1", api_key=stack.key, max_retries=0)


def _input(client: openai.OpenAI) -> str:
    body = {"model": "xai/grok-4.3", "messages": [{"role": "user", "content": "hi"}]}
    lines = b"".join(
        orjson.dumps(
            {"custom_id": f"r{i}", "method": "POST", "url": "/v1/chat/completions", "body": body}
        )
        + b"\n"
        for i in range(LINES)
    )
    return client.files.create(file=("in.jsonl", lines), purpose="batch").id


def test_only_the_24h_window_is_accepted(stack: JobStack) -> None:
    client = _client(stack)
    file_id = _input(client)
    for window in ("1h", "48h", 24, None):
        status, body = stack.call(
            "POST",
            "/v1/batches",
            {
                "input_file_id": file_id,
                "endpoint": "/v1/chat/completions",
                "completion_window": window,
            },
        )
        assert status == 400 and body["error"]["param"] == "completion_window", window


def test_a_batch_past_its_window_expires_with_unrun_lines_in_the_error_file(
    stack: JobStack,
) -> None:
    client = _client(stack)
    batch = client.batches.create(
        input_file_id=_input(client), endpoint="/v1/chat/completions", completion_window="24h"
    )
    assert batch.expires_at - batch.created_at in (1, 2)  # the window is the setting
    end = time.monotonic() + 20
    while (batch := client.batches.retrieve(batch.id)).status not in (
        "completed",
        "failed",
        "expired",
    ):
        assert time.monotonic() < end, batch.status
        time.sleep(0.05)
    assert batch.status == "expired", batch.status
    assert batch.expired_at and batch.expired_at >= batch.expires_at - 1
    assert batch.completed_at is None and batch.output_file_id and batch.error_file_id
    output = client.files.content(batch.output_file_id).read().splitlines()
    errors = [
        orjson.loads(x) for x in client.files.content(batch.error_file_id).read().splitlines()
    ]
    answered = {orjson.loads(x)["custom_id"] for x in output}
    unrun = {e["custom_id"] for e in errors}
    assert answered and unrun, (len(answered), len(unrun))
    assert answered | unrun == {f"r{i}" for i in range(LINES)} and not answered & unrun
    assert all(e["response"] is None and e["error"]["code"] == "batch_expired" for e in errors)
    counts = batch.request_counts
    assert counts is not None
    assert (counts.total, counts.completed, counts.failed) == (LINES, len(answered), len(unrun))
