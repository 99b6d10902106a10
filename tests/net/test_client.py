"""aigw.net.HttpClient against real sockets: scripted HTTP/1.1 servers (asyncio streams) that
answer the way upstreams do, and the odd ways they misbehave."""

from __future__ import annotations

import asyncio
import datetime
import gzip
import ssl
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any

import pytest
import uvloop
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from aigw.net import BadResponse, ConnectFailed, Disconnected, HttpClient
from aigw.net.client import encode_head, parse_target
from aigw.net.response import HIGH_WATER

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


class Server:
    """A loopback server running ``handler`` per connection; counts connections."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.connections = 0
        self.requests: list[bytes] = []
        self.port = 0
        self._server: asyncio.Server | None = None

    async def __aenter__(self) -> Server:
        async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            self.connections += 1
            try:
                await self.handler(reader, writer)
            except (ConnectionError, asyncio.IncompleteReadError):
                pass
            finally:
                writer.close()

        self._server = await asyncio.start_server(on_connect, "127.0.0.1", 0, ssl=self.tls)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    tls: ssl.SSLContext | None = None

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()

    def url(self, path: str = "/v1/chat/completions") -> str:
        scheme = "https" if self.tls else "http"
        return f"{scheme}://127.0.0.1:{self.port}{path}"


async def read_request(reader: asyncio.StreamReader) -> tuple[bytes, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    return head, await reader.readexactly(length)


def answer(body: bytes, *extra: bytes, status: bytes = b"200 OK") -> bytes:
    head = [b"HTTP/1.1 " + status, b"Content-Type: application/json", *extra]
    head.append(b"Content-Length: %d" % len(body))
    return b"\r\n".join(head) + b"\r\n\r\n" + body


def echo_server(server: list[Server]) -> Handler:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            head, body = await read_request(reader)
            server[0].requests.append(head)
            writer.write(answer(b'{"echo":' + body + b"}"))
            await writer.drain()

    return handler


def run(coro: Coroutine[Any, Any, None]) -> None:
    asyncio.run(coro)


def test_keep_alive_reuses_one_connection() -> None:
    async def scenario() -> None:
        holder: list[Server] = []
        async with Server(echo_server(holder)) as server:
            holder.append(server)
            client = HttpClient()
            for i in range(3):
                response = await client.post(
                    server.url(), data=b'{"n":%d}' % i, headers={"Authorization": "Bearer k"}
                )
                assert response.status == 200
                assert response.content_type == "application/json"
                assert await response.read() == b'{"echo":{"n":%d}}' % i
            assert server.connections == 1
            assert client.idle_connections() == 1
            head = server.requests[0].decode()
            assert head.startswith("POST /v1/chat/completions HTTP/1.1\r\n")
            assert f"Host: 127.0.0.1:{server.port}\r\n" in head
            assert "Authorization: Bearer k\r\n" in head
            assert "Content-Length: 7\r\n" in head
            await client.close()

    run(scenario())


def test_works_on_uvloop() -> None:
    async def scenario() -> None:
        holder: list[Server] = []
        async with Server(echo_server(holder)) as server:
            holder.append(server)
            client = HttpClient()
            response = await client.post(server.url(), data=b"1", headers={})
            assert await response.read() == b'{"echo":1}'
            await client.close()

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(scenario())


def test_chunked_stream_arrives_piece_by_piece() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
        )
        for i in range(3):
            event = b"data: %d\n\n" % i
            writer.write(b"%x\r\n%s\r\n" % (len(event), event))
            await writer.drain()
            await asyncio.sleep(0.02)
        writer.write(b"0\r\n\r\n")
        await writer.drain()
        await reader.read()  # keep the connection open until the client closes it

    async def scenario() -> None:
        async with Server(handler) as server:
            client = HttpClient()
            response = await client.post(server.url(), data=b"{}", headers={})
            assert response.content_type == "text/event-stream"
            pieces = [chunk async for chunk in response.chunks()]
            assert pieces == [b"data: 0\n\n", b"data: 1\n\n", b"data: 2\n\n"]
            assert response.at_eof()
            response.release()
            assert client.idle_connections() == 1
            await client.close()

    run(scenario())


def test_gzip_answers_are_decoded() -> None:
    payload = b'{"choices":[]}' * 50

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head, _ = await read_request(reader)
        assert b"Accept-Encoding: gzip, deflate" in head
        writer.write(answer(gzip.compress(payload), b"Content-Encoding: gzip"))
        await writer.drain()
        await reader.read()

    async def scenario() -> None:
        async with Server(handler) as server:
            client = HttpClient()
            response = await client.post(server.url(), data=b"{}", headers={})
            assert await response.read() == payload
            await client.close()

    run(scenario())


def test_body_delimited_by_close_and_connection_close_is_not_reused() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nall of it")
        await writer.drain()
        writer.close()

    async def scenario() -> None:
        async with Server(handler) as server:
            client = HttpClient()
            for _ in range(2):
                response = await client.post(server.url(), data=b"{}", headers={})
                assert await response.read() == b"all of it"
            assert server.connections == 2, "Connection: close is honoured"
            assert client.idle_connections() == 0
            await client.close()

    run(scenario())


def test_a_cut_body_raises_disconnected() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly part")
        await writer.drain()
        writer.close()

    async def scenario() -> None:
        async with Server(handler) as server:
            client = HttpClient()
            response = await client.post(server.url(), data=b"{}", headers={})
            assert await response.readany() == b"only part"
            with pytest.raises(Disconnected):
                await response.readany()
            await client.close()

    run(scenario())


def test_closed_before_answering_raises_disconnected() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.close()

    async def scenario() -> None:
        async with Server(handler) as server:
            client = HttpClient()
            with pytest.raises(Disconnected):
                await client.post(server.url(), data=b"{}", headers={})
            await client.close()

    run(scenario())


def test_refused_connection_raises_connect_failed() -> None:
    async def scenario() -> None:
        async with Server(echo_server([])) as server:
            port = server.port
        client = HttpClient()
        with pytest.raises(ConnectFailed):
            await client.post(f"http://127.0.0.1:{port}/v1", data=b"{}", headers={})
        await client.close()

    run(scenario())


def test_not_http_raises_bad_response() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"SSH-2.0-OpenSSH\r\n\r\n")
        await writer.drain()
        await reader.read()

    async def scenario() -> None:
        async with Server(handler) as server:
            client = HttpClient()
            with pytest.raises(BadResponse):
                await client.post(server.url(), data=b"{}", headers={})
            await client.close()

    run(scenario())


def test_unrequested_encoding_raises_bad_response() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(answer(b"xx", b"Content-Encoding: zstd"))
        await writer.drain()
        await reader.read()

    async def scenario() -> None:
        async with Server(handler) as server:
            client = HttpClient()
            with pytest.raises(BadResponse, match="zstd"):
                await client.post(server.url(), data=b"{}", headers={})
            await client.close()

    run(scenario())


def test_informational_answer_is_skipped() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\n" + answer(b"ok"))
        await writer.drain()
        await reader.read()

    async def scenario() -> None:
        async with Server(handler) as server:
            client = HttpClient()
            response = await client.post(server.url(), data=b"{}", headers={})
            assert response.status == 200
            assert await response.read() == b"ok"
            await client.close()

    run(scenario())


def test_total_timeout_and_gap_timeout() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        await reader.read()

    async def stalls(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n")
        await writer.drain()
        await reader.read()

    async def scenario() -> None:
        async with Server(silent) as server:
            client = HttpClient(total_timeout=0.2)
            with pytest.raises(TimeoutError):
                await client.post(server.url(), data=b"{}", headers={})
            await client.close()
        async with Server(stalls) as server:
            client = HttpClient()
            response = await client.post(server.url(), data=b"{}", headers={})
            response.watch_gaps(0.2)
            assert await response.readany() == b"abc"
            started = asyncio.get_running_loop().time()
            with pytest.raises(TimeoutError):
                await response.readany()
            assert asyncio.get_running_loop().time() - started < 1.0
            await client.close()

    run(scenario())


def test_slow_reader_pauses_the_socket_and_loses_nothing() -> None:
    total = 4 * HIGH_WATER
    piece = b"x" * 16384

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % total)
        for _ in range(total // len(piece)):
            writer.write(piece)
            await writer.drain()
        await reader.read()

    async def scenario() -> None:
        async with Server(handler) as server:
            client = HttpClient()
            response = await client.post(server.url(), data=b"{}", headers={})
            await asyncio.sleep(0.2)  # the server writes while nobody reads
            assert response._size <= HIGH_WATER + 65536 * 4, "reading paused near high water"
            first = await response.readany()
            assert len(first) > len(piece), "readany hands over everything buffered at once"
            received = len(first)
            while data := await response.readany():
                received += len(data)
            assert received == total
            await client.close()

    run(scenario())


def test_https_with_a_private_ca(tmp_path: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(__import__("ipaddress").ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_tls.load_cert_chain(cert_file, key_file)
    trusted = ssl.create_default_context(cafile=str(cert_file))

    async def scenario() -> None:
        holder: list[Server] = []
        server = Server(echo_server(holder))
        server.tls = server_tls
        async with server:
            holder.append(server)
            client = HttpClient(ssl_context=trusted)
            response = await client.post(server.url(), data=b"2", headers={})
            assert await response.read() == b'{"echo":2}'
            await client.close()
            with pytest.raises(ConnectFailed):  # the system store does not know this CA
                await HttpClient().post(server.url(), data=b"2", headers={})

    run(scenario())


def test_heads_refuse_line_breaks_and_reserved_names() -> None:
    target = parse_target("http://example.test/v1/x?y=1")
    assert target.prefix == b"POST /v1/x?y=1 HTTP/1.1\r\nHost: example.test\r\n"
    assert parse_target("https://[::1]:8443/a").prefix.endswith(b"Host: [::1]:8443\r\n")
    with pytest.raises(ValueError, match="line break"):
        encode_head(target, {"Authorization": "Bearer k\r\nX-Evil: 1"}, 0)
    with pytest.raises(ValueError, match="set by the HTTP client"):
        encode_head(target, {"Content-Length": "5"}, 0)
    with pytest.raises(ValueError):
        parse_target("ftp://example.test/")
    with pytest.raises(ValueError):
        parse_target("http://user:pw@example.test/")


def test_an_idle_connection_the_server_closed_is_not_reused() -> None:
    """Servers drop idle keep-alive connections: the pool forgets one as soon as it closes,
    and the next call opens a fresh connection instead of failing on the dead one."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(answer(b"once"))  # keep-alive by default: no Connection: close
        await writer.drain()
        await asyncio.sleep(0.05)
        writer.close()  # ... then the server's idle timeout closes it

    async def scenario() -> None:
        async with Server(handler) as server:
            client = HttpClient()
            for _ in range(3):
                response = await client.post(server.url(), data=b"{}", headers={})
                assert await response.read() == b"once"
                assert client.idle_connections() == 1
                await asyncio.sleep(0.2)
                assert client.idle_connections() == 0, "closed by the server: forgotten"
            assert server.connections == 3
            await client.close()

    run(scenario())


def test_no_content_answers_end_at_their_headers() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            await read_request(reader)
            writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")
            await writer.drain()

    async def scenario() -> None:
        async with Server(handler) as server:
            client = HttpClient()
            for _ in range(2):
                response = await client.post(server.url(), data=b"{}", headers={})
                assert response.status == 204 and await response.read() == b""
            assert server.connections == 1
            await client.close()

    run(scenario())
