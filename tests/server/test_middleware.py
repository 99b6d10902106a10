"""server/middleware.py over real sockets: a router miss answers in the API's error shape.

A path that exists asked with the wrong method is 405 with ``Allow`` (errors.MethodNotAllowed);
a path that does not exist stays 404. Both come from aiohttp's router (the fast table of
server/dispatch.py defers every miss to it), whether the path is plain or has parameters.
"""

from __future__ import annotations

import orjson
import pytest
from tests.harness import http
from tests.server.conftest import Stack

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
