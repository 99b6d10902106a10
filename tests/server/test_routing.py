"""Deployments, model lists, routing policies, retries and fallbacks before the first byte,
billing at the deployment that answered: a real gateway in front of three simulators."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from tests.harness import http
from tests.server.routekit import (
    MESSAGES,
    Routed,
    assert_ledger_true,
    call,
    charges,
    logged,
    model_table,
    new_account,
    sse_events,
    start_routed,
    three_sims,
)

from aigw.simulator import SimulatorThread

CHEAP = "input = 0.5, output = 4"  # simb's price in these tests
MODELS = [
    model_table("fb", ["sima", "simb"], prices={"simb": CHEAP}),
    model_table("retry", ["sima"]),
    model_table("hops", ["sima", "simb", "simc"]),
    model_table(
        "cost", ["sima", "simb", "simc"], prices={"simb": CHEAP, "simc": "input = 3, output = 1"}
    ),
    model_table("ml1", ["sima"]),
    model_table("ml2", ["simb"]),
    model_table("dear", ["simb", "sima"], prices={"simb": CHEAP}),
    '[models."sima/weighted"]\nupstream_id = "w"\nprice = { input = 1, output = 1 }\n'
    'deployments = [{ provider = "sima", upstream_id = "w-a", weight = 3 },'
    ' { provider = "simb", upstream_id = "w-b", weight = 1 }]\n',
]
PINNED = {"policy": "pinned", "providers": ["sima", "simb", "simc"]}
# Nothing listens on port 9 of this machine: connecting is refused at once.
MODELS.append(
    '[providers.dead]\nwire_format = "openai"\nbase_url = "http://127.0.0.1:9/v1"\n'
    'key_required = false\n\n[models."dead/x"]\nprice = { input = 1, output = 1 }\n'
    'deployments = [{ provider = "dead" }, { provider = "sima", upstream_id = "x-sima" }]\n'
)


@pytest.fixture(scope="module")
def module_routed(
    sim_server: SimulatorThread, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Routed]:
    root: Path = tmp_path_factory.mktemp("routing")
    with three_sims() as sims:
        yield from start_routed(
            root, sim_server, sims, MODELS, routing_max_seconds=2.5, breaker_min_requests=1000
        )


@pytest.fixture
def routed(module_routed: Routed) -> Routed:
    module_routed.reset()
    return module_routed


def _chat(routed: Routed, model: object, *, key: str | None = None, **extra: object) -> tuple:
    body = {"model": model, "messages": MESSAGES, **extra}
    status, headers, raw = call(routed.stack, body, key=key)
    return status, headers, orjson.loads(raw) if raw.startswith(b"{") else raw


def test_a_5xx_falls_back_to_the_next_deployment_and_bills_it_once(routed: Routed) -> None:
    key, account = new_account(routed.stack, "fallback")
    routed.sims["sima"].queue_fault("500")
    status, headers, body = _chat(routed, "sima/fb", key=key, routing=PINNED)
    assert status == 200, body
    assert headers["x-aig-provider"] == "simb"
    assert headers["x-aig-route-policy"] == "pinned"
    assert headers["x-aig-attempts"] == "2"
    assert body["model"] == "sima/fb"
    assert (routed.requests("sima"), routed.requests("simb")) == (1, 1)
    assert routed.sims["simb"].requests[-1]["body"]["model"] == "fb-simb"
    usage = body["usage"]
    # Billed at simb's own price ($0.5 / $4 per 1M = 50 / 400 µ¢ per token), once.
    cost = usage["prompt_tokens"] * 50 + usage["completion_tokens"] * 400
    assert round(usage["cost"] * 100_000_000) == cost
    assert [-e.amount_micro_cents for e in charges(routed.stack, account)] == [cost]
    assert_ledger_true(routed.stack, account, charged=cost)
    entry = logged(routed.stack, headers["x-request-id"])
    assert (entry.provider, entry.model, entry.status) == ("simb", "sima/fb", 200)
    assert entry.cost_micro_cents == entry.charged_micro_cents == cost


def test_the_reservation_covers_the_dearest_candidate(routed: Routed) -> None:
    # $0.0008 covers simb's most expensive answer (100 tokens x $4/1M = $0.0004 + prompt)
    # but not sima's ($10/1M: $0.001), which the plan may fall back to.
    key, account = new_account(routed.stack, "tight", "0.0008")
    routing = {"policy": "pinned", "providers": ["simb", "sima"]}
    status, _, body = _chat(routed, "sima/dear", key=key, routing=routing, max_tokens=100)
    assert status == 402 and body["error"]["type"] == "insufficient_credits"
    assert routed.requests("simb") == 0
    routing["allow_fallback"] = False
    status, headers, body = _chat(routed, "sima/dear", key=key, routing=routing, max_tokens=100)
    assert status == 200 and headers["x-aig-provider"] == "simb"
    assert_ledger_true(routed.stack, account, charged=round(body["usage"]["cost"] * 100_000_000))


def test_the_last_deployment_is_retried_with_backoff(routed: Routed) -> None:
    routed.sims["sima"].queue_fault("502")
    status, headers, _ = _chat(routed, "sima/retry")
    assert status == 200
    assert headers["x-aig-attempts"] == "2" and headers["x-aig-provider"] == "sima"
    assert routed.requests("sima") == 2


def test_a_rate_limit_waits_for_the_upstream_retry_after(routed: Routed) -> None:
    routed.sims["sima"].queue_fault("429", retry_after=1)
    started = time.monotonic()
    status, headers, _ = _chat(routed, "sima/retry")
    assert status == 200 and headers["x-aig-attempts"] == "2"
    assert time.monotonic() - started >= 1.0, "Retry-After: 1 was honoured"


def test_a_rate_limit_with_another_deployment_falls_back_at_once(routed: Routed) -> None:
    routed.sims["sima"].queue_fault("429", retry_after=1)
    started = time.monotonic()
    status, headers, _ = _chat(routed, "sima/fb", routing=PINNED)
    assert status == 200 and headers["x-aig-provider"] == "simb"
    assert time.monotonic() - started < 0.8


def test_a_retry_after_beyond_the_budget_is_passed_to_the_client(routed: Routed) -> None:
    routed.sims["sima"].queue_fault("429", count=3, retry_after=3)
    started = time.monotonic()
    status, headers, body = _chat(routed, "sima/retry")
    assert status == 503 and body["error"]["type"] == "service_unavailable"
    assert headers["retry-after"] == "3"
    assert headers["x-aig-attempts"] == "1", "routing_max_seconds (2.5) leaves no time to wait"
    assert time.monotonic() - started < 1.0


@pytest.mark.parametrize("fault", ["400", "context_length"])
def test_a_bad_request_fails_fast_without_fallback(routed: Routed, fault: str) -> None:
    routed.sims["sima"].queue_fault(fault)
    status, headers, body = _chat(routed, "sima/fb", routing=PINNED)
    assert status == 400 and body["error"]["type"] == "invalid_request_error"
    assert headers["x-aig-attempts"] == "1"
    assert routed.requests("simb") == 0


@pytest.mark.parametrize("fault", ["401", "429_quota"])
def test_credential_and_quota_failures_fall_back_without_retry(routed: Routed, fault: str) -> None:
    routed.sims["sima"].queue_fault(fault, count=5)
    status, headers, _ = _chat(routed, "sima/fb", routing=PINNED)
    assert status == 200 and headers["x-aig-provider"] == "simb"
    assert routed.requests("sima") == 1
    # With nowhere to fall back to, no retry either: the failure is not transient.
    status, headers, body = _chat(routed, "sima/retry")
    assert status == 500 and body["error"]["type"] == "server_error"
    assert headers["x-aig-attempts"] == "1"


def test_at_most_three_hops(routed: Routed) -> None:
    for sim in routed.sims.values():
        sim.queue_fault("500", count=5)
    status, headers, body = _chat(routed, "sima/hops", routing=PINNED)
    assert status == 500 and body["error"]["type"] == "server_error"
    assert headers["x-aig-attempts"] == "3"
    assert [routed.requests(n) for n in ("sima", "simb", "simc")] == [1, 1, 1]
    entry = logged(routed.stack, headers["x-request-id"])
    assert (entry.status, entry.error_type, entry.provider) == (500, "server_error", "simc")


def test_a_model_list_falls_back_across_models(routed: Routed) -> None:
    routed.sims["sima"].queue_fault("503")
    status, headers, body = _chat(routed, ["sima/ml1", "sima/ml2"])
    assert status == 200
    assert body["model"] == "sima/ml2" and headers["x-aig-provider"] == "simb"
    assert headers["x-aig-attempts"] == "2"
    entry = logged(routed.stack, headers["x-request-id"])
    assert (entry.model, entry.provider) == ("sima/ml2", "simb")


def test_streams_fall_back_before_the_first_byte(routed: Routed) -> None:
    routed.sims["sima"].queue_fault("503")
    status, headers, raw = _chat(routed, "sima/fb", routing=PINNED, stream=True)
    assert status == 200 and headers["x-aig-provider"] == "simb"
    events = sse_events(raw)
    assert events[-1] == "[DONE]" and all("error" not in e for e in events[:-1])
    assert {e["model"] for e in events[:-1]} == {"sima/fb"}


def test_lowest_cost_orders_by_price_and_max_cost_filters(routed: Routed) -> None:
    status, headers, _ = _chat(routed, "sima/cost", routing={"policy": "lowest_cost"})
    assert status == 200 and headers["x-aig-provider"] == "simb"
    assert headers["x-aig-route-policy"] == "lowest_cost"
    # sima ($1 input) is within the cap, simc ($3) is not; simb fails, sima answers.
    routed.sims["simb"].queue_fault("500")
    routing = {"policy": "lowest_cost", "max_cost_per_1m_input": 1.0}
    status, headers, _ = _chat(routed, "sima/cost", routing=routing)
    assert status == 200 and headers["x-aig-provider"] == "sima"
    assert routed.requests("simc") == 0


def test_allow_fallback_false_keeps_to_the_first_deployment(routed: Routed) -> None:
    routed.sims["sima"].queue_fault("500", count=5)
    status, headers, _ = _chat(routed, "sima/fb", routing={**PINNED, "allow_fallback": False})
    assert status == 500 and headers["x-aig-attempts"] == "2"
    assert routed.requests("simb") == 0


def test_the_default_policy_shares_traffic_by_weight(routed: Routed) -> None:
    served: Counter[str] = Counter()
    attempts: Counter[str] = Counter()
    for _ in range(40):
        status, headers, _ = _chat(routed, "sima/weighted")
        assert status == 200 and headers["x-aig-route-policy"] == "weighted"
        served[headers["x-aig-provider"]] += 1
        attempts[headers["x-aig-attempts"]] += 1
    # Weights 3:1: sima not ahead in 40 draws has a chance of ~0.0002. (Seen once, in a full
    # run: 21/19. The message says whether fallbacks or the deployments' health explain it.)
    if not (served["simb"] > 0 and served["sima"] > served["simb"]):
        _, _, health = http("GET", routed.stack.gw.url + "/v1/health/providers")
        raise AssertionError(f"{served} attempts {attempts}; health {health.decode()}")


@pytest.mark.parametrize(
    ("routing", "param"),
    [
        ({"policy": "fastest"}, "routing.policy"),
        ({"policy": "pinned"}, "routing.providers"),
        ({"providers": "sima"}, "routing.providers"),
        ({"allow_fallback": "yes"}, "routing.allow_fallback"),
        ({"max_cost_per_1m_input": -1}, "routing.max_cost_per_1m_input"),
        ({"speed": 1}, "routing.speed"),
        ({"providers": ["nowhere"]}, "routing.providers"),
        ({"max_cost_per_1m_input": 0.1}, "routing.max_cost_per_1m_input"),
    ],
)
def test_bad_routing_is_a_400_naming_the_field(routed: Routed, routing: dict, param: str) -> None:
    status, _, body = _chat(routed, "sima/cost", routing=routing)
    assert status == 400, body
    assert body["error"]["param"] == param
    assert sum(routed.requests(n) for n in routed.sims) == 0


@pytest.mark.parametrize(("model", "param"), [([], "model"), (["sima/fb", 3], "model[1]")])
def test_bad_model_lists_are_a_400(routed: Routed, model: object, param: str) -> None:
    status, _, body = _chat(routed, model)
    assert status == 400 and body["error"]["param"] == param


def test_unknown_model_in_a_list_is_a_404(routed: Routed) -> None:
    status, _, body = _chat(routed, ["sima/fb", "nope/nothing"])
    assert status == 404 and body["error"]["type"] == "model_not_found"


def test_the_builtin_open_model_uses_its_configured_deployments(routed: Routed) -> None:
    # Only Groq has a key in this gateway's environment: Together and Fireworks are left out.
    status, headers, body = _chat(routed, "gpt-oss-120b")
    assert status == 200 and headers["x-aig-provider"] == "groq"
    assert body["model"] == "openai/gpt-oss-120b"
    assert routed.stack.last_upstream_request()["body"]["model"] == "openai/gpt-oss-120b"
    pinned = {"policy": "pinned", "providers": ["together"]}
    status, _, body = _chat(routed, "gpt-oss-120b", routing=pinned)
    assert status == 503 and body["error"]["type"] == "provider_not_configured"
    assert "TOGETHER_API_KEY" in body["error"]["message"]


def test_messages_fall_back_across_formats(routed: Routed) -> None:
    """/v1/messages with a model list: an OpenAI-format deployment fails, Claude (passed
    through) answers in Anthropic's shape."""
    routed.sims["sima"].queue_fault("500", count=2)
    body = {
        "model": ["sima/retry", "claude-haiku-4-5"],
        "routing": {"allow_fallback": True},
        "max_tokens": 50,
        "messages": MESSAGES,
    }
    status, headers, raw = call(routed.stack, body, path="/messages")
    assert status == 200, raw
    message = orjson.loads(raw)
    assert message["type"] == "message" and message["model"] == "anthropic/claude-haiku-4-5"
    assert headers["x-aig-provider"] == "anthropic" and headers["x-aig-attempts"] == "2"
    sent = routed.stack.last_upstream_request()["body"]
    assert "routing" not in sent and sent["model"] == "claude-haiku-4-5"


def test_chat_falls_back_from_a_pass_through_to_a_translated_model(routed: Routed) -> None:
    routed.sims["sima"].queue_fault("500", count=2)
    status, headers, body = _chat(routed, ["sima/retry", "anthropic/claude-haiku-4-5"], stream=True)
    assert status == 200 and headers["x-aig-provider"] == "anthropic"
    events = sse_events(body)
    assert events[-1] == "[DONE]"
    assert {e["model"] for e in events[:-1]} == {"anthropic/claude-haiku-4-5"}
    assert "".join(
        e["choices"][0]["delta"].get("content") or "" for e in events[:-1] if e["choices"]
    )


def test_the_models_api_shows_deployments(routed: Routed) -> None:
    status, _, raw = http("GET", routed.gw.url + "/v1/models/openai/gpt-oss-120b")
    assert status == 200
    deployments = orjson.loads(raw)["deployments"]
    assert [(d["provider"], d["weight"]) for d in deployments] == [
        ("groq", 2),
        ("together", 1),
        ("fireworks", 1),
    ]
    assert deployments[2] == {**deployments[2], "input": 0.15, "output": 0.6}


def test_a_refused_connection_falls_back(routed: Routed) -> None:
    status, headers, body = _chat(
        routed, "dead/x", routing={"policy": "pinned", "providers": ["dead", "sima"]}
    )
    assert status == 200 and headers["x-aig-provider"] == "sima"
    assert headers["x-aig-attempts"] == "2"
    status, headers, body = _chat(routed, "dead/x", routing={"providers": ["dead"]})
    assert status == 500 and body["error"]["type"] == "server_error"
    assert "127.0.0.1" not in body["error"]["message"]


@pytest.mark.parametrize("stream", [False, True])
def test_a_pooled_connection_outlives_the_idle_timeout(routed: Routed, stream: bool) -> None:
    """The idle timer ends with the answer: a kept-alive connection reused after a pause
    longer than upstream_idle_timeout (0.6 s) still works on the first attempt."""
    assert _chat(routed, "sima/retry", stream=stream)[0] == 200
    time.sleep(0.8)
    status, headers, _ = _chat(routed, "sima/retry", stream=stream)
    assert status == 200 and headers["x-aig-attempts"] == "1"
    assert routed.requests("sima") == 2
