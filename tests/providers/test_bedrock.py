"""Bedrock: credentials and region from options, signatures checked by the simulator over a
real socket, the event-stream framing, and error mapping by exception type."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest

from aigw.config import Secret
from aigw.core.chat import Completion, collect
from aigw.errors import ProviderNotConfigured, UpstreamQuotaExhausted, UpstreamSaturated
from aigw.formats.bedrock_converse import BedrockStreamDecoder
from aigw.formats.eventstream import EventStreamError, EventStreamParser, encode
from aigw.providers.base import Endpoint
from aigw.providers.bedrock import BedrockAdapter, credentials, region
from aigw.simulator import SimConfig, SimulatorThread

SECRET = "right/secret"


def endpoint(
    base: str = "https://bedrock-runtime.eu-west-3.amazonaws.com", key: str = SECRET
) -> Endpoint:
    return Endpoint("bedrock", base, Secret(key), True, "AWS_SECRET_ACCESS_KEY")


def test_credentials_from_config_then_environment() -> None:
    env = {"AWS_ACCESS_KEY_ID": "AKIDENV", "AWS_SESSION_TOKEN": "tok"}
    creds = credentials(endpoint(), env)
    assert (creds.access_key_id, creds.secret_access_key, creds.session_token) == (
        "AKIDENV", SECRET, "tok")  # fmt: skip
    configured = credentials(endpoint(), {**env, "access_key_id": "AKIDCONF"})
    assert configured.access_key_id == "AKIDCONF"
    assert region(endpoint(), {}) == "eu-west-3"
    assert region(endpoint(), {"AWS_REGION": "us-west-2"}) == "us-west-2"
    assert region(endpoint(), {"region": "ap-south-1", "AWS_REGION": "x"}) == "ap-south-1"
    with pytest.raises(ProviderNotConfigured) as info:
        credentials(endpoint(), {})
    assert "AWS_ACCESS_KEY_ID" in info.value.message


def test_the_simulator_checks_signatures() -> None:
    adapter = BedrockAdapter()
    body = json.dumps({"messages": [{"role": "user", "content": [{"text": "hi"}]}]}).encode()

    async def call(base: str, secret: str) -> tuple[int, str]:
        ep = endpoint(base, secret)
        url = adapter.chat_url(ep, "us.anthropic.claude-sonnet-4-6:0", stream=False)
        headers = adapter.request_headers(ep, url, body, {"AWS_ACCESS_KEY_ID": "AKIDX"})
        async with aiohttp.ClientSession() as session:
            async with session.post(url, data=body, headers=headers) as resp:
                return resp.status, resp.headers.get("x-amzn-ErrorType", "")

    with SimulatorThread(SimConfig(aws_secret_access_key=SECRET)) as sim:
        assert asyncio.run(call(sim.url, SECRET))[0] == 200
        status, kind = asyncio.run(call(sim.url, "wrong"))
        assert status == 403 and kind.startswith("InvalidSignatureException")


def test_event_stream_round_trip_and_damage() -> None:
    frames = [
        encode({":event-type": "messageStart", ":message-type": "event"}, b'{"role":"assistant"}'),
        encode({":event-type": "contentBlockDelta", ":message-type": "event"},
               b'{"contentBlockIndex":0,"delta":{"text":"Hi"}}'),
        encode({":event-type": "messageStop", ":message-type": "event"},
               b'{"stopReason":"end_turn"}'),
        encode({":event-type": "metadata", ":message-type": "event"},
               b'{"usage":{"inputTokens":3,"outputTokens":1}}'),
    ]  # fmt: skip
    raw = b"".join(frames)
    decoder = BedrockStreamDecoder()
    events = [e for i in range(0, len(raw), 5) for e in decoder.feed(raw[i : i + 5])]
    got = collect(events, Completion("", ""))
    assert decoder.done and got.text == "Hi" and got.finish_reason == "stop"
    assert got.usage is not None and got.usage.prompt_tokens == 3
    damaged = bytearray(frames[1])
    damaged[-6] ^= 0xFF
    with pytest.raises(EventStreamError):
        EventStreamParser().feed(bytes(damaged))


@pytest.mark.parametrize(
    ("kind", "status", "error"),
    [
        ("ThrottlingException", 429, UpstreamSaturated),
        ("ServiceQuotaExceededException", 400, UpstreamQuotaExhausted),
        ("ServiceUnavailableException", 503, UpstreamSaturated),
    ],
)
def test_errors_map_by_exception_type(kind: str, status: int, error: type) -> None:
    headers = {"x-amzn-ErrorType": f"{kind}:http://internal.amazon.com/coral/com.amazon.bedrock/"}
    mapped = BedrockAdapter().map_error(endpoint(), status, b'{"message":"x"}', headers)
    assert isinstance(mapped, error) and "x" != mapped.message
