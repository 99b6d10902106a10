"""The fast lane (server/fast_lane.py) on a real socket: what it serves is answered as aiohttp
answers it, and everything else on a connection is aiohttp's.

Raw HTTP/1.1 over a socket, so each test controls the exact bytes (pipelining, chunked
bodies, ``Expect``, ``Connection: close``)."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.harness import GatewayThread
from tests.server.conftest import Stack, start_stack

from aigw.server import fast_lane
from aigw.server.appkeys import DATABASE
from aigw.server.fast_lane import FastLane, LaneSite
from aigw.simulator import SimConfig, SimulatorThread
from aigw.store import request_log

BODY = json.dumps(
    {"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
).encode()


def lane_of(gw: GatewayThread) -> FastLane:
    assert gw.runner is not None
    (site,) = [s for s in gw.runner.sites if isinstance(s, LaneSite)]
    return site.lane


class Conn:
    """One client connection: write bytes, read whole HTTP/1.1 responses."""

    def __init__(self, url: str) -> None:
        host, port = url.removeprefix("http://").split(":")
        self.sock = socket.create_connection((host, int(port)), timeout=10)
        self.buf = b""

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def _fill(self) -> bool:
        chunk = self.sock.recv(65536)
        self.buf += chunk
        return bool(chunk)

    def response(self) -> tuple[int, dict[str, str], bytes]:
        while b"\r\n\r\n" not in self.buf:
            assert self._fill(), "connection closed before a response"
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        if status == 100:  # an interim answer; the real one follows
            return self.response()
        headers = {k.lower(): v.strip() for k, _, v in (h.partition(":") for h in lines[1:])}
        if headers.get("transfer-encoding") == "chunked":
            body = b""
            while True:
                while b"\r\n" not in self.buf:
                    assert self._fill()
                size_line, self.buf = self.buf.split(b"\r\n", 1)
                size = int(size_line, 16)
                while len(self.buf) < size + 2:
                    assert self._fill()
                body, self.buf = body + self.buf[:size], self.buf[size + 2 :]
                if size == 0:
                    return status, headers, body
        length = int(headers.get("content-length", "0"))
        while len(self.buf) < length:
            assert self._fill()
        body, self.buf = self.buf[:length], self.buf[length:]
        return status, headers, body

    def closed(self) -> bool:
        """The server closed the connection (EOF), nothing more was sent."""
        self.sock.settimeout(5)
        return self.sock.recv(1) == b""

    def close(self) -> None:
        self.sock.close()


def chat(key: str, *, extra: bytes = b"", body: bytes = BODY, rid: str | None = None) -> bytes:
    head = (
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: gw\r\n"
        b"Authorization: Bearer " + key.encode() + b"\r\n"
        b"Content-Type: application/json\r\n"
    )
    if rid is not None:
        head += b"X-Request-Id: " + rid.encode() + b"\r\n"
    return head + extra + b"Content-Length: %d\r\n\r\n" % len(body) + body


def via_aiohttp(stack: Stack, extra: bytes) -> tuple[int, dict[str, str], bytes]:
    """The same request with a chunked body: not the lane's, so aiohttp's parser and server
    answer it (on a connection of its own)."""
    other = Conn(stack.gw.url)
    try:
        head = chat(stack.key, extra=extra).split(b"Content-Length")[0]
        chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(BODY), BODY)
        other.send(head + b"Transfer-Encoding: chunked\r\n\r\n" + chunked)
        return other.response()
    finally:
        other.close()


@pytest.fixture
def conn(stack: Stack) -> Iterator[Conn]:
    c = Conn(stack.gw.url)
    yield c
    c.close()


def test_the_lane_answers_as_aiohttp_does(stack: Stack, conn: Conn) -> None:
    lane = lane_of(stack.gw)
    served, handed = lane.served, lane.handed_off
    conn.send(chat(stack.key, extra=b"x-aig-tag: caf\xc3\xa9\r\n"))
    status, lane_headers, lane_body = conn.response()
    assert status == 200
    assert (lane.served, lane.handed_off) == (served + 1, handed)

    status, aio_headers, aio_body = via_aiohttp(stack, b"x-aig-tag: caf\xc3\xa9\r\n")
    assert status == 200
    assert lane.handed_off == handed + 1
    assert set(lane_headers) == set(aio_headers)
    for name in ("content-type", "server", "x-aig-provider", "x-aig-route-policy", "x-cost-cents"):
        assert lane_headers[name] == aio_headers[name], name
    assert json.loads(lane_body).keys() == json.loads(aio_body).keys()
    stack.gw.flush_log()
    recent = stack.gw.call(request_log.recent(stack.gw.app[DATABASE], limit=2))
    assert [e.tag for e in recent] == ["café", "café"]  # both read the header alike


def test_undecodable_header_bytes_are_read_alike(stack: Stack, conn: Conn) -> None:
    odd = b"x-aig-tag: a\xffb\r\n"  # not UTF-8: kept as a surrogate, not printable
    conn.send(chat(stack.key, extra=odd))
    lane_status, _, lane_body = conn.response()
    aio_status, _, aio_body = via_aiohttp(stack, odd)
    assert lane_status == aio_status == 400
    assert json.loads(lane_body)["error"] == json.loads(aio_body)["error"]


def test_pipelined_requests_are_answered_in_order(stack: Stack, conn: Conn) -> None:
    conn.send(b"".join(chat(stack.key, rid=f"pipe-{i}") for i in range(3)))
    ids = []
    for _ in range(3):
        status, headers, _ = conn.response()
        assert status == 200
        ids.append(headers["x-request-id"])
    assert ids == ["pipe-0", "pipe-1", "pipe-2"]


def test_a_head_and_body_sent_apart_are_waited_for(stack: Stack, conn: Conn) -> None:
    lane = lane_of(stack.gw)
    served = lane.served
    raw = chat(stack.key, rid="apart")
    split = raw.index(b"\r\n\r\n") + 4
    for piece in (raw[:split], raw[split : split + 10], raw[split + 10 :]):
        conn.send(piece)
        time.sleep(0.05)  # separate segments: the lane sees each one alone
    status, headers, _ = conn.response()
    assert status == 200 and headers["x-request-id"] == "apart"
    assert lane.served == served + 1


def test_other_requests_hand_the_connection_to_aiohttp(stack: Stack, conn: Conn) -> None:
    lane = lane_of(stack.gw)
    handed = lane.handed_off
    conn.send(chat(stack.key))
    assert conn.response()[0] == 200
    conn.send(b"GET /healthz HTTP/1.1\r\nHost: gw\r\n\r\n")
    assert conn.response()[0] == 200
    conn.send(chat(stack.key, rid="after"))  # aiohttp's connection now
    status, headers, _ = conn.response()
    assert status == 200 and headers["x-request-id"] == "after"
    assert lane.handed_off == handed + 1


def test_unusual_requests_get_aiohttp_answers(stack: Stack, conn: Conn) -> None:
    conn.send(chat(stack.key, extra=b"Expect: 100-continue\r\n"))
    assert conn.response()[0] == 200  # after aiohttp's 100 Continue
    for bad in (
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: gw\r\nBad Header\r\n\r\n",
        b"POST /v1/chat/completions HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nx",
    ):
        c = Conn(stack.gw.url)
        try:
            c.send(bad)
            assert c.response()[0] == 400
        finally:
            c.close()


def test_a_body_over_the_limit_is_413_in_the_api_shape(stack: Stack, conn: Conn) -> None:
    limit = stack.gw.settings.max_body_bytes
    conn.send(
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: gw\r\n"
        b"Authorization: Bearer " + stack.key.encode() + b"\r\n"
        b"Content-Length: %d\r\n\r\n" % (limit + 1)
    )
    conn.send(b"x" * (limit + 1))
    status, _, body = conn.response()
    assert status == 413
    assert json.loads(body)["error"]["type"] == "request_too_large"


def test_connection_close_is_honoured(stack: Stack, conn: Conn) -> None:
    conn.send(chat(stack.key, extra=b"Connection: close\r\n"))
    status, headers, _ = conn.response()
    assert status == 200 and headers["connection"] == "close"
    assert conn.closed()


def test_errors_keep_their_shape_and_the_connection(stack: Stack, conn: Conn) -> None:
    conn.send(chat("sk-aig-wrong" + "x" * 40))
    status, _, body = conn.response()
    assert status == 401
    assert json.loads(body)["error"]["type"] == "authentication_error"
    conn.send(chat(stack.key, body=b"{not json"))
    status, _, body = conn.response()
    assert status == 400 and json.loads(body)["error"]["type"] == "invalid_request_error"
    conn.send(chat(stack.key))
    assert conn.response()[0] == 200


def test_shutdown_lets_a_request_in_flight_finish(tmp_path: Path) -> None:
    with SimulatorThread(SimConfig(latency_ms=600)) as sim:
        stacks = start_stack(f"sqlite:///{tmp_path / 'aigw.db'}", sim)
        stack = next(stacks)
        c = Conn(stack.gw.url)
        answer: list[tuple[int, dict[str, str], bytes]] = []
        reader = threading.Thread(target=lambda: answer.append(c.response()))
        try:
            c.send(chat(stack.key, rid="in-flight"))
            reader.start()
            time.sleep(0.2)  # the call is upstream now
            with pytest.raises(StopIteration):
                next(stacks)  # shuts the gateway down (runner.cleanup)
            reader.join(10)
        finally:
            c.close()
        assert answer and answer[0][0] == 200
        assert answer[0][1]["x-request-id"] == "in-flight"


def test_idle_connections_are_closed_after_the_keepalive_time(
    sim_server: SimulatorThread, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fast_lane, "KEEPALIVE_SECONDS", 0.2)
    monkeypatch.setattr(fast_lane, "_SWEEP_SECONDS", 0.05)
    stacks = start_stack(f"sqlite:///{tmp_path / 'aigw.db'}", sim_server)
    stack = next(stacks)
    try:
        idle, busy_again = Conn(stack.gw.url), Conn(stack.gw.url)
        for c in (idle, busy_again):
            c.send(chat(stack.key))
            assert c.response()[0] == 200
        time.sleep(0.1)
        busy_again.send(chat(stack.key))  # used again before its time is up
        assert busy_again.response()[0] == 200
        time.sleep(0.15)
        assert idle.closed()  # idle 0.25 s > 0.2 s
        busy_again.send(chat(stack.key))
        assert busy_again.response()[0] == 200
        idle.close()
        busy_again.close()
    finally:
        stacks.close()


def test_the_lane_can_be_turned_off(sim_server: SimulatorThread, tmp_path: Path) -> None:
    stacks = start_stack(f"sqlite:///{tmp_path / 'aigw.db'}", sim_server, fast_lane=False)
    stack = next(stacks)
    try:
        assert stack.gw.runner is not None
        assert not [s for s in stack.gw.runner.sites if isinstance(s, LaneSite)]
        c = Conn(stack.gw.url)
        c.send(chat(stack.key))
        assert c.response()[0] == 200
        c.close()
    finally:
        stacks.close()
