"""Files through the official openai SDK, and signed links to job results that need no key
until they expire."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import openai
import pytest

from aigw.server.appkeys import FILES
from tests.harness import http
from tests.jobs.conftest import JobStack


def _client(stack: JobStack) -> openai.OpenAI:
    return openai.OpenAI(base_url=stack.url + "/v1", api_key=stack.key, max_retries=0)


def test_openai_sdk_files_round_trip(jobstack: JobStack) -> None:
    client = _client(jobstack)
    content = b'{"custom_id": "a", "method": "POST", "url": "/v1/chat/completions", "body": {}}\n'
    made = client.files.create(file=("input.jsonl", content), purpose="batch")
    assert made.id.startswith("file-") and made.bytes == len(content)
    assert made.filename == "input.jsonl" and made.purpose == "batch"
    assert client.files.retrieve(made.id).id == made.id
    assert made.id in [f.id for f in client.files.list(purpose="batch")]
    assert client.files.content(made.id).read() == content
    assert client.files.delete(made.id).deleted
    with pytest.raises(openai.NotFoundError):
        client.files.retrieve(made.id)
    with pytest.raises(openai.NotFoundError):
        client.files.content(made.id)


def test_bad_uploads(jobstack: JobStack) -> None:
    client = _client(jobstack)
    with pytest.raises(openai.BadRequestError):
        client.files.create(file=("x.txt", b"x"), purpose="fine-tune")
    status, _, _ = http(
        "POST",
        jobstack.url + "/v1/files",
        data=b"{}",
        headers={"Authorization": f"Bearer {jobstack.key}", "Content-Type": "application/json"},
    )
    assert status == 400


def test_signed_link_serves_without_a_key_until_it_expires(jobstack: JobStack) -> None:
    with jobstack.sdk() as client:
        job = client.jobs.create_3d(prompt="a vase", model="simulator/3d")
        client.jobs.wait(job.id, poll_interval_seconds=0.05)
        expected = client.files.download(job.id, "output.glb")
        link = client.files.signed_url(job.id, "output.glb", expires_in=60)
    assert abs(link["expires_at"] - (time.time() + 60)) < 5
    status, headers, body = http("GET", link["url"])  # no Authorization header
    assert status == 200 and body == expected
    assert headers["Content-Type"] == "model/gltf-binary"
    query = parse_qs(urlsplit(link["url"]).query)
    forged = link["url"].replace(query["token"][0], "0" * 64)
    assert http("GET", forged)[0] == 400
    later = link["url"].replace(f"exp={query['exp'][0]}", f"exp={int(query['exp'][0]) + 999}")
    assert http("GET", later)[0] == 400  # the expiry is signed too
    past = int(time.time()) - 1
    token = jobstack.gw.app[FILES].sign(jobstack.account_id, job.id, "output.glb", past)
    expired = (
        f"{jobstack.url}/v1/files/jobs/{job.id}/output.glb/public"
        f"?token={token}&exp={past}&k={jobstack.account_id}"
    )
    status, _, body = http("GET", expired)
    assert status == 400 and b"expired" in body
    for bad in (59, 604801, "x"):
        status, _ = jobstack.call(
            "GET", f"/v1/files/jobs/{job.id}/output.glb/signed?expires_in={bad}"
        )
        assert status == 400
    status, _ = jobstack.call("GET", f"/v1/files/jobs/{job.id}/other.glb/signed")
    assert status == 404
    assert http("GET", jobstack.url + f"/v1/files/jobs/{job.id}/output.glb")[0] == 401
