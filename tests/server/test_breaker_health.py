"""Circuit breakers per deployment, the health statistics at /v1/health/providers, and the
policies they drive (lowest_latency, highest_throughput)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from tests.harness import http
from tests.server.routekit import (
    MESSAGES,
    Routed,
    call,
    model_table,
    new_account,
    start_routed,
    three_sims,
)

from aigw.simulator import SimulatorThread

MODELS = [
    model_table("brk", ["sima"]),
    model_table("probe", ["sima"]),
    model_table("around", ["sima", "simb"]),
    model_table("hv", ["sima"]),
    model_table("lat", ["sima", "simb"]),
    model_table("tput", ["sima", "simb"]),
    model_table("byok", ["sima"]),
]
PINNED = {"policy": "pinned", "providers": ["sima", "simb"]}
STATS_TTL = 1.05  # routing reuses a deployment's statistics for a second


@pytest.fixture(scope="module")
def module_routed(
    sim_server: SimulatorThread, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Routed]:
    root: Path = tmp_path_factory.mktemp("breakers")
    with three_sims() as sims:
        yield from start_routed(root, sim_server, sims, MODELS)


@pytest.fixture
def routed(module_routed: Routed) -> Routed:
    module_routed.reset()
    return module_routed


def _chat(routed: Routed, model: str, **extra: Any) -> tuple[int, Any, Any]:
    status, headers, raw = call(routed.stack, {"model": model, "messages": MESSAGES, **extra})
    return status, headers, orjson.loads(raw) if raw.startswith(b"{") else raw


def _deployment(routed: Routed, key: str) -> dict[str, Any]:
    status, _, raw = http("GET", routed.gw.url + "/v1/health/providers")  # no key needed
    assert status == 200
    for provider in orjson.loads(raw)["data"]:
        for deployment in provider["deployments"]:
            if deployment["deployment"] == key:
                return dict(deployment)
    raise AssertionError(f"{key} is not in /v1/health/providers")


def _metric(routed: Routed, line_start: str) -> float:
    status, _, raw = http("GET", routed.gw.url + "/metrics")
    assert status == 200
    for line in raw.decode().splitlines():
        if line.startswith(line_start):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"no metric line starts with {line_start}")


def test_breaker_opens_fails_fast_and_a_probe_closes_it(routed: Routed) -> None:
    routed.sims["sima"].queue_fault("500", count=4)
    for _ in range(2):  # two attempts each: the 4th failure (breaker_min_requests) opens it
        status, _, _ = _chat(routed, "sima/brk")
        assert status == 500
    assert routed.requests("sima") == 4
    status, headers, body = _chat(routed, "sima/brk")
    assert status == 503 and body["error"]["type"] == "service_unavailable"
    assert headers["retry-after"] == "1" and headers["x-aig-attempts"] == "0"
    assert routed.requests("sima") == 4, "an open breaker makes no upstream call"
    view = _deployment(routed, "sima/brk-sima")
    assert (view["breaker"], view["status"]) == ("open", "down")
    assert view["failures"] == {"server_error": 4} and view["success_rate"] == 0.0
    breaker = 'aigw_breaker_state{provider="sima",deployment="sima/brk-sima"}'
    assert _metric(routed, breaker) == 2
    time.sleep(0.55)  # breaker_cooldown_seconds
    status, headers, _ = _chat(routed, "sima/brk")  # the half-open probe, which succeeds
    assert status == 200 and headers["x-aig-attempts"] == "1"
    assert _deployment(routed, "sima/brk-sima")["breaker"] == "closed"
    assert _metric(routed, breaker) == 0
    opens = 'aigw_breaker_opens_total{provider="sima",deployment="sima/brk-sima"}'
    assert _metric(routed, opens) == 1


def test_a_failed_probe_opens_the_breaker_again(routed: Routed) -> None:
    routed.sims["sima"].queue_fault("500", count=5)
    for _ in range(2):
        _chat(routed, "sima/probe")
    time.sleep(0.55)
    status, headers, _ = _chat(routed, "sima/probe")
    assert status == 500 and headers["x-aig-attempts"] == "1", "one probe, no retry"
    status, _, _ = _chat(routed, "sima/probe")
    assert status == 503
    assert routed.requests("sima") == 5


def test_an_open_breaker_is_routed_around(routed: Routed) -> None:
    routed.sims["sima"].queue_fault("500", count=10)
    for _ in range(4):
        status, headers, _ = _chat(routed, "sima/around", routing=PINNED)
        assert status == 200 and headers["x-aig-attempts"] == "2"
    status, headers, _ = _chat(routed, "sima/around", routing=PINNED)
    assert status == 200 and headers["x-aig-provider"] == "simb"
    assert headers["x-aig-attempts"] == "1", "sima's open breaker is skipped"
    assert routed.requests("sima") == 4


def test_health_reports_trailing_window_statistics(routed: Routed) -> None:
    routed.sims["sima"].set_config(ttft_ms=40, tokens_per_second=400, output_tokens=20)
    for _ in range(3):
        status, _, _ = _chat(routed, "sima/hv", stream=True)
        assert status == 200
    view = _deployment(routed, "sima/hv-sima")
    assert (view["provider"], view["breaker"], view["status"]) == ("sima", "closed", "healthy")
    assert view["requests"] == 3 and view["success_rate"] == 1.0
    assert 40 <= view["p50_ttft_ms"] < 1000
    assert view["p50_latency_ms"] >= view["p50_ttft_ms"]
    assert 50 < view["tokens_per_second"] < 2000
    assert view["attempts"] == 3 and view["failures"] == {}


def test_lowest_latency_follows_the_measured_time_to_first_token(routed: Routed) -> None:
    routed.sims["sima"].set_config(ttft_ms=150)
    for provider in ("sima", "simb"):  # measure both
        for _ in range(2):
            pinned = {"policy": "pinned", "providers": [provider]}
            assert _chat(routed, "sima/lat", stream=True, routing=pinned)[0] == 200
    time.sleep(STATS_TTL)
    for _ in range(5):
        status, headers, _ = _chat(
            routed, "sima/lat", stream=True, routing={"policy": "lowest_latency"}
        )
        assert status == 200 and headers["x-aig-provider"] == "simb"
        assert headers["x-aig-route-policy"] == "lowest_latency"


def test_highest_throughput_follows_the_measured_tokens_per_second(routed: Routed) -> None:
    routed.sims["sima"].set_config(tokens_per_second=150, output_tokens=20)
    routed.sims["simb"].set_config(tokens_per_second=2000, output_tokens=20)
    for provider in ("sima", "simb"):
        pinned = {"policy": "pinned", "providers": [provider]}
        assert _chat(routed, "sima/tput", stream=True, routing=pinned)[0] == 200
    time.sleep(STATS_TTL)
    routing = {"policy": "highest_throughput"}
    for _ in range(3):
        status, headers, _ = _chat(routed, "sima/tput", stream=True, routing=routing)
        assert status == 200 and headers["x-aig-provider"] == "simb"


def test_an_accounts_own_refused_key_does_not_open_the_shared_breaker(routed: Routed) -> None:
    key, _ = new_account(routed.stack, "byok-breaker")
    status, _, raw = call(
        routed.stack, {"provider": "sima", "api_key": "sk-own-revoked-1234"}, key=key,
        path="/provider-keys",
    )  # fmt: skip
    assert status == 201, raw
    routed.sims["sima"].queue_fault("401", count=6)
    for _ in range(6):
        status, _, raw = call(routed.stack, {"model": "sima/byok", "messages": MESSAGES}, key=key)
        assert status == 500, raw
    assert _deployment(routed, "sima/byok-sima")["breaker"] == "closed"
    status, headers, _ = _chat(routed, "sima/byok")  # the gateway's own key: still served
    assert status == 200 and headers["x-aig-attempts"] == "1"
