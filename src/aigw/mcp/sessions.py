"""Sessions of the legacy MCP HTTP+SSE transport (protocol 2024-11-05): each is one open
event stream plus the queue of JSON-RPC answers waiting to go out on it.

In-process only (a session is tied to the TCP connection of its stream, so it cannot move to
another replica anyway), bounded in number, dropped when the stream ends, when the client
goes away or after ``idle_seconds`` without a message or a call in flight."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

from aigw.errors import RateLimited, ServiceUnavailable

MAX_IN_FLIGHT = 16  # calls one session may have running at once; more get 429


@dataclass(eq=False)
class Session:
    id: str
    key_id: str
    outbox: asyncio.Queue[bytes | None] = field(default_factory=asyncio.Queue)
    last_active: float = field(default_factory=time.monotonic)
    audio: bool = False  # set by ``initialize``: 2024-11-05 has no audio content blocks
    tasks: set[asyncio.Task[None]] = field(default_factory=set)
    closed: bool = False

    def touch(self) -> None:
        self.last_active = time.monotonic()

    def send(self, data: bytes) -> None:
        if not self.closed:
            self.outbox.put_nowait(data)
            self.touch()

    def spawn(self, work: Coroutine[Any, Any, None]) -> None:
        """Run one POSTed message in the background: its answer goes out on the stream, so
        the POST can answer 202 at once and calls may overlap."""
        if len(self.tasks) >= MAX_IN_FLIGHT:
            work.close()
            raise RateLimited(
                f"This MCP session already has {MAX_IN_FLIGHT} calls running; wait for "
                "their answers on the stream."
            )
        task = asyncio.create_task(work)
        self.tasks.add(task)
        task.add_done_callback(self._done)
        self.touch()

    def _done(self, task: asyncio.Task[None]) -> None:
        self.tasks.discard(task)
        self.touch()

    def idle_for(self, now: float) -> float:
        return 0.0 if self.tasks else now - self.last_active

    def close(self) -> None:
        """Ends the stream (its loop reads the ``None``) and cancels calls still running."""
        if self.closed:
            return
        self.closed = True
        self.outbox.put_nowait(None)
        for task in list(self.tasks):
            task.cancel()


class SessionStore:
    def __init__(self, max_sessions: int, idle_seconds: float, keepalive_seconds: float) -> None:
        self.max_sessions = max_sessions
        self.idle_seconds = idle_seconds
        self.keepalive_seconds = keepalive_seconds
        self._sessions: dict[str, Session] = {}

    def __len__(self) -> int:
        return len(self._sessions)

    def open(self, key_id: str) -> Session:
        if len(self._sessions) >= self.max_sessions:
            raise ServiceUnavailable(
                f"Too many open MCP SSE sessions ({self.max_sessions}); retry later or use "
                "POST /mcp (Streamable HTTP, no session needed).",
                retry_after=5,
            )
        session = Session(secrets.token_urlsafe(24), key_id)
        self._sessions[session.id] = session
        return session

    def get(self, session_id: str, key_id: str) -> Session | None:
        """The session, only for the key that opened it (another key sees no such session)."""
        session = self._sessions.get(session_id)
        if session is None or session.closed or session.key_id != key_id:
            return None
        return session

    def drop(self, session: Session) -> None:
        session.close()
        self._sessions.pop(session.id, None)

    def close_all(self) -> None:
        for session in list(self._sessions.values()):
            self.drop(session)
