"""A real S3-compatible server for tests: moto's server on a free port, with signature
checking switched on (an IAM user with an access key and an S3 policy), so a wrongly signed
request fails as it would on AWS."""

from __future__ import annotations

import asyncio
import json
import re
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urlencode

import aiohttp
from moto.server import ThreadedMotoServer

from aigw.files.s3 import S3Backend
from aigw.providers.aws_sigv4 import Credentials, sign

REGION = "us-east-1"
POLICY = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*",
                                                   "Resource": "*"}]}  # fmt: skip


@dataclass
class S3Server:
    url: str
    access_key_id: str
    secret_access_key: str

    def backend(self, bucket: str, prefix: str = "", secret: str | None = None) -> S3Backend:
        creds = Credentials(self.access_key_id, secret or self.secret_access_key)
        return S3Backend(
            bucket=bucket, region=REGION, credentials=creds, endpoint_url=self.url, prefix=prefix
        )

    def run(self, coro_fn: object) -> object:
        return asyncio.run(coro_fn)  # type: ignore[arg-type]

    def create_bucket(self, bucket: str) -> None:
        async def go() -> None:
            store = self.backend(bucket)
            try:
                headers = store.signed_headers("PUT", store.base)
                async with store.session.put(store.base, headers=headers) as resp:
                    assert resp.status == 200, await resp.text()
            finally:
                await store.close()

        asyncio.run(go())

    def object(self, bucket: str, key: str) -> bytes | None:
        async def go() -> bytes | None:
            store = self.backend(bucket)
            try:
                return await store.get(key)
            finally:
                await store.close()

        return asyncio.run(go())

    def remove(self, bucket: str, key: str) -> None:
        async def go() -> None:
            store = self.backend(bucket)
            try:
                await store.delete(key)
            finally:
                await store.close()

        asyncio.run(go())


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _iam(session: aiohttp.ClientSession, url: str, **params: str) -> str:
    body = urlencode({**params, "Version": "2010-05-08"}).encode()
    headers = sign(
        "POST",
        url + "/",
        {"Content-Type": "application/x-www-form-urlencoded"},
        body,
        Credentials("bootstrap", "bootstrap"),
        region=REGION,
        service="iam",
    )
    async with session.post(url + "/", data=body, headers=headers) as resp:
        text = await resp.text()
        assert resp.status == 200, text
        return text


async def _bootstrap(url: str) -> tuple[str, str]:
    """Let three calls through unsigned, make a user with an S3 policy and its key."""
    async with aiohttp.ClientSession() as session:
        async with session.post(url + "/moto-api/reset-auth", data=b"3") as resp:
            assert resp.status == 200
        await _iam(session, url, Action="CreateUser", UserName="aigw")
        await _iam(
            session,
            url,
            Action="PutUserPolicy",
            UserName="aigw",
            PolicyName="s3",
            PolicyDocument=json.dumps(POLICY),
        )
        text = await _iam(session, url, Action="CreateAccessKey", UserName="aigw")
    key_id = re.search(r"<AccessKeyId>([^<]+)</AccessKeyId>", text)
    secret = re.search(r"<SecretAccessKey>([^<]+)</SecretAccessKey>", text)
    assert key_id and secret, text
    return key_id.group(1), secret.group(1)


@contextmanager
def s3_server() -> Iterator[S3Server]:
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        url = f"http://127.0.0.1:{port}"
        key_id, secret = asyncio.run(_bootstrap(url))
        yield S3Server(url, key_id, secret)
    finally:
        server.stop()
