"""Every request lands in the request log with its tokens, cost and timings (SQLite and
PostgreSQL)."""

from __future__ import annotations

import openai
import pytest
from tests.server.conftest import Stack

from aigw.server.appkeys import DATABASE
from aigw.store import request_log
from aigw.store.request_log import RequestLogEntry

MESSAGES = [{"role": "user", "content": "Tell me about caching."}]


def _entry(stack: Stack, request_id: str) -> RequestLogEntry:
    stack.gw.flush_log()
    found = stack.gw.call(request_log.get(stack.gw.app[DATABASE], request_id))
    assert found is not None, f"{request_id} not in the request log"
    return found


def _check_success_logging(stack: Stack) -> None:
    with stack.client() as client:
        raw = client.chat.completions.with_raw_response.create(
            model="xai/grok-4.3", messages=MESSAGES, extra_headers={"x-aig-tag": "team-a"}
        )
        completion = raw.parse()
        entry = _entry(stack, raw.headers["x-request-id"])
        assert completion.usage is not None
        assert entry.account_id == stack.account_id and entry.key_id
        assert entry.tag == "team-a"
        assert entry.model == "xai/grok-4.3" and entry.provider == "xai"
        assert entry.status == 200 and entry.error_type is None
        assert entry.prompt_tokens == completion.usage.prompt_tokens
        assert entry.completion_tokens == completion.usage.completion_tokens
        assert entry.cost_micro_cents == round(completion.usage.model_extra["cost"] * 1e8)  # type: ignore[index]
        assert entry.cost_micro_cents > 0
        assert entry.latency_ms > 0 and entry.ttft_ms is not None
        assert entry.streamed is False

        raw_stream = client.chat.completions.with_raw_response.create(
            model="xai/grok-4.3", messages=MESSAGES, stream=True, reasoning_effort="high"
        )
        request_id = raw_stream.headers["x-request-id"]
        chunks = list(raw_stream.parse())
        assert chunks
        entry = _entry(stack, request_id)
        assert entry.streamed is True and entry.status == 200
        assert entry.completion_tokens > 0 and entry.reasoning_tokens > 0
        assert entry.cost_micro_cents > 0
        assert entry.ttft_ms is not None and entry.ttft_ms <= entry.latency_ms


def test_success_is_logged_on_sqlite(stack: Stack) -> None:
    _check_success_logging(stack)


@pytest.mark.postgres
def test_success_is_logged_on_postgresql(pg_stack: Stack) -> None:
    _check_success_logging(pg_stack)


def test_errors_are_logged_with_their_type(stack: Stack) -> None:
    stack.sim.queue_fault("500", count=5)
    with stack.client() as client:
        with pytest.raises(openai.InternalServerError) as info:
            client.chat.completions.create(model="xai/grok-4.3", messages=MESSAGES)
        entry = _entry(stack, info.value.response.headers["x-request-id"])
        assert entry.status == 500 and entry.error_type == "server_error"
        assert entry.cost_micro_cents == 0 and entry.model == "xai/grok-4.3"

        with pytest.raises(openai.NotFoundError) as nf:
            client.chat.completions.create(model="nope/none", messages=MESSAGES)
        entry = _entry(stack, nf.value.response.headers["x-request-id"])
        assert entry.status == 404 and entry.error_type == "model_not_found"
        assert entry.model == "nope/none" and entry.account_id == stack.account_id


def test_unauthenticated_requests_are_logged_without_account(stack: Stack) -> None:
    with openai.OpenAI(base_url=stack.base_url, api_key="sk-aig-wrong", max_retries=0) as c:
        with pytest.raises(openai.AuthenticationError) as info:
            c.chat.completions.create(model="xai/grok-4.3", messages=MESSAGES)
    entry = _entry(stack, info.value.response.headers["x-request-id"])
    assert entry.status == 401 and entry.account_id is None


def test_tag_longer_than_64_is_refused(stack: Stack) -> None:
    with stack.client() as client, pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(
            model="xai/grok-4.3", messages=MESSAGES, extra_headers={"x-aig-tag": "t" * 65}
        )
    assert info.value.body["param"] == "x-aig-tag"  # type: ignore[index]


def test_reused_client_request_ids_are_all_logged(stack: Stack) -> None:
    with stack.client() as client:
        for _ in range(3):
            raw = client.chat.completions.with_raw_response.create(
                model="xai/grok-4.3", messages=MESSAGES, extra_headers={"X-Request-Id": "dup-1"}
            )
            assert raw.headers["x-request-id"] == "dup-1"
    stack.gw.flush_log()
    entries = stack.gw.call(request_log.recent(stack.gw.app[DATABASE], limit=50))
    mine = [e for e in entries if e.client_request_id == "dup-1"]
    assert len(mine) == 3 and len({e.id for e in mine}) == 3
