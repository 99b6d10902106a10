"""Evals over real sockets, with the simulator steered per model: expected answers pick the
right winner, a judge model scores answers without one, cost picks the cheaper model, and
``model: "eval:<run_id>"`` routes to the winner. The aigateway-py SDK's ``evals`` methods
work against it unchanged."""

from __future__ import annotations

import time
from collections.abc import Iterator

import openai
import pytest
from aigateway import AIgateway, AIgatewayError
from openai import NotFoundError, OpenAI

from aigw.server.appkeys import ROUTER
from tests.harness import http
from tests.replays.kit import ALPHA, BETA, JUDGE, script
from tests.replays.test_replays import ledger_charge
from tests.server.conftest import Stack
from tests.server.spendkit import new_account

DATASET = [
    {"input": "What is 2+2?", "expected": "4"},
    {"input": "What is the capital of Italy?", "expected": "Rome"},
    {"input": "Give the answer as JSON: is water wet?", "expected": {"wet": True}},
]


@pytest.fixture
def sdk(stack: Stack) -> Iterator[AIgateway]:
    with AIgateway(api_key=stack.key, base_url=stack.gw.url, timeout=60) as client:
        yield client


def steer(stack: Stack) -> None:
    """beta knows every answer; alpha gets only the first right."""
    script(
        stack,
        {"contains": "2+2", "text": "4", "model": "alpha"},
        {"contains": "2+2", "text": " 4. ", "model": "beta"},
        {"contains": "capital of Italy", "text": "Milan", "model": "alpha"},
        {"contains": "capital of Italy", "text": "rome", "model": "beta"},
        {"contains": "water wet", "text": '{"wet": false}', "model": "alpha"},
        {"contains": "water wet", "text": '```json\n{"wet": true}\n```', "model": "beta"},
    )


def test_expected_answers_pick_the_winner_and_eval_alias_routes_to_it(
    stack: Stack, sdk: AIgateway
) -> None:
    steer(stack)
    priors = stack.gw.app[ROUTER].auto.priors
    before = priors.snapshot()
    run = sdk.evals.create(
        name="arith", metric="quality", candidate_models=[ALPHA, BETA], dataset=DATASET
    )
    assert run["status"] == "completed" and run["winner_model"] == BETA
    # The scores taught the auto-router: 3 observations each, blended into any prior.
    after = priors.snapshot()
    for model, score in ((ALPHA, 1 / 3), (BETA, 1.0)):
        was = before.get(model)
        weight = was["observations"] if was else 0.0
        quality = was["quality"] if was else 0.0
        expected = (quality * weight + score * 3) / (weight + 3)
        assert after[model]["quality"] == pytest.approx(expected, abs=1e-6)
        assert after[model]["observations"] == weight + 3
    assert run["dataset_size"] == 3 and run["progress"] == {"done": 6, "total": 6}
    summary = run["summary"]
    assert summary[BETA]["score"] == 1.0
    assert summary[ALPHA]["score"] == pytest.approx(1 / 3, abs=1e-6)
    assert summary[ALPHA]["errors"] == summary[BETA]["errors"] == 0
    assert summary[BETA]["cost_cents"] > 0 and summary[BETA]["latency_ms"] >= 0
    assert sdk.evals.get(run["id"]) == run
    assert run["id"] in [r["id"] for r in sdk.evals.list()]

    # Every call was billed to the account: the per-item costs are the ledger's charges.
    full = sdk._request("GET", f"/v1/evals/{run['id']}", params={"include": "results"})
    assert len(full["results"]) == 6
    for item in full["results"]:
        assert item["cost_micro_cents"] > 0
        assert ledger_charge(stack, item["request_id"]) == item["cost_micro_cents"]
    beta_cost = sum(r["cost_micro_cents"] for r in full["results"] if r["model"] == BETA)
    assert summary[BETA]["cost_cents"] * 1_000_000 == pytest.approx(beta_cost)
    # The eval: alias routes a chat completion to the winner.
    answer = stack.client().chat.completions.create(
        model=f"eval:{run['id']}", messages=[{"role": "user", "content": "What is 2+2?"}]
    )
    assert answer.model == BETA and answer.choices[0].message.content == " 4. "
    assert stack.last_upstream_request()["body"]["model"] == "beta"


def test_cost_metric_picks_the_cheaper_model(stack: Stack, sdk: AIgateway) -> None:
    script(stack, {"contains": "Say hi", "text": "Hi there, friend."})  # same text everywhere
    run = sdk.evals.create(
        name="cheap",
        metric="cost",
        candidate_models=[BETA, ALPHA],
        dataset=[{"input": "Say hi", "expected": "Hi there, friend."}] * 2,
    )
    assert run["winner_model"] == ALPHA  # same tokens, a third of beta's output price
    assert run["summary"][ALPHA]["cost_cents"] < run["summary"][BETA]["cost_cents"]
    assert run["summary"][ALPHA]["score"] == run["summary"][BETA]["score"] == 1.0


def test_a_judge_scores_answers_without_expected(stack: Stack, sdk: AIgateway) -> None:
    script(
        stack,
        {"contains": "bridges", "text": "Suspension bridges hang from cables.", "model": "alpha"},
        {"contains": "bridges", "text": "Bananas are yellow.", "model": "beta"},
        {"contains": "Suspension bridges hang", "text": "Score: 9/10", "model": "judge"},
        {"contains": "Bananas are yellow", "text": "I'd give it a 2.", "model": "judge"},
    )
    run = sdk.evals.create(
        name="judged",
        candidate_models=[BETA, ALPHA],
        dataset=[{"input": "How do bridges stay up?"}],
        judge_model=JUDGE,
    )
    assert run["judge_model"] == JUDGE and run["winner_model"] == ALPHA
    assert run["summary"][ALPHA]["score"] == 0.9 and run["summary"][BETA]["score"] == 0.2
    assert run["summary"][ALPHA]["judge_cost_cents"] > 0
    judged = [r for r in stack.sim.requests if r["body"].get("model") == "judge"]
    assert len(judged) == 2


def test_bad_evals_are_400_and_alias_errors_are_clear(stack: Stack, sdk: AIgateway) -> None:
    for body, status in (
        ({"name": "x", "candidate_models": [ALPHA], "dataset": []}, 400),
        ({"name": "x", "candidate_models": [], "dataset": DATASET}, 400),
        ({"name": "x", "candidate_models": ["nope/none"], "dataset": DATASET}, 404),
        ({"name": "x", "candidate_models": [ALPHA], "dataset": [{"input": "q"}]}, 400),
        (
            {"name": "x", "metric": "vibes", "candidate_models": [ALPHA], "dataset": DATASET},
            400,
        ),
    ):
        with pytest.raises(AIgatewayError) as bad:
            sdk.evals.create(**body)
        assert bad.value.status_code == status, body
    client: OpenAI = stack.client()
    with pytest.raises(NotFoundError):
        client.chat.completions.create(
            model="eval:eval_nope", messages=[{"role": "user", "content": "hi"}]
        )
    steer(stack)
    run = sdk.evals.create(name="mine", candidate_models=[ALPHA, BETA], dataset=DATASET[:1])
    _, other_key = new_account(stack, "eval-other")
    other = OpenAI(base_url=stack.base_url, api_key=other_key, max_retries=0)
    with pytest.raises(NotFoundError):
        other.chat.completions.create(
            model=f"eval:{run['id']}", messages=[{"role": "user", "content": "hi"}]
        )


def test_a_long_run_answers_202_and_finishes_in_the_background(
    stack: Stack, sdk: AIgateway
) -> None:
    steer(stack)
    status, _, body = http("POST", stack.sim.url + "/_sim/config", json={"latency_ms": 400})
    assert status == 200, body
    run = sdk.evals.create(
        name="later", candidate_models=[ALPHA, BETA], dataset=DATASET, wait=False
    )
    assert run["status"] == "running" and run["winner_model"] is None
    with pytest.raises(openai.APIStatusError) as early:
        stack.client().chat.completions.create(
            model=f"eval:{run['id']}", messages=[{"role": "user", "content": "hi"}]
        )
    assert early.value.status_code == 409
    deadline = time.time() + 20
    while sdk.evals.get(run["id"])["status"] == "running" and time.time() < deadline:
        time.sleep(0.1)
    done = sdk.evals.get(run["id"])
    assert done["status"] == "completed" and done["winner_model"] == BETA
    assert done["progress"] == {"done": 6, "total": 6}
