"""Webhooks: signed so that aigateway.verify_webhook accepts them, retried until a 2xx with
every attempt logged, secrets rotated at once, and private addresses refused."""

from __future__ import annotations

import time

import orjson
import pytest
from aigateway import verify_webhook

from aigw.errors import InvalidRequest
from aigw.webhooks.signing import signature
from aigw.webhooks.urls import check_url
from tests.jobs.conftest import JobStack


def _until(predicate: object, within: float = 10.0) -> None:
    end = time.monotonic() + within
    while not predicate():  # type: ignore[operator]
        if time.monotonic() > end:
            pytest.fail("condition not reached")
        time.sleep(0.02)


def test_job_webhook_is_signed_and_verifies(jobstack: JobStack) -> None:
    hook = jobstack.receiver.url + "/job"
    with jobstack.sdk() as client:
        secret = client.webhook_secret.get()["secret"]
        job = client.jobs.create_video(prompt="hi", model="simulator/video", webhook_url=hook)
        _until(lambda: jobstack.receiver.at("job"))
    headers, body = jobstack.receiver.at("job")[0]
    assert verify_webhook(secret, body, headers["X-Gateway-Signature"])
    assert not verify_webhook(secret + "x", body, headers["X-Gateway-Signature"])
    event = orjson.loads(body)
    assert event["id"].startswith("evt_") and event["type"] == "job.completed"
    assert isinstance(event["created"], int)
    assert event["data"]["id"] == job.id and event["data"]["status"] == "completed"
    assert event["data"]["result_url"].endswith(f"/v1/files/jobs/{job.id}/output.mp4")


def test_account_endpoint_gets_failures_with_retries_logged(jobstack: JobStack) -> None:
    status, endpoint = jobstack.call(
        "POST", "/v1/webhooks", {"url": jobstack.receiver.url + "/acct", "events": ["job.failed"]}
    )
    assert status == 201 and endpoint["events"] == ["job.failed"]
    jobstack.receiver.fail_next = 2
    try:
        with jobstack.sdk() as client:
            ok = client.jobs.create_3d(prompt="fine", model="simulator/3d")
            bad = client.jobs.create_3d(prompt="[fail]", model="simulator/3d")
            client.jobs.wait(ok.id, poll_interval_seconds=0.05)
            _until(lambda: len(jobstack.receiver.at("acct")) >= 3)
    finally:
        jobstack.call("DELETE", f"/v1/webhooks/{endpoint['id']}")
    calls = jobstack.receiver.at("acct")
    assert len(calls) == 3  # 500, 500, then 200; job.completed was not subscribed
    assert {orjson.loads(b)["data"]["id"] for _, b in calls} == {bad.id}
    assert len({orjson.loads(b)["id"] for _, b in calls}) == 1  # one event, three attempts
    time.sleep(0.2)
    status, log = jobstack.call("GET", "/v1/webhooks/deliveries")
    mine = [d for d in log["data"] if d["url"].endswith("/acct")]
    assert mine[0]["status"] == "delivered"
    assert [a["status_code"] for a in mine[0]["attempts"]] == [500, 500, 200]
    status, listed = jobstack.call("GET", "/v1/webhooks")
    assert all(e["id"] != endpoint["id"] for e in listed["data"])


def test_rotation_kills_the_old_secret_at_once(jobstack: JobStack) -> None:
    hook = jobstack.receiver.url + "/rot"
    with jobstack.sdk() as client:
        old = client.webhook_secret.get()["secret"]
        new = client.webhook_secret.rotate()["secret"]
        assert new != old and client.webhook_secret.get()["secret"] == new
        client.jobs.create_3d(prompt="x", model="simulator/3d", webhook_url=hook)
        _until(lambda: jobstack.receiver.at("rot"))
    headers, body = jobstack.receiver.at("rot")[0]
    assert verify_webhook(new, body, headers["X-Gateway-Signature"])
    assert not verify_webhook(old, body, headers["X-Gateway-Signature"])


def test_signature_matches_the_sdk_scheme() -> None:
    header = signature("whsec_x", b'{"a":1}')
    assert verify_webhook("whsec_x", b'{"a":1}', header)
    assert not verify_webhook("whsec_x", b'{"a":2}', header)
    assert not verify_webhook("whsec_x", b'{"a":1}', signature("whsec_x", b'{"a":1}', 1000))


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/x",
        "http://localhost:9/x",
        "http://10.1.2.3/x",
        "http://192.168.0.1/x",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/x",
        "http://[::ffff:127.0.0.1]/x",
        "http://0.0.0.0/x",
        "ftp://example.com/x",
        "not a url",
    ],
)
async def test_private_and_malformed_urls_are_refused(url: str) -> None:
    with pytest.raises(InvalidRequest):
        await check_url(url, allow_private=False)


async def test_public_and_allowed_urls_pass() -> None:
    assert await check_url("http://93.184.215.14/hook", allow_private=False)
    assert await check_url("http://127.0.0.1:9/x", allow_private=True)


def test_gateway_refuses_bad_webhook_urls(jobstack: JobStack) -> None:
    status, body = jobstack.call(
        "POST", "/v1/videos/generations", {"prompt": "x", "webhook_url": "gopher://x"}
    )
    assert status == 400 and body["error"]["param"] == "webhook_url"
    status, body = jobstack.call("POST", "/v1/webhooks", {"url": "http://x", "events": ["nope"]})
    assert status == 400 and body["error"]["param"] == "events"
