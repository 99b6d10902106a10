"""server/dispatch.py: the exact-path table resolves exactly as aiohttp's own walk does."""

from __future__ import annotations

import asyncio
import warnings
from typing import Any

import orjson
import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request
from aiohttp.web_urldispatcher import UrlDispatcher
from tests.harness import http
from tests.server.conftest import Stack

from aigw.config import load_settings
from aigw.server.app import create_app
from aigw.server.dispatch import FastDispatcher, exact_routes, install

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


async def _handler(request: web.Request) -> web.Response:
    return web.Response()


def _both(router: UrlDispatcher, method: str, path: str) -> tuple[Any, Any]:
    """(fast, aiohttp's own) resolution of one request, as comparable values."""
    request = make_mocked_request(method, path)

    def shape(info: Any) -> Any:
        exc = info.http_exception
        if exc is not None:
            allowed = getattr(exc, "allowed_methods", None)
            return ("error", exc.status, None if allowed is None else sorted(allowed))
        return ("route", info.route, dict(info), type(info))

    async def go() -> tuple[Any, Any]:
        fast = await router.resolve(request)
        slow = await UrlDispatcher.resolve(router, request)
        return shape(fast), shape(slow)

    return asyncio.run(go())


def _paths(router: UrlDispatcher) -> set[str]:
    paths = {"/", "/nothing-here", "/v1", "/v1/", "/v1/chat", "/v1/chat/completions/"}
    for resource in router.resources():
        canonical = resource.canonical
        paths.add(canonical)
        paths.add(canonical + "/")
        # a variable path, with its variables filled in
        paths.add(canonical.replace("{", "").replace("}", "").replace(":.+", "").replace(":.*", ""))
    return paths


@pytest.fixture(scope="module")
def app() -> web.Application:
    app = create_app(load_settings(environ={}), environ={})
    app.freeze()
    return app


def test_the_app_uses_the_fast_dispatcher(app: web.Application) -> None:
    assert isinstance(app.router, FastDispatcher)
    table = exact_routes(app.router)
    assert table[("POST", "/v1/chat/completions")].handler.__name__ == "chat_completions"
    assert ("POST", "/v1/messages") in table
    assert ("GET", "/v1/models") in table and ("HEAD", "/v1/models") in table
    assert ("GET", "/v1/chat/completions") not in table  # 405 is aiohttp's to give


def test_every_route_of_the_app_resolves_as_aiohttp_does(app: web.Application) -> None:
    router = app.router
    assert isinstance(router, FastDispatcher)
    checked = 0
    for path in sorted(_paths(router)):
        for method in METHODS:
            fast, slow = _both(router, method, path)
            assert fast == slow, (method, path)
            checked += 1
    assert checked > 200


def test_no_deprecation_warning_and_no_table_before_freeze() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        app = web.Application()
        install(app)
    app.router.add_post("/a", _handler)
    assert app.router._exact == {}  # type: ignore[attr-defined]
    app.freeze()
    assert ("POST", "/a") in app.router._exact  # type: ignore[attr-defined]


def test_tricky_registrations_fall_back_to_the_walk() -> None:
    app = web.Application()
    install(app)
    r = app.router
    r.add_get("/{tail:.*}", _handler)  # registered first: it wins "/" in aiohttp's walk
    r.add_get("/", _handler)
    r.add_post("/any", _handler)
    r.add_route("*", "/any", _handler)  # ANY: left to the walk
    r.add_get("/slash/", _handler)  # indexed under "/slash": left to the walk
    r.add_post("/twice", _handler)
    r.add_get("/between", _handler)
    r.add_post("/twice", _handler)  # a second resource, same path: never reached
    r.add_get("/x/{id}", _handler)
    r.add_get("/x/plain", _handler)  # same entry as nothing: plain, exact
    app.freeze()
    table = exact_routes(r)
    assert ("GET", "/") not in table
    assert ("GET", "/any") not in table and ("POST", "/any") in table
    assert ("GET", "/slash/") not in table
    twice = [res for res in r.resources() if res.canonical == "/twice"]
    assert len(twice) == 2 and table[("POST", "/twice")].resource is twice[0]
    for path in (
        "/",
        "/any",
        "/slash/",
        "/slash",
        "/twice",
        "/between",
        "/x/1",
        "/x/plain",
        "/nope",
    ):
        for method in METHODS:
            fast, slow = _both(r, method, path)
            assert fast == slow, (method, path)


def test_domain_sub_apps_disable_the_table() -> None:
    app = web.Application()
    install(app)
    app.router.add_post("/a", _handler)
    sub = web.Application()
    sub.router.add_post("/a", _handler)
    app.add_domain("example.com", sub)
    app.freeze()
    assert exact_routes(app.router) == {}


# Over the wire: the middleware still renders aiohttp's 404 / 405 in the API's error shape.


def test_get_on_chat_completions_is_the_method_error_in_the_api_shape(stack: Stack) -> None:
    # aiohttp's 405 goes through the middleware's mapping (server/middleware.py): the API
    # answers it as 405 with Allow, naming the method; unchanged by the fast path.
    status, headers, raw = http("GET", f"{stack.base_url}/chat/completions")
    assert status == 405
    error = orjson.loads(raw)["error"]
    assert error == {
        "message": "Method GET is not allowed here; use POST.",
        "type": "invalid_request_error",
        "code": 405,
        "param": None,
    }
    assert headers["Allow"] == "POST"
    assert headers["X-Request-Id"].startswith("req_")


def test_the_table_and_the_walk_give_the_same_405(app: web.Application) -> None:
    # A method the fast table lacks on a path it has (GET /v1/chat/completions), and one on a
    # variable path it never holds (POST /v1/models/{id}): both resolve to aiohttp's 405 with
    # the same allowed methods, so the middleware renders the same answer.
    for method, path, allowed in (
        ("GET", "/v1/chat/completions", ["POST"]),
        ("POST", "/v1/models", ["GET", "HEAD"]),
        ("POST", "/v1/models/openai/gpt-4o-mini", ["GET", "HEAD"]),
    ):
        fast, slow = _both(app.router, method, path)
        assert fast == slow == ("error", 405, allowed), (method, path)


def test_unknown_path_is_404_in_the_api_shape(stack: Stack) -> None:
    for path in ("/nothing-here", "/chat/completions/", "/chat"):
        status, headers, raw = http("POST", f"{stack.base_url}{path}", json={})
        assert status == 404, path
        assert orjson.loads(raw)["error"]["type"] == "not_found"
        assert headers["X-Request-Id"]


def test_head_on_a_get_route_and_request_id_on_success(stack: Stack) -> None:
    status, headers, raw = http("HEAD", stack.base_url.removesuffix("/v1") + "/healthz")
    assert status == 200 and raw == b""
    assert headers["X-Request-Id"].startswith("req_")
    status, headers, _ = http("GET", f"{stack.base_url}/models", headers={"X-Request-Id": "mine"})
    assert status in (200, 401) and headers["X-Request-Id"] == "mine"
