"""Request ids: worked out once per request by the middleware, read by the handlers."""

from __future__ import annotations

import asyncio

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request
from tests.harness import http
from tests.server.conftest import Stack

from aigw.server.appkeys import DATABASE
from aigw.server.middleware import (
    REQUEST_ID,
    client_request_id,
    gateway_middleware,
    gateway_request_id,
    request_id_of,
    request_ids,
)
from aigw.store import request_log

MESSAGES = [{"role": "user", "content": "hello"}]


def _request(sent: str | None = None) -> web.Request:
    headers = {} if sent is None else {REQUEST_ID: sent}
    return make_mocked_request("POST", "/v1/chat/completions", headers=headers)


def _through_middleware(request: web.Request) -> tuple[list[tuple[str, str | None, str]], str]:
    """What a handler sees (gateway, client, answer id), and the response's X-Request-Id."""
    seen: list[tuple[str, str | None, str]] = []

    async def handler(req: web.Request) -> web.StreamResponse:
        for _ in range(2):  # asked twice: the same ids
            seen.append((gateway_request_id(req), client_request_id(req), request_id_of(req)))
        return web.Response()

    response = asyncio.run(gateway_middleware(request, handler))
    return seen, response.headers[REQUEST_ID]


def test_without_a_client_id_the_gateway_id_answers() -> None:
    seen, answered = _through_middleware(_request())
    (gateway, client, answer), again = seen
    assert again == seen[0]
    assert gateway.startswith("req_") and len(gateway) == 28
    assert client is None and answer == gateway == answered


@pytest.mark.parametrize("sent", ["mine-1", "x" * 128, "with space"])
def test_a_sane_client_id_answers_and_the_gateway_id_still_keys_the_log(sent: str) -> None:
    seen, answered = _through_middleware(_request(sent))
    (gateway, client, answer), again = seen
    assert again == seen[0]
    assert client == answer == answered == sent
    assert gateway.startswith("req_") and gateway != sent


@pytest.mark.parametrize("sent", ["", "x" * 129, "tab\there", "nl\x00"])
def test_an_unusable_client_id_is_ignored(sent: str) -> None:
    seen, answered = _through_middleware(_request(sent))
    gateway, client, answer = seen[0]
    assert client is None and answer == gateway == answered


def test_each_request_gets_its_own_gateway_id() -> None:
    made = {_through_middleware(_request("same"))[0][0][0] for _ in range(50)}
    assert len(made) == 50


def test_without_the_middleware_ids_are_worked_out_once_on_first_use() -> None:
    request = _request("theirs")
    first = request_ids(request)
    assert first[1] == "theirs" and first[0].startswith("req_")
    assert request_ids(request) is first
    assert gateway_request_id(request) == first[0] and request_id_of(request) == "theirs"


def test_chat_logs_the_gateway_id_and_answers_with_the_clients(stack: Stack) -> None:
    status, headers, _ = http(
        "POST",
        f"{stack.base_url}/chat/completions",
        json={"model": "xai/grok-4.3", "messages": MESSAGES},
        headers={"Authorization": f"Bearer {stack.key}", REQUEST_ID: "client-42"},
    )
    assert status == 200 and headers[REQUEST_ID] == "client-42"
    status, headers, _ = http(
        "POST",
        f"{stack.base_url}/chat/completions",
        json={"model": "xai/grok-4.3", "messages": MESSAGES},
        headers={"Authorization": f"Bearer {stack.key}"},
    )
    assert status == 200 and headers[REQUEST_ID].startswith("req_")
    own = headers[REQUEST_ID]
    stack.gw.flush_log()
    entries = stack.gw.call(request_log.recent(stack.gw.app[DATABASE], limit=20))
    theirs = [e for e in entries if e.client_request_id == "client-42"]
    assert len(theirs) == 1 and theirs[0].id.startswith("req_") and theirs[0].id != "client-42"
    assert [e.client_request_id for e in entries if e.id == own] == [None]


@pytest.mark.parametrize("path", ["chat/completions", "messages"])
def test_whole_answers_sent_by_their_handler_carry_the_request_id(stack: Stack, path: str) -> None:
    """Whole answers leave from the handler (server/relay.send_now), before the middleware
    could add the header: they carry X-Request-Id all the same, the client's or ours."""
    body = {"model": "xai/grok-4.3", "messages": MESSAGES, "max_tokens": 32}
    auth = {"Authorization": f"Bearer {stack.key}"}
    status, headers, _ = http(
        "POST", f"{stack.base_url}/{path}", json=body, headers={**auth, REQUEST_ID: "c-7"}
    )
    assert status == 200 and headers[REQUEST_ID] == "c-7"
    status, headers, _ = http("POST", f"{stack.base_url}/{path}", json=body, headers=auth)
    assert status == 200 and headers[REQUEST_ID].startswith("req_")
