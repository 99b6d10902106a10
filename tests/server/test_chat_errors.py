"""Every error the gateway gives, in OpenAI's shape, mapped to the SDK's exception classes
(and the Messages API's 413, in Anthropic's shape)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai
import orjson
import pytest
from tests.harness import http
from tests.server.conftest import Stack, start_stack

from aigw.simulator import SimulatorThread

MESSAGES = [{"role": "user", "content": "hello"}]


def _error(exc: openai.APIStatusError) -> dict[str, Any]:
    body = exc.response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"message", "type", "code", "param"}
    assert body["error"]["code"] == exc.status_code
    assert exc.response.headers["x-request-id"]
    error: dict[str, Any] = body["error"]
    return error


def test_missing_messages_is_400_naming_the_field(stack: Stack) -> None:
    with stack.client() as client, pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(model="xai/grok-4.3", messages=[])
    error = _error(info.value)
    assert error["type"] == "invalid_request_error" and error["param"] == "messages"


@pytest.mark.parametrize(
    ("body", "param"),
    [
        (b"{oops", "body"),
        # No model at all is the auto-router (tests/server/test_auto_router.py); a bad one is not.
        (orjson.dumps({"model": 5, "messages": MESSAGES}), "model"),
        (orjson.dumps({"model": "xai/grok-4.3"}), "messages"),
        (
            orjson.dumps({"model": "xai/grok-4.3", "messages": MESSAGES, "temperature": "x"}),
            "temperature",
        ),
        (orjson.dumps({"model": "xai/grok-4.3", "messages": [{"role": 1}]}), "messages[0].role"),
    ],
)
def test_bad_bodies_over_the_wire(stack: Stack, body: bytes, param: str) -> None:
    status, headers, raw = http(
        "POST",
        f"{stack.base_url}/chat/completions",
        data=body,
        headers={"Authorization": f"Bearer {stack.key}", "Content-Type": "application/json"},
    )
    assert status == 400
    error = orjson.loads(raw)["error"]
    assert error == {**error, "type": "invalid_request_error", "code": 400, "param": param}
    assert headers["X-Request-Id"]
    assert stack.sim.stats["requests"] == 0, "bad requests never reach the upstream"


def test_bad_key_is_401(stack: Stack) -> None:
    with openai.OpenAI(base_url=stack.base_url, api_key="sk-aig-" + "x" * 40, max_retries=0) as c:
        with pytest.raises(openai.AuthenticationError) as info:
            c.chat.completions.create(model="xai/grok-4.3", messages=MESSAGES)
    assert _error(info.value)["type"] == "authentication_error"


def test_missing_key_is_401(stack: Stack) -> None:
    status, _, raw = http("POST", f"{stack.base_url}/chat/completions", json={})
    assert status == 401
    assert orjson.loads(raw)["error"]["type"] == "authentication_error"


def test_unknown_model_is_404(stack: Stack) -> None:
    with stack.client() as client, pytest.raises(openai.NotFoundError) as info:
        client.chat.completions.create(model="nope/not-a-model", messages=MESSAGES)
    error = _error(info.value)
    assert error["type"] == "model_not_found" and error["param"] == "model"


def test_unknown_endpoint_is_404_not_found(stack: Stack) -> None:
    status, headers, raw = http("GET", f"{stack.base_url}/nothing-here")
    assert status == 404
    assert orjson.loads(raw)["error"]["type"] == "not_found"
    assert headers["X-Request-Id"]


def test_provider_without_key_names_the_variable(stack: Stack) -> None:
    with stack.client() as client, pytest.raises(openai.InternalServerError) as info:
        client.chat.completions.create(model="mistral/mistral-large-latest", messages=MESSAGES)
    error = _error(info.value)
    assert info.value.status_code == 503
    assert error["type"] == "provider_not_configured"
    assert "MISTRAL_API_KEY" in error["message"]


def test_upstream_500_after_retries_is_500(stack: Stack) -> None:
    stack.sim.queue_fault("500", count=5)
    with stack.client() as client, pytest.raises(openai.InternalServerError) as info:
        client.chat.completions.create(model="xai/grok-4.3", messages=MESSAGES)
    assert info.value.status_code == 500
    assert _error(info.value)["type"] == "server_error"
    assert stack.sim.stats["requests"] == 2, "one retry (upstream_max_attempts=2)"


def test_upstream_500_once_is_retried_transparently(stack: Stack) -> None:
    stack.sim.queue_fault("502", count=1)
    with stack.client() as client:
        completion = client.chat.completions.create(model="xai/grok-4.3", messages=MESSAGES)
    assert completion.choices[0].message.content
    assert stack.sim.stats["requests"] == 2


@pytest.mark.parametrize("fault", ["429", "503"])
def test_upstream_saturated_is_503(stack: Stack, fault: str) -> None:
    stack.sim.queue_fault(fault, count=5, retry_after=30)
    with stack.client() as client, pytest.raises(openai.InternalServerError) as info:
        client.chat.completions.create(model="xai/grok-4.3", messages=MESSAGES)
    assert info.value.status_code == 503
    assert _error(info.value)["type"] == "service_unavailable"
    if fault == "429":
        assert info.value.response.headers["retry-after"] == "30"


def test_upstream_quota_is_not_retried(stack: Stack) -> None:
    stack.sim.queue_fault("429_quota", count=5)
    with stack.client() as client, pytest.raises(openai.InternalServerError):
        client.chat.completions.create(model="xai/grok-4.3", messages=MESSAGES)
    assert stack.sim.stats["requests"] == 1


def test_upstream_401_does_not_leak_and_is_not_the_clients_fault(stack: Stack) -> None:
    stack.sim.queue_fault("401", count=5)
    with stack.client() as client, pytest.raises(openai.InternalServerError) as info:
        client.chat.completions.create(model="xai/grok-4.3", messages=MESSAGES)
    text = info.value.response.text
    assert "7788" not in text and "upstream-secret" not in text
    assert stack.sim.url not in text and "127.0.0.1" not in text


def test_upstream_400_is_the_clients_400(stack: Stack) -> None:
    stack.sim.queue_fault("400", count=1)
    with stack.client() as client, pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(model="xai/grok-4.3", messages=MESSAGES)
    assert _error(info.value)["type"] == "invalid_request_error"
    assert stack.sim.stats["requests"] == 1


def test_malformed_upstream_json_is_500(stack: Stack) -> None:
    stack.sim.queue_fault("malformed", count=2)  # one retry (upstream_max_attempts=2)
    with stack.client() as client, pytest.raises(openai.InternalServerError) as info:
        client.chat.completions.create(model="xai/grok-4.3", messages=MESSAGES)
    assert _error(info.value)["type"] == "server_error"


def test_cut_stream_ends_with_an_error_event(stack: Stack) -> None:
    stack.sim.queue_fault("cut", count=1, after_chunks=3)
    with stack.client() as client:
        stream = client.chat.completions.create(
            model="xai/grok-4.3", messages=MESSAGES, stream=True
        )
        with pytest.raises(openai.APIError) as info:
            for _ in stream:
                pass
    assert "upstream stream" in str(info.value)


def test_connection_reset_before_answer_is_retried_then_500(stack: Stack) -> None:
    stack.sim.queue_fault("reset", count=5)
    with stack.client() as client, pytest.raises(openai.InternalServerError) as info:
        client.chat.completions.create(model="xai/grok-4.3", messages=MESSAGES)
    assert info.value.status_code == 500
    assert stack.sim.stats["requests"] >= 2


# -- a gateway with small limits --------------------------------------------------------


@pytest.fixture(scope="module")
def tight_stack(
    sim_server: SimulatorThread, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    path: Path = tmp_path_factory.mktemp("tight") / "aigw.db"
    yield from start_stack(
        f"sqlite:///{path}",
        sim_server,
        max_body_bytes=2048,
        upstream_total_timeout=1.0,
        upstream_max_attempts=1,
    )


def test_body_over_the_limit_is_413(tight_stack: Stack) -> None:
    tight_stack.sim.reset()
    big = [{"role": "user", "content": "x" * 4096}]
    with tight_stack.client() as client, pytest.raises(openai.APIStatusError) as info:
        client.chat.completions.create(model="xai/grok-4.3", messages=big)
    assert info.value.status_code == 413
    assert _error(info.value)["type"] == "request_too_large"


@pytest.mark.parametrize("path", ["/v1/messages", "/v1/messages/count_tokens"])
def test_messages_body_over_the_limit_is_413_in_anthropics_shape(
    tight_stack: Stack, path: str
) -> None:
    # The Messages API reads its body in the handler, which answers in Anthropic's shape.
    big = {
        "model": "xai/grok-4.3",
        "max_tokens": 8,
        "messages": [{"role": "user", "content": "x" * 4096}],
    }
    auth = {"x-api-key": tight_stack.key}
    status, headers, raw = http("POST", tight_stack.gw.url + path, json=big, headers=auth)
    assert status == 413
    body = orjson.loads(raw)
    assert body["type"] == "error"
    assert body["error"] == {"type": "request_too_large", "message": "Request body is too large."}
    assert headers["X-Request-Id"] == body["request_id"]


def test_upstream_timeout_is_504(tight_stack: Stack) -> None:
    tight_stack.sim.reset()
    tight_stack.sim.queue_fault("timeout", count=1)
    with tight_stack.client() as client, pytest.raises(openai.InternalServerError) as info:
        client.chat.completions.create(model="xai/grok-4.3", messages=MESSAGES)
    assert info.value.status_code == 504
    assert _error(info.value)["type"] == "timeout_error"
