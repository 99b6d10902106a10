"""Chaos: every fault the simulator injects, and for each what the client sees, what the
request log records and that the ledger is right.

Three situations: a model with one deployment (the fault is retried, then reaches the client
as an error), a model with a second deployment (a fault before the first byte is invisible:
the other one answers and is the one billed), and faults after the first byte (a well-formed
error event in the client's protocol, the stream ends cleanly, the delivered part is billed),
on both /v1/chat/completions and /v1/messages, passed through and translated.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from tests.server.routekit import (
    MESSAGES,
    Routed,
    assert_ledger_true,
    call,
    logged,
    model_table,
    new_account,
    sse_events,
    start_routed,
    three_sims,
)

from aigw.simulator import SimulatorThread

MODELS = [model_table("solo", ["sima"]), model_table("duo", ["sima", "simb"])]
PINNED = {"policy": "pinned", "providers": ["sima", "simb"]}
CLAUDE = "anthropic/claude-haiku-4-5"  # on the module's main simulator, Anthropic's format


@pytest.fixture(scope="module")
def module_routed(
    sim_server: SimulatorThread, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Routed]:
    root: Path = tmp_path_factory.mktemp("chaos")
    with three_sims() as sims:
        yield from start_routed(
            root, sim_server, sims, MODELS, upstream_total_timeout=1.5, breaker_min_requests=1000
        )


@pytest.fixture
def routed(module_routed: Routed) -> Routed:
    module_routed.reset()
    return module_routed


def _run(routed: Routed, name: str, body: dict[str, Any], path: str = "/chat/completions") -> tuple:
    key, account = new_account(routed.stack, name)
    status, headers, raw = call(routed.stack, body, key=key, path=path)
    return status, headers, raw, account


# -- one deployment: retried, then the client gets the error ------------------------------


@pytest.mark.parametrize(
    ("fault", "options", "stream", "status", "kind"),
    [
        ("500", {}, False, 500, "server_error"),
        ("502", {}, False, 500, "server_error"),
        ("503", {}, False, 503, "service_unavailable"),
        ("529", {}, False, 503, "service_unavailable"),
        ("429", {"retry_after": 30}, False, 503, "service_unavailable"),
        ("reset", {}, False, 500, "server_error"),
        ("malformed", {}, False, 500, "server_error"),
        ("cut", {}, False, 500, "server_error"),
        ("stall", {}, False, 504, "timeout_error"),
        ("timeout", {}, True, 504, "timeout_error"),
        ("slow_first_token", {"delay_ms": 2000}, True, 504, "timeout_error"),
    ],
)
def test_a_fault_on_the_only_deployment_reaches_the_client_as_an_error(
    routed: Routed, fault: str, options: dict[str, Any], stream: bool, status: int, kind: str
) -> None:
    routed.sims["sima"].queue_fault(fault, count=2, **options)
    body = {"model": "sima/solo", "messages": MESSAGES, "stream": stream}
    got, headers, raw, account = _run(routed, f"solo-{fault}", body)
    error = orjson.loads(raw)["error"]
    assert (got, error["type"], error["code"]) == (status, kind, status)
    expected_attempts = "1" if fault == "429" else "2"  # Retry-After 30 > routing_max_seconds
    assert headers["x-aig-attempts"] == expected_attempts
    if fault == "429":
        assert headers["retry-after"] == "30"
    entry = logged(routed.stack, headers["x-request-id"])
    assert (entry.status, entry.error_type, entry.provider) == (status, kind, "sima")
    assert entry.cost_micro_cents == entry.charged_micro_cents == 0
    assert_ledger_true(routed.stack, account, charged=0)


# -- a second deployment: faults before the first byte are invisible -----------------------


@pytest.mark.parametrize(
    ("fault", "stream"),
    [
        ("500", False),
        ("502", True),
        ("503", False),
        ("529", True),
        ("429", False),
        ("401", False),
        ("429_quota", False),
        ("reset", True),
        ("malformed", False),
        ("cut", False),
        ("stall", False),
        ("timeout", True),
        ("timeout", False),
        ("slow_first_token", True),
    ],
)
def test_a_fault_before_the_first_byte_falls_back(routed: Routed, fault: str, stream: bool) -> None:
    options = {"delay_ms": 2000} if fault == "slow_first_token" else {}
    routed.sims["sima"].queue_fault(fault, **options)
    body: dict[str, Any] = {"model": "sima/duo", "messages": MESSAGES, "routing": PINNED}
    if stream:
        body |= {"stream": True, "stream_options": {"include_usage": True}}
    status, headers, raw, account = _run(routed, f"duo-{fault}-{stream}", body)
    assert status == 200, raw
    assert headers["x-aig-provider"] == "simb" and headers["x-aig-attempts"] == "2"
    if stream:
        events = sse_events(raw)
        assert events[-1] == "[DONE]" and all("error" not in e for e in events[:-1])
        cost = events[-2]["usage"]["cost"]
    else:
        cost = orjson.loads(raw)["usage"]["cost"]
    charged = round(cost * 100_000_000)
    entry = logged(routed.stack, headers["x-request-id"])
    assert (entry.status, entry.error_type, entry.provider) == (200, None, "simb")
    assert entry.charged_micro_cents == charged > 0
    assert_ledger_true(routed.stack, account, charged=charged)


# -- after the first byte: an error event in the client's protocol, the part billed --------


@pytest.mark.parametrize(
    ("fault", "status", "kind"),
    [
        ("cut", 500, "server_error"),
        ("stall", 504, "timeout_error"),
        ("stream_error", 502, "server_error"),
    ],
)
def test_a_fault_mid_stream_ends_it_with_an_error_event(
    routed: Routed, fault: str, status: int, kind: str
) -> None:
    routed.sims["sima"].set_config(output_tokens=60)
    routed.sims["sima"].queue_fault(fault, after_chunks=10)
    body = {"model": "sima/duo", "messages": MESSAGES, "stream": True, "routing": PINNED}
    got, headers, raw, account = _run(routed, f"mid-{fault}", body)
    assert got == 200 and headers["x-aig-provider"] == "sima", "no fallback once bytes went out"
    frames = [f for f in raw.split(b"\n\n") if f.strip()]
    assert not raw.endswith(b"data: [DONE]\n\n")
    last = orjson.loads(frames[-1].removeprefix(b"data: "))
    assert last["error"]["type"] in (kind, "server_error")
    assert len(frames) > 5, "the delivered part reached the client first"
    assert routed.requests("simb") == 0
    entry = logged(routed.stack, headers["x-request-id"])
    assert (entry.status, entry.error_type) == (status, kind)
    assert 0 < entry.charged_micro_cents < 60 * 1000 + 1000, "the delivered part, not all of it"
    assert entry.completion_tokens < 60
    assert_ledger_true(routed.stack, account, charged=entry.charged_micro_cents)


def test_a_malformed_frame_in_a_pass_through_stream_ends_it_with_an_error_event(
    routed: Routed,
) -> None:
    """Same-format streams are not decoded, but every event is checked to be a JSON object
    (a structural check, no decoding): a garbled frame is not forwarded; the client gets an
    error event instead, and what was delivered is billed."""
    routed.sims["sima"].set_config(output_tokens=60)
    routed.sims["sima"].queue_fault("malformed", after_chunks=10)
    body = {"model": "sima/solo", "messages": MESSAGES, "stream": True}
    got, headers, raw, account = _run(routed, "mid-malformed", body)
    assert got == 200 and b"{not json" not in raw
    frames = [f for f in raw.split(b"\n\n") if f.strip()]
    last = orjson.loads(frames[-1].removeprefix(b"data: "))
    assert last["error"]["type"] == "server_error" and "malformed" in last["error"]["message"]
    assert len(frames) > 5, "the delivered part reached the client first"
    entry = logged(routed.stack, headers["x-request-id"])
    assert (entry.status, entry.error_type) == (500, "server_error")
    assert 0 < entry.completion_tokens < 60
    assert_ledger_true(routed.stack, account, charged=entry.charged_micro_cents)


PROTOCOLS = [
    ("/chat/completions", CLAUDE, "main", "openai"),  # translated: Anthropic upstream
    ("/messages", CLAUDE, "main", "anthropic"),  # pass-through
    ("/messages", "sima/solo", "sima", "anthropic"),  # translated: OpenAI upstream
]
CASES = [
    (*where, fault, status)
    for where in PROTOCOLS
    for fault, status in (("cut", 500), ("stall", 504))
]
# A malformed frame is caught in every protocol: decoded when translated, checked to be a
# JSON object when passed through.
CASES += [(*where, "malformed", 500) for where in PROTOCOLS]


@pytest.mark.parametrize(("path", "model", "sim", "protocol", "fault", "status"), CASES)
def test_mid_stream_failures_in_each_protocol(
    routed: Routed, path: str, model: str, sim: str, protocol: str, fault: str, status: int
) -> None:
    upstream = routed.stack.sim if sim == "main" else routed.sims[sim]
    upstream.set_config(output_tokens=60)
    upstream.queue_fault(fault, after_chunks=8)
    body = {"model": model, "max_tokens": 200, "messages": MESSAGES, "stream": True}
    got, headers, raw, account = _run(routed, f"proto-{fault}-{protocol}-{sim}", body, path)
    assert got == 200
    frames = [f for f in raw.split(b"\n\n") if f.strip()]
    last = frames[-1]
    if protocol == "anthropic":
        assert last.startswith(b"event: error\n")
        data = orjson.loads(last.split(b"data: ", 1)[1])
        assert data["type"] == "error" and data["error"]["type"] in ("api_error", "timeout_error")
        assert b"event: message_stop" not in raw
    else:
        data = orjson.loads(last.removeprefix(b"data: "))
        assert data["error"]["code"] == status
        assert b"[DONE]" not in raw
    entry = logged(routed.stack, headers["x-request-id"])
    assert entry.status == status
    assert entry.charged_micro_cents > 0
    assert_ledger_true(routed.stack, account, charged=entry.charged_micro_cents)
