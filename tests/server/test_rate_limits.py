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
