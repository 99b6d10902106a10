"""Shadow rules: live traffic for a model is mirrored to a candidate in the background; the
client's answer is the one it would have had without the rule, and the comparison is listed
as a shadow Replay record billed to the account."""

from __future__ import annotations

import time
from typing import Any

import orjson

from aigw.replays.hooks import REPLAYS
from tests.harness import http
from tests.replays.kit import ALPHA, BETA
from tests.replays.test_replays import chat, ledger_charge
from tests.server.conftest import Stack


def api(stack: Stack, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    status, _, raw = http(
        method,
        stack.gw.url + path,
        json=body,
        headers={"Authorization": f"Bearer {stack.key}"},
    )
    return status, orjson.loads(raw)


def shadows_of(stack: Stack, rid: str, wait: float = 10) -> list[dict[str, Any]]:
    deadline = time.time() + wait
    while True:
        status, page = api(stack, "GET", "/v1/replays?shadow=true&limit=100")
        assert status == 200
        found = [r for r in page["data"] if r["source_request_id"] == rid]
        if found or time.time() > deadline:
            return found
        time.sleep(0.1)


def test_a_rule_mirrors_live_traffic_without_touching_the_answer(stack: Stack) -> None:
    prompt = "Summarise the history of clocks"
    _, before = chat(stack, prompt)  # the answer without any rule
    status, rule = api(
        stack, "POST", "/v1/shadow-rules", {"source_model": ALPHA, "target_model": BETA}
    )
    assert status == 201 and rule["share"] == 1.0
    try:
        rid, after = chat(stack, prompt)
        assert after == before  # the client's answer is unchanged
        (mirrored,) = shadows_of(stack, rid)
        assert mirrored["shadow"] is True and mirrored["rule_id"] == rule["id"]
        assert (mirrored["source_model"], mirrored["target_model"]) == (ALPHA, BETA)
        assert mirrored["source_output"] == before and mirrored["target_output"]
        assert 0 <= mirrored["score_delta"] < 1
        stack.gw.flush_log()
        charged = ledger_charge(stack, mirrored["target_request_id"])
        assert charged > 0 and mirrored["cost_target_cents"] * 1_000_000 == charged
        # Streams are mirrored too, with the streamed text as the source output.
        rid2, streamed = chat(stack, "Name three kinds of clouds", stream=True)
        (second,) = shadows_of(stack, rid2)
        assert second["source_output"] == streamed
        # Listing filters: by rule, and non-shadow replays are not in it.
        status, page = api(stack, "GET", f"/v1/replays?rule_id={rule['id']}")
        assert {r["source_request_id"] for r in page["data"]} == {rid, rid2}
        status, page = api(stack, "GET", "/v1/replays?shadow=false")
        assert rid not in {r["source_request_id"] for r in page["data"]}
        status, rules = api(stack, "GET", "/v1/shadow-rules")
        assert [r["id"] for r in rules["data"]] == [rule["id"]]
        assert rules["stats"]["mirrored"] >= 2
    finally:
        status, gone = api(stack, "DELETE", f"/v1/shadow-rules/{rule['id']}")
        assert status == 200 and gone["deleted"] is True
    rid3, _ = chat(stack, prompt)
    assert shadows_of(stack, rid3, wait=1.0) == []


def test_share_zero_mirrors_nothing_and_other_models_are_left_alone(stack: Stack) -> None:
    status, rule = api(
        stack, "POST", "/v1/shadow-rules", {"source_model": ALPHA, "target_model": BETA, "share": 0}
    )
    assert status == 201
    status, other = api(
        stack, "POST", "/v1/shadow-rules", {"source_model": BETA, "target_model": ALPHA}
    )
    try:
        rid, _ = chat(stack, "Describe the moon")
        assert shadows_of(stack, rid, wait=1.0) == []
        beta_rid, _ = chat(stack, "Describe the sun", model=BETA)
        assert len(shadows_of(stack, beta_rid)) == 1
    finally:
        api(stack, "DELETE", f"/v1/shadow-rules/{rule['id']}")
        api(stack, "DELETE", f"/v1/shadow-rules/{other['id']}")


def test_bad_rules_are_400_and_unknown_rules_404(stack: Stack) -> None:
    status, err = api(
        stack, "POST", "/v1/shadow-rules", {"source_model": ALPHA, "target_model": BETA, "share": 2}
    )
    assert status == 400 and err["error"]["param"] == "share"
    status, err = api(stack, "POST", "/v1/shadow-rules", {"source_model": ALPHA})
    assert status == 400 and err["error"]["param"] == "target_model"
    status, err = api(stack, "DELETE", "/v1/shadow-rules/shr_nope")
    assert status == 404


def test_mirrored_calls_past_the_limit_are_dropped_and_counted(stack: Stack) -> None:
    mirror = stack.gw.app[REPLAYS].mirror
    status, rule = api(
        stack, "POST", "/v1/shadow-rules", {"source_model": ALPHA, "target_model": BETA}
    )
    limit = mirror.limit
    dropped = mirror.counters.dropped
    try:
        mirror.running += limit  # every slot taken, as under a burst
        rid, _ = chat(stack, "Tell me about owls")
        assert mirror.counters.dropped == dropped + 1
        assert shadows_of(stack, rid, wait=1.0) == []
    finally:
        mirror.running -= limit
        api(stack, "DELETE", f"/v1/shadow-rules/{rule['id']}")
