"""The events that were declared but never sent: ``balance.low`` (once per fall below the
threshold, re-armed by a top-up), ``usage.threshold`` (once per threshold and month) and
``key.rotated`` (a key created, rotated or revoked), signed like every other event."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import openai
import orjson
import pytest
from aigateway import verify_webhook

from aigw.billing import ledger
from aigw.server.appkeys import ALERTS, DATABASE
from aigw.webhooks.alerts import AlertWatcher, Thresholds
from tests.harness import http
from tests.jobs.conftest import JobStack, job_stack
from tests.server.conftest import ADMIN_KEY

EVENTS = ["balance.low", "usage.threshold", "key.rotated"]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JobStack]:
    with job_stack(tmp_path_factory.mktemp("alerts")) as s:
        status, _ = s.call(
            "POST", "/v1/webhooks", {"url": s.receiver.url + "/ev", "events": EVENTS}
        )
        assert status == 201
        yield s


def _events(stack: JobStack, kind: str) -> list[dict[str, Any]]:
    return [e for e in (orjson.loads(b) for _, b in stack.receiver.at("ev")) if e["type"] == kind]


def _until(predicate: Any, within: float = 10.0) -> None:
    end = time.monotonic() + within
    while not predicate():
        if time.monotonic() > end:
            pytest.fail("condition not reached")
        time.sleep(0.02)


def _balance(stack: JobStack) -> int:
    states = stack.gw.call(
        ledger.wallet_states(stack.gw.app[DATABASE], account_id=stack.account_id)
    )
    return states[0].balance_micro_cents


def _usd(micro_cents: int) -> str:
    return str(Decimal(micro_cents) / 100_000_000)


def _chat(stack: JobStack, n: int = 1) -> None:
    client = openai.OpenAI(base_url=stack.url + "/v1", api_key=stack.key, max_retries=0)
    for _ in range(n):
        client.chat.completions.create(
            model="xai/grok-4.3", messages=[{"role": "user", "content": "hi"}], max_tokens=5
        )


def test_balance_low_once_per_crossing_and_rearmed_by_a_top_up(stack: JobStack) -> None:
    status, got = stack.call("PUT", "/v1/alerts", {"balance_low_threshold": _usd(_balance(stack))})
    assert status == 200 and got["effective"]["usage_thresholds"] == []
    time.sleep(0.3)
    assert _events(stack, "balance.low") == []  # at the threshold is not below it
    _chat(stack, 3)  # the first charge crosses; the next two stay below
    _until(lambda: _events(stack, "balance.low"))
    time.sleep(0.4)
    (event,) = _events(stack, "balance.low")
    assert event["id"].startswith("evt_") and isinstance(event["created"], int)
    assert event["data"]["account_id"] == stack.account_id
    assert event["data"]["balance_usd"] < event["data"]["threshold_usd"]
    secret = stack.sdk().webhook_secret.get()["secret"]
    headers, body = next(
        (h, b) for h, b in stack.receiver.at("ev") if orjson.loads(b)["id"] == event["id"]
    )
    assert verify_webhook(secret, body, headers["X-Gateway-Signature"])
    status, _ = stack.gw.admin("POST", "/admin/accounts/acme/topup", ADMIN_KEY, {"amount": "1"})
    assert status == 201  # back above: the alert is armed again
    _until(lambda: stack.gw.call(_count_marks(stack)) == 0)
    stack.call("PUT", "/v1/alerts", {"balance_low_threshold": _usd(_balance(stack))})
    _chat(stack)
    _until(lambda: len(_events(stack, "balance.low")) == 2)
    stack.call("PUT", "/v1/alerts", {"balance_low_threshold": None})


async def _count_marks(stack: JobStack) -> int:
    from sqlalchemy import func, select

    from aigw.store.tables import alert_marks

    async with stack.gw.app[DATABASE].engine.connect() as conn:
        query = select(func.count()).where(alert_marks.c.kind == "balance.low")
        return int((await conn.execute(query)).scalar() or 0)


def test_usage_threshold_once_per_threshold(stack: JobStack) -> None:
    _chat(stack)
    status, got = stack.call("PUT", "/v1/alerts", {"usage_thresholds": ["0.00000001", 100000]})
    assert status == 200 and got["usage_thresholds"] == [1e-08, 100000.0]
    _until(lambda: _events(stack, "usage.threshold"))
    _chat(stack, 2)
    time.sleep(0.4)
    (event,) = _events(stack, "usage.threshold")  # the second threshold is far away
    assert event["data"]["month"] == time.strftime("%Y-%m", time.gmtime())
    assert event["data"]["spent_usd"] >= event["data"]["threshold_usd"] == 1e-08


def test_concurrent_watchers_send_one_alert(stack: JobStack) -> None:
    """Two processes seeing the same crossing: the alert mark decides, one event."""
    db = stack.gw.app[DATABASE]
    defaults = Thresholds(0, (1,))  # 1 µ¢ of spend: already crossed this month

    async def race() -> int:
        from sqlalchemy import delete

        from aigw.store.tables import alert_marks

        async with db.engine.begin() as conn:
            await conn.execute(delete(alert_marks).where(alert_marks.c.kind == "usage.threshold"))
        first, second = (
            AlertWatcher(db, defaults, poll_seconds=1),
            AlertWatcher(db, defaults, poll_seconds=1),
        )
        await stack.gw.app[ALERTS].stop()  # the gateway's own watcher stays out of the race
        try:
            sent = await asyncio.gather(
                *(w.check(stack.account_id) for w in (first, second, first, second))
            )
        finally:
            await stack.gw.app[ALERTS].start()
        return sum(sent)

    stack.call("PUT", "/v1/alerts", {"usage_thresholds": None})
    assert stack.gw.call(race()) == 1


def test_alert_settings_are_checked(stack: JobStack) -> None:
    for bad in (
        {"balance_low_threshold": -1},
        {"balance_low_threshold": "lots"},
        {"usage_thresholds": [0]},
        {"usage_thresholds": "5"},
        {"nope": 1},
    ):
        status, body = stack.call("PUT", "/v1/alerts", bad)
        assert status == 400, bad
        assert body["error"]["param"] == next(iter(bad))


def test_key_created_rotated_and_revoked(stack: JobStack) -> None:
    status, made = stack.call("POST", "/v1/keys", {"name": "ci"})
    assert status == 201
    status, rotated = stack.call("POST", f"/v1/keys/{made['id']}/rotate")
    assert status == 201 and rotated["name"] == "ci" and rotated["rotated_from"] == made["id"]
    auth = {"Authorization": f"Bearer {made['key']}"}
    assert http("GET", stack.url + "/v1/balance", headers=auth)[0] == 401
    new_auth = {"Authorization": f"Bearer {rotated['key']}"}
    assert http("GET", stack.url + "/v1/balance", headers=new_auth)[0] == 200
    status, _ = stack.call("POST", f"/v1/keys/{made['id']}/rotate")
    assert status == 400  # a revoked key cannot be rotated
    status, _ = stack.call("DELETE", f"/v1/keys/{rotated['id']}")
    assert status == 200
    status, admin_made = stack.gw.admin("POST", "/admin/keys", ADMIN_KEY, {"account": "acme"})
    status, admin_rotated = stack.gw.admin(
        "POST", f"/admin/keys/{admin_made['id']}/rotate", ADMIN_KEY
    )
    assert status == 201 and admin_rotated["id"] != admin_made["id"]
    _until(lambda: len(_events(stack, "key.rotated")) >= 5)
    seen = [(e["data"]["action"], e["data"]["id"]) for e in _events(stack, "key.rotated")]
    for expected in [
        ("created", made["id"]),
        ("rotated", rotated["id"]),
        ("revoked", rotated["id"]),
        ("created", admin_made["id"]),
        ("rotated", admin_rotated["id"]),
    ]:
        assert expected in seen
    rotation = next(e for e in _events(stack, "key.rotated") if e["data"]["action"] == "rotated")
    assert rotation["data"]["previous_key_id"] == made["id"]
    assert rotated["key"] not in orjson.dumps(rotation).decode()  # never the key itself
    assert rotation["data"]["last4"] == rotated["key"][-4:]
