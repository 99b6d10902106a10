"""Routing requests (model lists, ``routing``) and the policies' order, without sockets."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from aigw.catalog import builtin_catalog
from aigw.catalog.models import Price
from aigw.errors import InvalidRequest
from aigw.routing.breaker import Breaker
from aigw.routing.deployments import Candidate
from aigw.routing.health import DeploymentHealth
from aigw.routing.policy import order
from aigw.routing.spec import parse_spec


def test_a_spec_keeps_the_order_and_drops_repeats() -> None:
    spec = parse_spec(
        ["a/x", "b/y", "a/x"], {"policy": "pinned", "providers": ["g", "t"]}, "weighted"
    )
    assert spec.names == ("a/x", "b/y")
    assert spec.providers == ("g", "t") and spec.allow_fallback
    cheap = parse_spec("a/x", {"max_cost_per_1m_input": "0.25"}, "weighted")
    assert cheap.policy == "weighted" and cheap.max_cost_per_1m_input == Decimal("0.25")


@pytest.mark.parametrize(
    ("model", "routing", "param"),
    [
        ([], None, "model"),
        (["a/x"] * 11 + ["b"], None, "model"),
        ("a/x", [], "routing"),
        ("a/x", {"policy": 3}, "routing.policy"),
        ("a/x", {"max_cost_per_1m_input": True}, "routing.max_cost_per_1m_input"),
        ("a/x", {"max_cost_per_1m_input": "nan"}, "routing.max_cost_per_1m_input"),
    ],
)
def test_bad_specs_name_the_field(model: object, routing: object, param: str) -> None:
    with pytest.raises(InvalidRequest) as info:
        parse_spec(model, routing, "weighted")
    assert info.value.param == param


def _candidate(provider: str, *, weight: int = 1, price: str = "1") -> Candidate:
    """order() reads only a candidate's model, weight and health: no upstream needed."""
    base = builtin_catalog().get("xai/grok-4.3")
    assert base is not None
    model = replace(base, provider=provider, price=Price(Decimal(price), Decimal(price)))
    breaker = Breaker(failure_rate=0.5, min_requests=2, window=30, cooldown=5)
    health = DeploymentHealth(provider, provider, breaker, 300.0)
    return Candidate(model, provider, weight, None, health)  # type: ignore[arg-type]


def test_lowest_latency_measures_unknown_deployments_first_then_the_fastest() -> None:
    a, b, c = _candidate("a"), _candidate("b"), _candidate("c")
    a.health.succeeded(100.0, 0.5, 1.0, 10)
    b.health.succeeded(100.0, 0.1, 1.0, 10)
    assert [x.key for x in order([a, b, c], "lowest_latency", 100.5)] == ["c", "b", "a"]
    c.health.succeeded(100.6, 0.3, 1.0, 10)
    assert [x.key for x in order([a, b, c], "lowest_latency", 102.0)] == ["b", "c", "a"]


def test_unhealthy_deployments_go_last_under_every_policy() -> None:
    a, b = _candidate("a", price="0.1"), _candidate("b", price="5")
    a.health.failed(10.0, "server_error")
    a.health.failed(10.1, "server_error")  # min_requests 2, all failed: open
    for policy in ("lowest_cost", "lowest_latency", "highest_throughput", "weighted"):
        assert [x.key for x in order([a, b], policy, 10.2)] == ["b", "a"], policy


def test_throughput_cost_and_pinned_orders() -> None:
    a, b = _candidate("a", price="2"), _candidate("b", price="1")
    a.health.succeeded(1.0, 0.1, 1.1, 500)  # 500 tokens/s
    b.health.succeeded(1.0, 0.1, 2.1, 500)  # 250 tokens/s
    assert [x.key for x in order([b, a], "highest_throughput", 3.0)] == ["a", "b"]
    assert [x.key for x in order([a, b], "lowest_cost", 3.0)] == ["b", "a"]
    assert [x.key for x in order([a, b], "pinned", 3.0, ("b", "a"))] == ["b", "a"]


def test_weighted_picks_the_first_in_proportion() -> None:
    heavy, light = _candidate("heavy", weight=9), _candidate("light", weight=1)
    firsts = [order([light, heavy], "weighted", 1.0)[0].key for _ in range(400)]
    assert 300 < firsts.count("heavy") < 400
