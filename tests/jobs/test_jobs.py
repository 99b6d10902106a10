"""Async jobs end to end: the aigateway SDK against a gateway whose worker drives the
simulator's fal-style queue; billing, refunds, cancellation, restarts."""

from __future__ import annotations

import time
from typing import Any

import aigateway
import orjson
import pytest

from aigw.billing import ledger
from aigw.server.appkeys import DATABASE
from tests.harness import http
from tests.jobs.conftest import JobStack


def _entries(stack: JobStack, job_id: str) -> list[tuple[str, int]]:
    found = stack.gw.call(ledger.entries_for(stack.gw.app[DATABASE], stack.account_id))
    return [(e.kind, e.amount_micro_cents) for e in found if e.request_id == job_id]


def _submits(stack: JobStack) -> dict[str, Any]:
    status, _, body = http("GET", stack.sim.url + "/_sim/queue")
    assert status == 200
    result: dict[str, Any] = orjson.loads(body)
    return result


def test_video_job_completes_is_billed_per_second_and_downloads(jobstack: JobStack) -> None:
    with jobstack.sdk() as client:
        job = client.jobs.create_video(prompt="a cat surfing", model="simulator/video", duration=4)
        assert job.status == "queued" and job.modality == "video" and job.id.startswith("job_")
        assert job.raw is not None and job.raw["cost"] == pytest.approx(0.20)
        done = client.jobs.wait(job.id, timeout_seconds=10, poll_interval_seconds=0.05)
        assert done.status == "completed" and done.error is None
        assert done.result_url == f"{jobstack.url}/v1/files/jobs/{job.id}/output.mp4"
        data = client.files.download(job.id, "output.mp4")
    assert data.startswith(b"simulated output.mp4") and done.result == {
        "bytes": len(data),
        "content_type": "video/mp4",
        "seed": 42,
    }
    # 4 s x $0.05/s = $0.20, charged once, never refunded.
    assert _entries(jobstack, job.id) == [("charge", -20_000_000)]


def test_music_and_3d_use_their_own_units(jobstack: JobStack) -> None:
    with jobstack.sdk() as client:
        music = client.jobs.create_music(prompt="lofi", model="simulator/music", duration=10)
        mesh = client.jobs.create_3d(prompt="a teapot", model="simulator/3d")
        for job in (music, mesh):
            assert client.jobs.wait(job.id, poll_interval_seconds=0.05).status == "completed"
    assert _entries(jobstack, music.id) == [("charge", -2_000_000)]  # 10 s x $0.002
    assert _entries(jobstack, mesh.id) == [("charge", -2_000_000)]  # one item, $0.02


def test_fal_adapter_runs_against_the_simulated_queue(jobstack: JobStack) -> None:
    with jobstack.sdk() as client:
        job = client.jobs.create_3d(prompt="a chair")  # default model: fal/trellis
        done = client.jobs.wait(job.id, poll_interval_seconds=0.05)
    assert done.model == "fal/trellis" and done.status == "completed"
    assert done.result_url is not None and done.result_url.endswith("/output.glb")
    assert job.id in _submits(jobstack)["keys"]  # sent with the job id as idempotency key


@pytest.mark.parametrize("prompt", ["a dog", "[fail] a dog"])
def test_replicate_adapter_runs_against_the_simulated_predictions_api(
    jobstack: JobStack, prompt: str
) -> None:
    with jobstack.sdk() as client:
        job = client.jobs.create_video(prompt=prompt, model="replicate/minimax-video-01")
        done = client.jobs.wait(job.id, poll_interval_seconds=0.05)
        if "[fail]" in prompt:
            assert done.status == "failed" and done.error == "Simulated generation failure."
            assert _entries(jobstack, job.id) == [("charge", -50_000_000), ("refund", 50_000_000)]
        else:
            assert done.status == "completed" and done.result_url is not None
            assert client.files.download(job.id, "output.mp4").startswith(b"simulated")
            assert _entries(jobstack, job.id) == [("charge", -50_000_000)]  # $0.50 a video


def test_failed_job_is_refunded(jobstack: JobStack) -> None:
    with jobstack.sdk() as client:
        job = client.jobs.create_video(prompt="[fail] boom", model="simulator/video", duration=2)
        done = client.jobs.wait(job.id, poll_interval_seconds=0.05)
    assert done.status == "failed" and done.error == "Simulated generation failure."
    assert done.result_url is None
    assert _entries(jobstack, job.id) == [("charge", -10_000_000), ("refund", 10_000_000)]


def test_cancel_a_running_job_refunds_once_and_stops_it(jobstack: JobStack) -> None:
    with jobstack.sdk() as client:
        job = client.jobs.create_video(prompt="[seconds=30] long", model="simulator/video")
        jobstack.wait(job.id, ("processing",))
        cancelled = client.jobs.cancel(job.id)
        again = client.jobs.cancel(job.id)  # already ended: returned as it is
        assert cancelled.status == again.status == "cancelled"
        time.sleep(0.3)  # the worker sees it at its next poll and stops
        assert client.jobs.get(job.id).status == "cancelled"
    assert _entries(jobstack, job.id) == [("charge", -25_000_000), ("refund", 25_000_000)]


def test_errors(jobstack: JobStack) -> None:
    with jobstack.sdk() as client:
        with pytest.raises(aigateway.AIgatewayError) as err:
            client.jobs.get("job_nope")
        assert err.value.status_code == 404
        with pytest.raises(aigateway.AIgatewayError) as err:
            client.jobs.create_video(prompt="x", model="simulator/music")
        assert err.value.status_code == 400
        with pytest.raises(aigateway.AIgatewayError) as err:
            client.jobs.create_video(prompt="x", model="nope/video")
        assert (err.value.status_code, err.value.type) == (404, "model_not_found")
        with pytest.raises(aigateway.AIgatewayError) as err:
            client.jobs.create_video(prompt="x", model="simulator/video", duration=-1)
        assert err.value.status_code == 400
        with pytest.raises(aigateway.AIgatewayError) as err:
            client.jobs.create_video(prompt="x", model="simulator/video", bogus=1)
        assert err.value.status_code == 400
        made = []
        with pytest.raises(aigateway.AIgatewayError) as err:  # 40 x $3.20 > the $100 balance
            for _ in range(40):
                made.append(
                    client.jobs.create_video(prompt="[seconds=30] x", model="fal/veo3-fast")
                )
        assert (err.value.status_code, err.value.type) == (402, "insufficient_credits")
        assert 20 < len(made) < 40
        for job in made:  # refunded
            assert client.jobs.cancel(job.id).status == "cancelled"
    status, _ = jobstack.call("GET", "/v1/jobs/" + "x" * 10)
    assert status == 404
    status, _, _ = http("GET", jobstack.url + "/v1/jobs/job_x")
    assert status == 401


def test_jobs_survive_a_restart_and_are_submitted_once(jobstack: JobStack) -> None:
    with jobstack.sdk() as client:
        running = client.jobs.create_video(prompt="[seconds=1] resume me", model="simulator/video")
        jobstack.wait(running.id, ("processing",))
        jobstack.stop()
        jobstack.start()
    with jobstack.sdk() as client:
        done = client.jobs.wait(running.id, timeout_seconds=10, poll_interval_seconds=0.05)
        assert done.status == "completed"
        assert client.files.download(running.id, "output.mp4")
    keys = _submits(jobstack)["keys"]
    assert keys.count(running.id) == 1
    assert _entries(jobstack, running.id) == [("charge", -25_000_000)]


def test_a_failed_jobs_refund_gives_its_spend_back_to_the_caps(jobstack: JobStack) -> None:
    """A sub-account capped at 10 cents: a failed 10-cent job (tagged, under a tag budget)
    is refunded to the wallet and to both caps, so the next job fits again."""
    status, sub = jobstack.call(
        "POST", "/v1/sub-accounts", {"name": "capped", "spend_cap_cents": 10}
    )
    assert status == 201, sub
    status, budget = jobstack.call(
        "POST", "/v1/budgets", {"tag": "refund-tag", "monthly_cap_cents": 10}
    )
    assert status in (200, 201), budget
    headers = {"Authorization": f"Bearer {sub['key']}", "x-aig-tag": "refund-tag"}
    body = {"prompt": "[fail] boom", "model": "simulator/video", "duration": 2}  # $0.10

    def submit() -> tuple[int, Any]:
        status, _, raw = http(
            "POST", jobstack.url + "/v1/videos/generations", json=body, headers=headers
        )
        return status, orjson.loads(raw)

    status, job = submit()
    assert status == 202, job
    assert jobstack.wait(job["id"], ("failed",))["status"] == "failed"
    status, again = submit()  # would be 402 budget_exceeded had the refund not counted
    assert status == 202, again
    jobstack.wait(again["id"], ("failed",))
    status, _, raw = http("GET", jobstack.url + "/v1/balance", headers=headers)
    balance = orjson.loads(raw)
    assert status == 200 and balance["spent_this_month_cents"] == 0, balance  # net of refunds
    assert balance["remaining_this_month_cents"] == 10, balance
