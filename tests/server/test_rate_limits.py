"""Rate limits through the gateway: headers on every answer, 429 with Retry-After."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import openai
import orjson
import pytest
from tests.harness import http
from tests.server.conftest import Stack, start_stack

from aigw.simulator import SimulatorThread

MESSAGES = [{"role": "user", "content": "hi"}]


@pytest.fixture(scope="module")
def limited(
    sim_server: SimulatorThread, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    path: Path = tmp_path_factory.mktemp("limited") / "aigw.db"
    yield from start_stack(f"sqlite:///{path}", sim_server, rate_limit_rpm=6, rate_limit_tpm=100000)


def test_headers_then_429_with_retry_after(limited: Stack) -> None:
    _, key = limited.admin("POST", "/admin/keys", {"account": "acme"})
    with openai.OpenAI(base_url=limited.base_url, api_key=key["key"], max_retries=0) as client:
        raw = client.chat.completions.with_raw_response.create(
            model="xai/grok-4.3", messages=MESSAGES
        )
        assert raw.headers["x-ratelimit-limit-requests"] == "6"
        assert raw.headers["x-ratelimit-remaining-requests"] == "1"  # burst of 2 in 10 s
        assert raw.headers["x-ratelimit-limit-tokens"] == "100000"
        stream = client.chat.completions.with_raw_response.create(
            model="xai/grok-4.3", messages=MESSAGES, stream=True
        )
        assert stream.headers["x-ratelimit-remaining-requests"] == "0"
        list(stream.parse())
        with pytest.raises(openai.RateLimitError) as info:
            client.chat.completions.create(model="xai/grok-4.3", messages=MESSAGES)
    response = info.value.response
    assert response.json()["error"]["type"] == "rate_limit_error"
    assert 1 <= int(response.headers["retry-after"]) <= 10
    assert response.headers["x-ratelimit-remaining-requests"] == "0"


def test_sub_account_rpm_applies_to_its_keys(limited: Stack) -> None:
    status, _, raw = http(
        "POST",
        f"{limited.base_url}/sub-accounts",
        json={"name": "tiny", "rate_limit_rpm": 3},
        headers={"Authorization": f"Bearer {limited.key}"},
    )
    assert status == 201
    sub_key = orjson.loads(raw)["key"]
    with openai.OpenAI(base_url=limited.base_url, api_key=sub_key, max_retries=0) as client:
        raw_response = client.chat.completions.with_raw_response.create(
            model="xai/grok-4.3", messages=MESSAGES
        )
        assert raw_response.headers["x-ratelimit-limit-requests"] == "3"  # the tighter one
        with pytest.raises(openai.RateLimitError):
            client.chat.completions.create(model="xai/grok-4.3", messages=MESSAGES)


def _limit_header(stack: Stack, key: str) -> str | None:
    with openai.OpenAI(base_url=stack.base_url, api_key=key, max_retries=0) as client:
        raw = client.chat.completions.with_raw_response.create(
            model="xai/grok-4.3", messages=MESSAGES
        )
    return raw.headers.get("x-ratelimit-limit-requests")


def test_account_defaults_and_key_overrides(limited: Stack) -> None:
    import time

    status, _ = limited.admin("POST", "/admin/accounts", {"name": "tuned"})
    assert status == 201
    limited.admin("POST", "/admin/accounts/tuned/topup", {"amount": "5"})
    status, body = limited.admin("PATCH", "/admin/accounts/tuned", {"rate_limit_rpm": 30})
    assert status == 200, body
    _, key = limited.admin("POST", "/admin/keys", {"account": "tuned"})
    assert _limit_header(limited, key["key"]) == "30"
    _, free = limited.admin("POST", "/admin/keys", {"account": "tuned", "rate_limit_rpm": 0})
    assert _limit_header(limited, free["key"]) is None, "0: this key has no request limit"
    # Changing the account's default reaches its existing keys within the refresh interval.
    limited.admin("PATCH", "/admin/accounts/tuned", {"rate_limit_rpm": 60})
    deadline = time.monotonic() + 5
    while _limit_header(limited, key["key"]) != "60":
        assert time.monotonic() < deadline
        time.sleep(0.2)
    status, body = limited.admin("PATCH", "/admin/accounts/tuned", {"rate_limit_rpm": -1})
    assert status == 400 and body["error"]["param"] == "rate_limit_rpm"


def test_messages_endpoint_is_limited_too(limited: Stack) -> None:
    _, key = limited.admin("POST", "/admin/keys", {"account": "acme"})
    codes = []
    for _ in range(3):
        status, headers, _ = http(
            "POST",
            f"{limited.gw.url}/v1/messages",
            json={"model": "xai/grok-4.3", "max_tokens": 8, "messages": MESSAGES},
            headers={"x-api-key": key["key"], "anthropic-version": "2023-06-01"},
        )
        codes.append(status)
    assert codes == [200, 200, 429]
    assert 1 <= int(headers["Retry-After"]) <= 10


def _remaining_tokens_after(stack: Stack, *, mcp_first: bool) -> int:
    _, key = stack.admin("POST", "/admin/keys", {"account": "acme"})
    auth = {"Authorization": f"Bearer {key['key']}"}
    if mcp_first:  # the MCP chat tool: its tokens count against the key's token limit too
        call = {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "tools/call",
            "params": {"name": "chat", "arguments": {"model": "xai/grok-4.3", "prompt": "hi"}},
        }
        mcp = stack.base_url.removesuffix("/v1") + "/mcp"
        status, _, raw = http("POST", mcp, json=call, headers=auth)
        assert status == 200 and "error" not in orjson.loads(raw)
    status, headers, _ = http(
        "POST",
        f"{stack.base_url}/chat/completions",
        json={"model": "xai/grok-4.3", "messages": MESSAGES},
        headers=auth,
    )
    assert status == 200
    return int(headers["x-ratelimit-remaining-tokens"])


def test_mcp_chat_tokens_count_against_the_token_limit(limited: Stack) -> None:
    alone = _remaining_tokens_after(limited, mcp_first=False)
    after_mcp = _remaining_tokens_after(limited, mcp_first=True)
    assert after_mcp < alone
