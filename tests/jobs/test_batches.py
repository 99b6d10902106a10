"""OpenAI-compatible batches through the official openai SDK: lines run through the chat path
(pass-through and translated upstreams), half price, not rate limited, OpenAI's file format."""

from __future__ import annotations

import time

import openai
import orjson
import pytest

from aigw.billing import ledger
from aigw.billing.pricing import cost_micro_cents
from aigw.core.usage import Usage
from aigw.server.appkeys import CATALOG, DATABASE
from tests.jobs.conftest import JobStack
from tests.server.conftest import ADMIN_KEY


def _line(
    custom_id: str, model: str, text: str = "hello", url: str = "/v1/chat/completions"
) -> bytes:
    body = {"model": model, "messages": [{"role": "user", "content": text}], "max_tokens": 20}
    line = {"custom_id": custom_id, "method": "POST", "url": url, "body": body}
    return orjson.dumps(line) + b"\n"


def _client(stack: JobStack, key: str | None = None) -> openai.OpenAI:
    return openai.OpenAI(base_url=stack.url + "/v1", api_key=key or stack.key, max_retries=0)


def _wait(client: openai.OpenAI, batch_id: str, within: float = 15) -> openai.types.Batch:
    end = time.monotonic() + within
    while True:
        batch = client.batches.retrieve(batch_id)
        if batch.status in ("completed", "failed", "cancelled", "expired"):
            return batch
        if time.monotonic() > end:
            pytest.fail(f"batch still {batch.status}")
        time.sleep(0.05)


def test_batch_end_to_end_at_half_price_and_unlimited_by_rpm(jobstack: JobStack) -> None:
    status, made = jobstack.gw.admin(
        "POST", "/admin/keys", ADMIN_KEY, {"account": "acme", "rate_limit_rpm": 1}
    )
    assert status == 201
    client = _client(jobstack, made["key"])  # one request a minute: batches do not count
    lines = (
        _line("a", "xai/grok-4.3")
        + _line("b", "anthropic/claude-haiku-4-5")  # translated upstream
        + _line("c", "openai/gpt-4o-mini")
        + _line("d", "nope/no-such-model")
    )
    file = client.files.create(file=("in.jsonl", lines), purpose="batch")
    batch = client.batches.create(
        input_file_id=file.id,
        endpoint="/v1/chat/completions",
        completion_window="24h",
        metadata={"run": "nightly"},
    )
    assert batch.status == "validating" and batch.metadata == {"run": "nightly"}
    done = _wait(client, batch.id)
    assert done.status == "completed" and done.completed_at and done.in_progress_at
    assert done.request_counts is not None
    assert (done.request_counts.total, done.request_counts.completed) == (4, 3)
    assert done.request_counts.failed == 1
    assert done.output_file_id and done.error_file_id
    output = client.files.content(done.output_file_id).read()
    assert b'", "' in output  # OpenAI's Python-style spacing
    answers = {r["custom_id"]: r for r in map(orjson.loads, output.splitlines())}
    assert set(answers) == {"a", "b", "c"}
    errors = [orjson.loads(x) for x in client.files.content(done.error_file_id).read().splitlines()]
    assert [(e["custom_id"], e["response"]["status_code"]) for e in errors] == [("d", 404)]
    assert errors[0]["response"]["body"]["error"]["type"] == "model_not_found"
    entries = jobstack.gw.call(ledger.entries_for(jobstack.gw.app[DATABASE], jobstack.account_id))
    charges = {e.request_id: -e.amount_micro_cents for e in entries if e.kind == "charge"}
    catalog = jobstack.gw.app[CATALOG]
    for custom_id, row in answers.items():
        assert row["id"].startswith("batch_req_") and row["error"] is None
        response = row["response"]
        assert response["status_code"] == 200
        body = response["body"]
        assert body["object"] == "chat.completion" and body["choices"][0]["message"]["content"]
        usage = body["usage"]
        model = catalog.get(body["model"])
        assert model is not None
        full = cost_micro_cents(
            model.price, Usage(usage["prompt_tokens"], usage["completion_tokens"])
        )
        assert charges[response["request_id"]] == (full + 1) // 2, custom_id
        assert usage["cost"] == pytest.approx(charges[response["request_id"]] / 100_000_000)
    listed = client.batches.list(limit=1)
    assert listed.data[0].id == batch.id and listed.has_more in (True, False)


def test_cancel_keeps_finished_lines(jobstack: JobStack) -> None:
    client = _client(jobstack)
    jobstack.sim.set_config(latency_ms=150)
    try:
        lines = b"".join(_line(f"n{i}", "xai/grok-4.3") for i in range(40))
        file = client.files.create(file=("in.jsonl", lines), purpose="batch")
        batch = client.batches.create(
            input_file_id=file.id, endpoint="/v1/chat/completions", completion_window="24h"
        )
        time.sleep(0.5)
        assert client.batches.cancel(batch.id).status == "cancelling"
        done = _wait(client, batch.id)
    finally:
        jobstack.sim.set_config(latency_ms=0)
    assert done.status == "cancelled" and done.cancelled_at
    assert done.request_counts is not None
    finished = done.request_counts.completed
    assert 0 < finished < 40
    assert done.output_file_id is not None
    output = client.files.content(done.output_file_id).read().splitlines()
    assert len(output) == finished


def test_invalid_batches(jobstack: JobStack) -> None:
    client = _client(jobstack)
    file = client.files.create(
        file=("in.jsonl", _line("x", "xai/grok-4.3", url="/v1/embeddings") + b"not json\n"),
        purpose="batch",
    )
    with pytest.raises(openai.BadRequestError):
        client.batches.create(
            input_file_id=file.id,
            endpoint="/v1/completions",  # type: ignore[arg-type]
            completion_window="24h",
        )
    with pytest.raises(openai.NotFoundError):
        client.batches.create(
            input_file_id="file-nope", endpoint="/v1/chat/completions", completion_window="24h"
        )
    batch = client.batches.create(
        input_file_id=file.id, endpoint="/v1/chat/completions", completion_window="24h"
    )
    done = _wait(client, batch.id)
    assert done.status == "failed" and done.errors is not None and done.errors.data
    assert {e.code for e in done.errors.data} == {"mismatched_url", "invalid_json_line"}
    with pytest.raises(openai.NotFoundError):
        client.batches.retrieve("batch_nope")


def test_embeddings_batch_at_half_price(jobstack: JobStack) -> None:
    client = _client(jobstack)
    model = "openai/text-embedding-3-small"

    def line(custom_id: str, body: dict[str, object]) -> bytes:
        item = {"custom_id": custom_id, "method": "POST", "url": "/v1/embeddings", "body": body}
        return orjson.dumps(item) + b"\n"

    lines = (
        line("e1", {"model": model, "input": "the first text", "encoding_format": "float"})
        + line("e2", {"model": model, "input": ["two", "texts"], "dimensions": 4})
        + line("e3", {"model": "openai/gpt-4o-mini", "input": "a chat model"})
    )
    file = client.files.create(file=("emb.jsonl", lines), purpose="batch")
    batch = client.batches.create(
        input_file_id=file.id, endpoint="/v1/embeddings", completion_window="24h"
    )
    done = _wait(client, batch.id)
    assert done.status == "completed" and done.request_counts is not None
    assert (done.request_counts.completed, done.request_counts.failed) == (2, 1)
    assert done.output_file_id and done.error_file_id
    output = client.files.content(done.output_file_id).read()
    rows = {r["custom_id"]: r for r in map(orjson.loads, output.splitlines())}
    errors = [orjson.loads(x) for x in client.files.content(done.error_file_id).read().splitlines()]
    assert [(e["custom_id"], e["response"]["status_code"]) for e in errors] == [("e3", 400)]
    assert errors[0]["response"]["body"]["error"]["param"] == "model"
    entries = jobstack.gw.call(ledger.entries_for(jobstack.gw.app[DATABASE], jobstack.account_id))
    charges = {e.request_id: -e.amount_micro_cents for e in entries if e.kind == "charge"}
    price = jobstack.gw.app[CATALOG].get(model)
    assert price is not None
    for custom_id, count in (("e1", 1), ("e2", 2)):
        response = rows[custom_id]["response"]
        body = response["body"]
        assert response["status_code"] == 200 and body["object"] == "list"
        assert body["model"] == model and len(body["data"]) == count
        tokens = body["usage"]["prompt_tokens"]
        full = cost_micro_cents(price.price, Usage(tokens))
        assert full > 0
        assert charges[response["request_id"]] == (full + 1) // 2
        assert body["usage"]["cost"] == pytest.approx(charges[response["request_id"]] / 1e8)
    assert isinstance(rows["e1"]["response"]["body"]["data"][0]["embedding"][0], float)
    assert len(rows["e2"]["response"]["body"]["data"][1]["embedding"]) == 4
