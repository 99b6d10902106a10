"""/metrics after real traffic, and the structured log lines of a request."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from tests.harness import http, parse_metrics
from tests.server.routekit import MESSAGES, Routed, call, model_table, start_routed, three_sims

from aigw.config import load_settings
from aigw.observability.logs import JsonFormatter
from aigw.server.app import create_app
from aigw.simulator import SimulatorThread

PINNED = {"policy": "pinned", "providers": ["sima", "simb"]}


@pytest.fixture(scope="module")
def routed(
    sim_server: SimulatorThread, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Routed]:
    root: Path = tmp_path_factory.mktemp("observability")
    with three_sims() as sims:
        yield from start_routed(
            root, sim_server, sims, [model_table("obs", ["sima", "simb"])], access_log=True
        )


def _metrics(routed: Routed) -> dict[str, float]:
    status, headers, raw = http("GET", routed.gw.url + "/metrics")
    assert status == 200 and headers["Content-Type"].startswith("text/plain; version=0.0.4")
    return parse_metrics(raw)


def test_metrics_count_requests_errors_latency_tokens_cost_and_retries(routed: Routed) -> None:
    routed.reset()
    routed.sims["sima"].queue_fault("503")
    body = {"model": "sima/obs", "messages": MESSAGES, "routing": PINNED, "stream": True}
    assert call(routed.stack, body)[0] == 200  # sima fails, simb answers
    bad = {"model": "sima/obs", "messages": MESSAGES, "routing": {"policy": "pinned"}}
    assert call(routed.stack, bad)[0] == 400
    m = _metrics(routed)
    labels = 'endpoint="chat",provider="simb",model="sima/obs"'
    assert m[f'aigw_requests_total{{{labels},status="200"}}'] >= 1
    assert m[f"aigw_request_duration_seconds_count{{{labels}}}"] >= 1
    assert m[f"aigw_time_to_first_token_seconds_count{{{labels}}}"] >= 1
    assert m['aigw_tokens_total{provider="simb",model="sima/obs",kind="completion"}'] > 0
    assert m['aigw_cost_usd_total{provider="simb",model="sima/obs"}'] > 0
    # Refused before a model was chosen: no provider or model to name.
    errors = 'aigw_request_errors_total{endpoint="chat",provider="",model="",'
    assert m[errors + 'type="invalid_request_error"}'] >= 1
    deployment = 'provider="sima",deployment="sima/obs-sima"'
    assert m[f"aigw_upstream_fallbacks_total{{{deployment}}}"] >= 1
    assert m[f'aigw_upstream_failures_total{{{deployment},type="service_unavailable"}}'] >= 1
    assert m[f"aigw_breaker_state{{{deployment}}}"] == 0
    assert m['aigw_deployment_success_rate{provider="simb",deployment="simb/obs-simb"}'] == 1


def test_log_lines_are_json_with_the_request_id(routed: Routed) -> None:
    routed.reset()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("aigw")
    logger.addHandler(handler)
    old_level = logger.level
    logger.setLevel(logging.INFO)
    try:
        routed.sims["sima"].queue_fault("500")
        body = {"model": "sima/obs", "messages": MESSAGES, "routing": PINNED}
        status, headers, _ = call(routed.stack, body)
        routed.gw.flush_log()
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
    assert status == 200
    lines = [orjson.loads(line) for line in stream.getvalue().splitlines()]
    rid = headers["x-request-id"]
    mine = [line for line in lines if line.get("request_id") == rid]
    routing = next(line for line in mine if line["logger"] == "aigw.routing")
    assert "sima/obs-sima" in routing["message"] and routing["level"] == "INFO"
    summary = next(line for line in mine if line["logger"] == "aigw.request")
    assert summary["provider"] == "simb" and summary["status"] == 200
    assert summary["attempts"] == 2 and summary["policy"] == "pinned"
    assert summary["completion_tokens"] > 0 and summary["latency_ms"] > 0


def test_metrics_can_be_turned_off(tmp_path: Path) -> None:
    settings = load_settings(environ={"AIGW_METRICS_ENABLED": "false"})
    app = create_app(settings, environ={})
    paths = {r.resource.canonical for r in app.router.routes() if r.resource is not None}
    assert "/metrics" not in paths and "/v1/health/providers" in paths
