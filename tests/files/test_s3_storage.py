"""Files in an S3-compatible bucket (moto's server, signatures checked): uploads, batch
outputs and job results land in the bucket, are streamed back through the gateway (with a
key or a signed link), survive a restart, and a missing object is a clean 404."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator
from pathlib import Path

import openai
import orjson
import pytest

from aigw.config import load_settings
from aigw.errors import ConfigError
from aigw.files.store import FileStore
from aigw.store.db import Database
from tests.files.s3server import S3Server, s3_server
from tests.harness import http
from tests.jobs.conftest import JobStack, job_stack

BUCKET = "aigw-files"
PREFIX = "tenant-a/"


@pytest.fixture(scope="module")
def s3() -> Iterator[S3Server]:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    with s3_server() as server:
        server.create_bucket(BUCKET)
        yield server


@pytest.fixture(scope="module")
def s3stack(s3: S3Server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[JobStack]:
    with job_stack(
        tmp_path_factory.mktemp("s3jobs"),
        files_storage="s3",
        s3_bucket=BUCKET,
        s3_endpoint_url=s3.url,
        s3_access_key_id=s3.access_key_id,
        s3_secret_access_key=s3.secret_access_key,
        s3_prefix=PREFIX,
    ) as stack:
        yield stack


def _client(stack: JobStack) -> openai.OpenAI:
    return openai.OpenAI(base_url=stack.url + "/v1", api_key=stack.key, max_retries=0)


def _local(stack: JobStack) -> Path:
    return Path(stack.settings.data_dir)


def test_uploads_live_in_the_bucket_and_survive_a_restart(s3stack: JobStack, s3: S3Server) -> None:
    client = _client(s3stack)
    content = b"line one\n" * 50_000  # ~450 KB, streamed back in chunks
    made = client.files.create(file=("big.jsonl", content), purpose="batch")
    assert s3.object(BUCKET, f"{PREFIX}files/{made.id}") == content
    assert not (_local(s3stack) / "files" / made.id).exists()
    assert client.files.content(made.id).read() == content
    s3stack.stop()
    s3stack.start()  # a new process on the same database and bucket
    client = _client(s3stack)
    assert client.files.retrieve(made.id).bytes == len(content)
    assert client.files.content(made.id).read() == content
    assert client.files.delete(made.id).deleted
    assert s3.object(BUCKET, f"{PREFIX}files/{made.id}") is None
    with pytest.raises(openai.NotFoundError):
        client.files.content(made.id)


def test_an_object_missing_from_the_bucket_is_a_clean_404(s3stack: JobStack, s3: S3Server) -> None:
    client = _client(s3stack)
    made = client.files.create(file=("x.jsonl", b"{}\n"), purpose="batch")
    s3.remove(BUCKET, f"{PREFIX}files/{made.id}")  # gone behind the gateway's back
    assert client.files.retrieve(made.id).id == made.id  # the record is still there
    status, _, body = http(
        "GET",
        f"{s3stack.url}/v1/files/{made.id}/content",
        headers={"Authorization": f"Bearer {s3stack.key}"},
    )
    assert status == 404 and orjson.loads(body)["error"]["type"] == "not_found"
    assert client.files.delete(made.id).deleted  # deleting what is already gone is fine


def test_job_results_and_signed_links_through_the_bucket(s3stack: JobStack, s3: S3Server) -> None:
    with s3stack.sdk() as client:
        job = client.jobs.create_3d(prompt="a vase", model="simulator/3d")
        client.jobs.wait(job.id, poll_interval_seconds=0.05)
        expected = client.files.download(job.id, "output.glb")
        link = client.files.signed_url(job.id, "output.glb", expires_in=60)
    assert expected and s3.object(BUCKET, f"{PREFIX}jobs/{job.id}/output.glb") == expected
    assert not (_local(s3stack) / "jobs" / job.id).exists()
    status, headers, body = http("GET", link["url"])  # no key: the signed link
    assert status == 200 and body == expected
    assert headers["Content-Type"] == "model/gltf-binary"


def test_batches_read_and_write_the_bucket(s3stack: JobStack, s3: S3Server) -> None:
    client = _client(s3stack)
    body = {"model": "xai/grok-4.3", "messages": [{"role": "user", "content": "hi"}]}
    lines = b"".join(
        orjson.dumps({"custom_id": c, "method": "POST", "url": "/v1/chat/completions",
                      "body": body}) + b"\n"
        for c in ("a", "b")
    )  # fmt: skip
    file = client.files.create(file=("in.jsonl", lines), purpose="batch")
    batch = client.batches.create(
        input_file_id=file.id, endpoint="/v1/chat/completions", completion_window="24h"
    )
    end = time.monotonic() + 15
    while (batch := client.batches.retrieve(batch.id)).status not in ("completed", "failed"):
        assert time.monotonic() < end, batch.status
        time.sleep(0.05)
    assert batch.status == "completed" and batch.output_file_id
    output = client.files.content(batch.output_file_id).read()
    assert {orjson.loads(x)["custom_id"] for x in output.splitlines()} == {"a", "b"}
    assert s3.object(BUCKET, f"{PREFIX}files/{batch.output_file_id}") == output


def test_wrong_bucket_or_secret_is_refused_at_start(s3: S3Server, tmp_path: Path) -> None:
    db = Database.from_url(f"sqlite:///{tmp_path / 'a.db'}")

    async def start(**overrides: str) -> None:
        settings = load_settings(
            environ={},
            overrides={
                "data_dir": str(tmp_path),
                "files_storage": "s3",
                "s3_endpoint_url": s3.url,
                "s3_access_key_id": s3.access_key_id,
                "s3_secret_access_key": s3.secret_access_key,
                "s3_bucket": BUCKET,
                **overrides,
            },
        )
        store = FileStore.from_settings(settings)
        try:
            await store.start(db)
        finally:
            await store.close()

    async def go() -> None:
        await db.migrate()
        try:
            await start()  # the right settings start
            with pytest.raises(ConfigError, match="does not exist"):
                await start(s3_bucket="no-such-bucket")
            with pytest.raises(ConfigError, match="refused"):
                await start(s3_secret_access_key="wrong")
        finally:
            await db.close()

    asyncio.run(go())


def test_s3_settings_are_checked() -> None:
    with pytest.raises(ConfigError, match="s3_bucket"):
        load_settings(environ={"AIGW_FILES_STORAGE": "s3"})
    with pytest.raises(ConfigError, match="files_storage"):
        load_settings(environ={"AIGW_FILES_STORAGE": "ftp"})
    settings = load_settings(
        environ={
            "AIGW_FILES_STORAGE": "s3",
            "AIGW_S3_BUCKET": "b",
            "AIGW_S3_SECRET_ACCESS_KEY": "zz-s3cr3t",
        }
    )
    assert "zz-s3cr3t" not in repr(settings)
