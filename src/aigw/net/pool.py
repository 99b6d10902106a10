"""Idle keep-alive connections to one origin (scheme, host, port), most recent first."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aigw.net.connection import Connection


class Pool:
    """Connections are taken newest first (warm, least likely closed by the server); the
    oldest are closed once idle longer than ``keepalive`` seconds or beyond ``max_idle``."""

    __slots__ = ("_clock", "_idle", "_live", "keepalive", "max_idle")

    def __init__(
        self, keepalive: float, max_idle: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._clock = clock
        self._idle: list[Connection] = []
        self._live: set[Connection] = set()  # every open connection, idle or busy
        self.keepalive = keepalive
        self.max_idle = max_idle

    def take(self) -> Connection | None:
        idle = self._idle
        while idle:
            conn = idle.pop()
            if not conn.closed and self._clock() - conn.idle_since < self.keepalive:
                return conn
            conn.close()
        return None

    def opened(self, conn: Connection) -> None:
        self._live.add(conn)

    def give_back(self, conn: Connection) -> None:
        now = self._clock()
        conn.idle_since = now
        idle = self._idle
        idle.append(conn)
        if len(idle) > self.max_idle or now - idle[0].idle_since >= self.keepalive:
            idle[0].close()  # forget() takes it out of the list

    def forget(self, conn: Connection) -> None:
        self._live.discard(conn)
        try:
            self._idle.remove(conn)
        except ValueError:
            pass

    @property
    def idle_count(self) -> int:
        return len(self._idle)

    def close(self) -> None:
        for conn in list(self._live):
            conn.close()
        self._idle.clear()
        self._live.clear()
