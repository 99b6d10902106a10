"""A circuit breaker per deployment, and the trailing-window counters it reads.

A deployment that keeps failing gets no traffic for a cool-down (its callers fall back or fail
fast) instead of costing every request a timeout; then one probe is let through, and its
outcome closes the breaker or opens it again. Everything is synchronous and allocation-free
on the success path: the event loop makes each call atomic.
"""

from __future__ import annotations

CLOSED = "closed"
HALF_OPEN = "half_open"
OPEN = "open"
STATES = (CLOSED, HALF_OPEN, OPEN)


class Window:
    """Success and failure counts over the trailing ``seconds``, kept in ``buckets`` slices.

    Adding is O(1); reading sums the slices still inside the window, so counts age out in
    steps of ``seconds / buckets``.
    """

    __slots__ = ("_fail", "_n", "_ok", "_stamps", "_width")

    def __init__(self, seconds: float, buckets: int = 10) -> None:
        self._n = max(1, buckets)
        self._width = max(seconds, 0.001) / self._n
        self._stamps = [-1] * self._n
        self._ok = [0] * self._n
        self._fail = [0] * self._n

    def add(self, ok: bool, now: float) -> None:
        tick = int(now / self._width)
        i = tick % self._n
        if self._stamps[i] != tick:
            self._stamps[i], self._ok[i], self._fail[i] = tick, 0, 0
        if ok:
            self._ok[i] += 1
        else:
            self._fail[i] += 1

    def counts(self, now: float) -> tuple[int, int]:
        """(successes, failures) inside the window."""
        oldest = int(now / self._width) - self._n + 1
        ok = fail = 0
        for i, stamp in enumerate(self._stamps):
            if stamp >= oldest:
                ok += self._ok[i]
                fail += self._fail[i]
        return ok, fail

    def clear(self) -> None:
        self._stamps = [-1] * self._n


class Breaker:
    """Closed → open when, over ``window`` seconds with at least ``min_requests`` outcomes,
    the failure share reaches ``failure_rate``; open → half-open after ``cooldown``; one probe
    at a time while half-open: its success closes the breaker, its failure re-opens it.

    A probe whose outcome never arrives (a bug, a lost task) stops blocking after another
    ``cooldown``, so a breaker cannot stay stuck.
    """

    __slots__ = (
        "cooldown",
        "failure_rate",
        "min_requests",
        "opened_at",
        "opens",
        "probe_started",
        "state",
        "window",
    )

    def __init__(
        self, *, failure_rate: float, min_requests: int, window: float, cooldown: float
    ) -> None:
        self.failure_rate = failure_rate
        self.min_requests = max(1, min_requests)
        self.cooldown = cooldown
        self.window = Window(window)
        self.state = CLOSED
        self.opened_at = 0.0
        self.probe_started: float | None = None
        self.opens = 0  # how many times it has opened (a metric)

    def available(self, now: float) -> bool:
        """Would ``allow`` let a call through now? (No side effect.)"""
        if self.state == CLOSED:
            return True
        if self.state == OPEN:
            return now - self.opened_at >= self.cooldown
        return self.probe_started is None or now - self.probe_started >= self.cooldown

    def allow(self, now: float) -> bool:
        """May a call go to this deployment now? Half-open admits one probe at a time."""
        if self.state == CLOSED:
            return True
        if not self.available(now):
            return False
        self.state = HALF_OPEN
        self.probe_started = now
        return True

    def success(self, now: float) -> None:
        if self.state != CLOSED:
            self.state = CLOSED
            self.probe_started = None
            self.window.clear()
        self.window.add(True, now)

    def failure(self, now: float) -> bool:
        """Count a failure; True when it opened the breaker."""
        if self.state == HALF_OPEN:
            self._open(now)
            return True
        if self.state == OPEN:
            return False  # a call that started before the breaker opened
        self.window.add(False, now)
        ok, fail = self.window.counts(now)
        if ok + fail >= self.min_requests and fail >= self.failure_rate * (ok + fail):
            self._open(now)
            return True
        return False

    def release(self) -> None:
        """A probe ended without telling anything (client error, client gone): let another."""
        if self.state == HALF_OPEN:
            self.probe_started = None

    def retry_in(self, now: float) -> float:
        """Seconds until a probe may go (0 when calls are allowed)."""
        if self.state == OPEN:
            return max(0.0, self.cooldown - (now - self.opened_at))
        if self.state == HALF_OPEN and self.probe_started is not None:
            return max(0.0, self.cooldown - (now - self.probe_started))
        return 0.0

    def _open(self, now: float) -> None:
        self.state = OPEN
        self.opened_at = now
        self.probe_started = None
        self.opens += 1
