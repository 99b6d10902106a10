"""server/middleware.py over real sockets: a router miss answers in the API's error shape.

A path that exists asked with the wrong method is 405 with ``Allow`` (errors.MethodNotAllowed);
a path that does not exist stays 404. Both come from aiohttp's router (the fast table of
server/dispatch.py defers every miss to it), whether the path is plain or has parameters.
Under Anthropic's Messages API (``/v1/messages``, also at ``/anthropic``) the same answers, and
a crash, come in Anthropic's error shape, as the handlers there answer every other error.
"""

from __future__ import annotations

import orjson
import pytest
from tests.harness import http
from tests.server.conftest import Stack

from aigw.formats import anthropic_inbound

# (method, path under the gateway's root, the Allow header expected)
WRONG_METHODS = (
    ("GET", "/v1/chat/completions", "POST"),  # POST-only, in the fast table for POST
    ("PUT", "/v1/chat/completions", "POST"),
    ("OPTIONS", "/v1/chat/completions", "POST"),  # no CORS: OPTIONS is just another method
    ("POST", "/v1/models", "GET, HEAD"),  # GET-only: GET routes take HEAD too
    ("DELETE", "/v1/models", "GET, HEAD"),
    ("PUT", "/v1/balance", "GET, HEAD"),
    ("POST", "/healthz", "GET, HEAD"),
    ("POST", "/v1/models/openai/gpt-4o-mini", "GET, HEAD"),  # a variable path: the walk only
    ("PATCH", "/v1/sub-accounts/sa_123", "DELETE, GET, HEAD"),  # two resources' methods
)


def _root(stack: Stack) -> str:
    return stack.base_url.removesuffix("/v1")


@pytest.mark.parametrize(("method", "path", "allow"), WRONG_METHODS)
def test_a_wrong_method_is_405_with_allow_in_the_api_shape(
    stack: Stack, method: str, path: str, allow: str
) -> None:
    status, headers, raw = http(method, _root(stack) + path)
    assert status == 405, (method, path)
    assert headers["Allow"] == allow
    assert orjson.loads(raw) == {
        "error": {
            "message": f"Method {method} is not allowed here; use {allow}.",
            "type": "invalid_request_error",
            "code": 405,
            "param": None,
        }
    }
    assert headers["Content-Type"].startswith("application/json")
    assert headers["X-Request-Id"].startswith("req_")


def test_the_405_comes_before_auth_and_echoes_the_client_request_id(stack: Stack) -> None:
    # With a valid key, and with none: the method is wrong either way, so neither a 401 nor
    # the handler's own answer.
    for headers in ({"Authorization": f"Bearer {stack.key}"}, {}):
        sent = {**headers, "X-Request-Id": "client-id-1"}
        status, got, _ = http("GET", f"{stack.base_url}/chat/completions", headers=sent)
        assert status == 405 and got["Allow"] == "POST"
        assert got["X-Request-Id"] == "client-id-1"


def test_head_on_a_post_only_path_is_405_without_a_body(stack: Stack) -> None:
    status, headers, raw = http("HEAD", f"{stack.base_url}/chat/completions")
    assert status == 405 and raw == b""
    assert headers["Allow"] == "POST" and headers["X-Request-Id"].startswith("req_")


def test_head_and_get_on_get_routes_still_answer(stack: Stack) -> None:
    auth = {"Authorization": f"Bearer {stack.key}"}
    for method in ("GET", "HEAD"):
        status, headers, _ = http(method, f"{stack.base_url}/models", headers=auth)
        assert status == 200, method
        assert "Allow" not in headers
        status, _, _ = http(method, _root(stack) + "/healthz")
        assert status == 200, method


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/nothing-here"),
        ("DELETE", "/v1/nothing-here"),
        ("POST", "/v1/chat/completions/"),  # a trailing slash is another path
        ("GET", "/v1/chat"),
        ("OPTIONS", "/nowhere"),
    ],
)
def test_an_unknown_path_is_still_404(stack: Stack, method: str, path: str) -> None:
    status, headers, raw = http(method, _root(stack) + path)
    assert status == 404, (method, path)
    assert "Allow" not in headers
    assert orjson.loads(raw)["error"] == {
        "message": "Unknown endpoint.",
        "type": "not_found",
        "code": 404,
        "param": None,
    }
    assert headers["X-Request-Id"].startswith("req_")


# -- under Anthropic's Messages API: Anthropic's error shape ---------------------------------

ANTHROPIC_WRONG_METHODS = (
    ("GET", "/v1/messages", "POST"),
    ("PUT", "/v1/messages", "POST"),
    ("DELETE", "/v1/messages/count_tokens", "POST"),
    ("GET", "/anthropic/v1/messages", "POST"),
    ("GET", "/anthropic/v1/messages/count_tokens", "POST"),
)


def _anthropic_error(raw: bytes, kind: str, message: str) -> None:
    body = orjson.loads(raw)
    assert body == {
        "type": "error",
        "error": {"type": kind, "message": message},
        "request_id": body["request_id"],
    }
    assert body["request_id"].startswith("req_")


@pytest.mark.parametrize(("method", "path", "allow"), ANTHROPIC_WRONG_METHODS)
def test_a_wrong_method_on_the_messages_api_is_405_in_anthropics_shape(
    stack: Stack, method: str, path: str, allow: str
) -> None:
    status, headers, raw = http(method, _root(stack) + path)
    assert status == 405, (method, path)
    assert headers["Allow"] == allow
    _anthropic_error(
        raw, "invalid_request_error", f"Method {method} is not allowed here; use {allow}."
    )
    assert headers["Content-Type"].startswith("application/json")
    assert headers["X-Request-Id"] == orjson.loads(raw)["request_id"]


def test_the_messages_405_echoes_the_client_request_id(stack: Stack) -> None:
    # The header is the client's id, the body the gateway's (as the messages handler answers).
    sent = {"x-api-key": stack.key, "X-Request-Id": "client-id-2"}
    status, headers, raw = http("GET", f"{stack.base_url}/messages", headers=sent)
    assert status == 405 and headers["Allow"] == "POST"
    assert headers["X-Request-Id"] == "client-id-2"
    assert orjson.loads(raw)["request_id"].startswith("req_")


@pytest.mark.parametrize(
    "path",
    [
        "/v1/messages/",  # a trailing slash is another path
        "/v1/messages/nothing-here",
        "/v1/messages/count_tokens/x",
        "/anthropic/v1/messages/batches",
    ],
)
def test_an_unknown_path_under_the_messages_api_is_404_in_anthropics_shape(
    stack: Stack, path: str
) -> None:
    status, headers, raw = http("POST", _root(stack) + path, json={})
    assert status == 404, path
    assert "Allow" not in headers
    _anthropic_error(raw, "not_found_error", "Unknown endpoint.")
    assert headers["X-Request-Id"] == orjson.loads(raw)["request_id"]


@pytest.mark.parametrize("path", ["/v1/messagesx", "/v1/message", "/anthropic/v1/models"])
def test_paths_only_alike_the_messages_api_keep_the_api_shape(stack: Stack, path: str) -> None:
    status, _, raw = http("POST", _root(stack) + path, json={})
    assert status == 404, path
    assert orjson.loads(raw)["error"]["type"] == "not_found"


def test_a_crash_in_the_messages_api_is_500_in_anthropics_shape(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An exception the handler does not turn into a GatewayError reaches the middleware,
    # which answers it without internals, in the shape of the API the path belongs to.
    def crash(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug with internals in its message")

    monkeypatch.setattr(anthropic_inbound, "parse_request", crash)
    body = {"model": "xai/grok-4.3", "max_tokens": 8, "messages": []}
    status, headers, raw = http(
        "POST", f"{stack.base_url}/messages", json=body, headers={"x-api-key": stack.key}
    )
    assert status == 500
    _anthropic_error(raw, "api_error", "Internal error.")
    assert headers["X-Request-Id"] == orjson.loads(raw)["request_id"]
