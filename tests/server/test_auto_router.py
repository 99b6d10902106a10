"""The auto-router end to end: the official SDKs against the gateway and the simulator.

A stack of its own with a route fee, so the savings arithmetic and the charge include one.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import anthropic
import openai
import orjson
import pytest
from tests.harness import http
from tests.server.conftest import Stack, start_stack

from aigw.catalog.loader import Catalog
from aigw.routing.auto import AutoRouter, price
from aigw.routing.complexity import classify, expected_output_tokens
from aigw.server.appkeys import CATALOG, ROUTER
from aigw.simulator import SimulatorThread

FEE_CENTS = Decimal("0.25")
SIMPLE = [{"role": "user", "content": "What is the capital of France?"}]
HARD = [
    {
        "role": "user",
        "content": "Prove the theorem step by step and analyze the architecture trade-offs.\n"
        "```python\ndef f(x):\n    return x\n```",
    }
]
AUTO_HEADERS = (
    "X-Auto-Routed",
    "X-Routing-Selected",
    "X-Routing-Reason",
    "X-Routing-Complexity",
    "X-Routing-Quality",
    "X-Auto-Baseline-Model",
    "X-Auto-Baseline-Cost-Cents",
    "X-Auto-Route-Fee-Cents",
    "X-Auto-Savings-Cents",
)


@pytest.fixture(scope="module")
def auto_stack(
    sim_server: SimulatorThread, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    path: Path = tmp_path_factory.mktemp("auto") / "aigw.db"
    yield from start_stack(f"sqlite:///{path}", sim_server, auto_route_fee_cents=FEE_CENTS)


@pytest.fixture
def stack(auto_stack: Stack) -> Stack:
    auto_stack.sim.reset()
    return auto_stack


def _auto(stack: Stack) -> AutoRouter:
    return stack.gw.app[ROUTER].auto


def _catalog(stack: Stack) -> Catalog:
    return stack.gw.app[CATALOG]


def _estimate(stack: Stack, model_id: str, body: dict[str, Any]) -> int:
    """What the router should have priced ``model_id`` at for this request (µ¢)."""
    model = _catalog(stack).get(model_id)
    assert model is not None
    read = classify(body)
    return price(model, read.prompt_tokens, expected_output_tokens(read, body))[0]


def _cents(value: str) -> Decimal:
    return Decimal(value) * 1_000_000  # µ¢


def check_headers(stack: Stack, headers: Any, body: dict[str, Any], fee: Decimal) -> str:
    """Every header present and consistent; returns the selected model."""
    for name in AUTO_HEADERS:
        assert headers.get(name), name
    assert headers["X-Auto-Routed"] == "true"
    selected = headers["X-Routing-Selected"]
    baseline = headers["X-Auto-Baseline-Model"]
    level = headers["X-Routing-Complexity"]
    assert level == classify(body).level
    auto = _auto(stack)
    quality = auto.priors.quality(selected)
    assert quality is not None and headers["X-Routing-Quality"] == f"{quality:.3f}"
    if selected != baseline:
        assert quality >= auto.config.floors[level], "the pick clears the floor"
    charged_fee = Decimal(0) if selected == baseline else fee
    assert Decimal(headers["X-Auto-Route-Fee-Cents"]) == charged_fee
    base_cost = _cents(headers["X-Auto-Baseline-Cost-Cents"])
    assert base_cost == _estimate(stack, baseline, body)
    selected_cost = _estimate(stack, selected, body)
    savings = _cents(headers["X-Auto-Savings-Cents"])
    assert savings == base_cost - selected_cost - charged_fee * 1_000_000
    assert savings >= 0, "never more than the baseline"
    return selected


def test_auto_non_streaming_headers_and_charge(stack: Stack) -> None:
    client = stack.client()
    raw = client.chat.completions.with_raw_response.create(model="auto", messages=SIMPLE)
    completion = raw.parse()
    body = {"model": "auto", "messages": SIMPLE}
    selected = check_headers(stack, raw.headers, body, FEE_CENTS)
    assert completion.model == selected
    assert raw.headers["x-aig-route-policy"] == "auto"
    assert raw.headers["X-Routing-Complexity"] == "simple"
    assert stack.last_upstream_request()["body"].get("model") == selected.split("/", 1)[1]
    # The fee is charged through billing: the ledger charge is the call's cost plus the fee.
    stack.gw.flush_log()
    request_id = raw.headers["x-request-id"]
    status, _, data = http(
        "GET",
        f"{stack.gw.url}/v1/usage/requests/{request_id}",
        headers={"Authorization": f"Bearer {stack.key}"},
    )
    assert status == 200, data
    entry = orjson.loads(data)
    assert entry["model"] == selected
    cost = Decimal(raw.headers["X-Cost-Cents"])
    assert Decimal(str(entry["charged_cents"])) == cost + FEE_CENTS
    assert -Decimal(str(entry["ledger"][0]["amount_cents"])) == cost + FEE_CENTS


def test_streaming_headers_arrive_before_the_first_chunk(stack: Stack) -> None:
    client = stack.client()
    body = {"model": "auto/text", "messages": SIMPLE}
    with client.chat.completions.with_streaming_response.create(
        model="auto/text", messages=SIMPLE, stream=True
    ) as response:
        selected = check_headers(stack, response.headers, body, FEE_CENTS)
        chunks = list(response.parse())
    assert chunks and all(c.model == selected for c in chunks if c.choices)


def test_no_model_at_all_is_auto(stack: Stack) -> None:
    status, headers, data = http(
        "POST",
        f"{stack.base_url}/chat/completions",
        json={"messages": SIMPLE},
        headers={"Authorization": f"Bearer {stack.key}"},
    )
    assert status == 200, data
    selected = check_headers(stack, headers, {"messages": SIMPLE}, FEE_CENTS)
    assert orjson.loads(data)["model"] == selected


def test_routing_biases(stack: Stack) -> None:
    client = stack.client()
    body = {"model": "auto", "messages": SIMPLE}
    picks: dict[str, str] = {}
    for bias in ("cost", "speed", "quality", "auto"):
        raw = client.chat.completions.with_raw_response.create(
            model="auto", messages=SIMPLE, extra_headers={"x-routing": bias}
        )
        picks[bias] = check_headers(stack, raw.headers, body, FEE_CENTS)
    priors = _auto(stack).priors
    costs = {bias: _estimate(stack, model, body) for bias, model in picks.items()}
    assert costs["cost"] == min(costs.values())
    assert priors.speed(picks["speed"]) >= max(priors.speed(m) for m in picks.values())
    assert priors.quality(picks["quality"]) == max(priors.quality(m) or 0 for m in picks.values())
    assert priors.quality(picks["quality"]) > (priors.quality(picks["cost"]) or 1)
    # The body field works too, and wins over the header.
    raw = client.chat.completions.with_raw_response.create(
        model="auto",
        messages=SIMPLE,
        extra_body={"x-routing": "quality"},
        extra_headers={"x-routing": "cost"},
    )
    assert raw.headers["X-Routing-Selected"] == picks["quality"]


def test_harder_requests_get_stronger_models(stack: Stack) -> None:
    client = stack.client()
    easy = client.chat.completions.with_raw_response.create(model="auto/text", messages=SIMPLE)
    hard = client.chat.completions.with_raw_response.create(
        model="auto/text", messages=HARD, reasoning_effort="high"
    )
    assert hard.headers["X-Routing-Complexity"] == "complex"
    check_headers(
        stack,
        hard.headers,
        {"model": "auto/text", "messages": HARD, "reasoning_effort": "high"},
        FEE_CENTS,
    )
    assert Decimal(hard.headers["X-Routing-Quality"]) > Decimal(easy.headers["X-Routing-Quality"])


def test_the_baseline_caps_the_pick(stack: Stack) -> None:
    client = stack.client()
    baseline = "openai/gpt-5-mini"
    body = {"model": "auto", "messages": SIMPLE, "baseline_model": baseline}
    raw = client.chat.completions.with_raw_response.create(
        model="auto", messages=SIMPLE, extra_body={"baseline_model": baseline}
    )
    assert raw.headers["X-Auto-Baseline-Model"] == baseline
    selected = check_headers(stack, raw.headers, body, FEE_CENTS)
    assert _estimate(stack, selected, body) <= _estimate(stack, baseline, body)
    # The quality bias still never goes above the baseline (header form of the baseline).
    raw = client.chat.completions.with_raw_response.create(
        model="auto",
        messages=SIMPLE,
        extra_headers={"x-baseline-model": baseline, "x-routing": "quality"},
    )
    assert raw.headers["X-Auto-Baseline-Model"] == baseline
    selected = check_headers(stack, raw.headers, body, FEE_CENTS)
    assert _estimate(stack, selected, body) <= _estimate(stack, baseline, body)


def test_nothing_cheaper_clears_the_floor_falls_back_to_the_baseline(stack: Stack) -> None:
    client = stack.client()
    baseline = "openai/gpt-5-nano"  # the cheapest rated model: nothing routes below it
    raw = client.chat.completions.with_raw_response.create(
        model="auto", messages=HARD, extra_body={"baseline_model": baseline}
    )
    assert raw.headers["X-Routing-Selected"] == baseline
    assert raw.headers["X-Routing-Reason"].startswith("baseline:")
    assert raw.headers["X-Auto-Route-Fee-Cents"] == "0" == raw.headers["X-Auto-Savings-Cents"]


def test_a_failing_pick_falls_back_to_the_next(stack: Stack) -> None:
    client = stack.client()
    stack.sim.queue_fault("500")
    raw = client.chat.completions.with_raw_response.create(model="auto", messages=SIMPLE)
    assert raw.headers["x-aig-attempts"] == "2"
    assert raw.headers["X-Routing-Reason"].startswith("fallback #1")
    check_headers(stack, raw.headers, {"model": "auto", "messages": SIMPLE}, FEE_CENTS)


@pytest.mark.parametrize(
    ("extra", "status", "param"),
    [
        ({"x-routing": "fastest"}, 400, "x-routing"),
        ({"baseline_model": "nobody/nothing"}, 404, "baseline_model"),
        ({"baseline_model": 7}, 400, "baseline_model"),
        ({"routing": {"policy": "lowest_cost"}}, 400, "routing"),
        # mistral has no key on the stack and nothing rated that cheap clears a complex floor
        (
            {"baseline_model": "mistral/ministral-3b-latest", "messages": HARD},
            400,
            "baseline_model",
        ),
        ({"model": "auto/image"}, 400, "model"),
        ({"model": "auto/nonsense"}, 400, "model"),
    ],
)
def test_errors_name_the_field(
    stack: Stack, extra: dict[str, Any], status: int, param: str
) -> None:
    client = stack.client()
    body: dict[str, Any] = {"model": "auto", "messages": SIMPLE, **extra}
    with pytest.raises(openai.APIStatusError) as info:
        client.chat.completions.create(
            **{"model": body.pop("model"), "messages": body.pop("messages")}, extra_body=body
        )
    assert info.value.status_code == status
    error = info.value.body
    assert isinstance(error, dict) and error["param"] == param, error
    assert "X-Auto-Routed" not in info.value.response.headers


def test_messages_endpoint_routes_auto(stack: Stack) -> None:
    with anthropic.Anthropic(base_url=stack.gw.url, api_key=stack.key, max_retries=0) as client:
        raw = client.messages.with_raw_response.create(
            model="auto", max_tokens=256, messages=SIMPLE, extra_headers={"x-routing": "cost"}
        )
        message = raw.parse()
    selected = raw.headers["X-Routing-Selected"]
    assert message.model == selected and raw.headers["X-Auto-Routed"] == "true"
    assert raw.headers["X-Routing-Complexity"] == "simple"


def test_no_callable_pool_model_is_a_503(
    sim_server: SimulatorThread, tmp_path_factory: pytest.TempPathFactory
) -> None:
    path = tmp_path_factory.mktemp("auto503") / "aigw.db"
    for stack in start_stack(
        f"sqlite:///{path}", sim_server, auto_pool="mistral/mistral-small-latest"
    ):
        with pytest.raises(openai.APIStatusError) as info:
            stack.client().chat.completions.create(
                model="auto",
                messages=SIMPLE,
                extra_body={"baseline_model": "mistral/mistral-large-latest"},
            )
        assert info.value.status_code == 503
        error = info.value.body
        assert isinstance(error, dict) and error["type"] == "provider_not_configured"
        assert "MISTRAL_API_KEY" in error["message"]
