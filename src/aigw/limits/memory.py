"""In-process limiter (the single-process default): exact rolling windows in memory."""

from __future__ import annotations

import time
from bisect import bisect_right
from collections import deque
from collections.abc import Callable, Sequence

from aigw.limits.base import BURST_WINDOW, WINDOW, Decision, Limit, burst_requests, merge


class _Subject:
    __slots__ = ("requests", "tokens")

    def __init__(self) -> None:
        self.requests: deque[float] = deque()
        self.tokens: deque[tuple[float, int]] = deque()

    def prune(self, now: float) -> None:
        while self.requests and self.requests[0] <= now - WINDOW:
            self.requests.popleft()
        while self.tokens and self.tokens[0][0] <= now - WINDOW:
            self.tokens.popleft()


class MemoryLimiter:
    """Synchronous inside: check and count happen with no ``await`` between them."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._subjects: dict[str, _Subject] = {}

    def _view(self, limit: Limit, s: _Subject, now: float) -> tuple[Decision, float]:
        """(headers view, seconds until this subject admits one more request; 0 = now)."""
        wait = 0.0
        limit_r = remaining_r = None
        reset_r = 0.0
        if limit.rpm is not None:
            in_window = len(s.requests)
            burst = burst_requests(limit.rpm)
            recent = in_window - bisect_right(s.requests, now - BURST_WINDOW)
            limit_r, remaining_r = limit.rpm, min(limit.rpm - in_window, burst - recent)
            if in_window >= limit.rpm:
                wait = max(wait, s.requests[in_window - limit.rpm] + WINDOW - now)
            if recent >= burst:
                wait = max(wait, s.requests[in_window - burst] + BURST_WINDOW - now)
            reset_r = (s.requests[0] + WINDOW - now) if s.requests else 0.0
        limit_t = remaining_t = None
        reset_t = 0.0
        if limit.tpm is not None:
            used = sum(n for _, n in s.tokens)
            limit_t, remaining_t = limit.tpm, limit.tpm - used
            if used >= limit.tpm:
                # Wait until enough old tokens leave the window to go under the limit.
                excess = used - limit.tpm + 1
                for t, n in s.tokens:
                    excess -= n
                    if excess <= 0:
                        wait = max(wait, t + WINDOW - now)
                        break
            reset_t = (s.tokens[0][0] + WINDOW - now) if s.tokens else 0.0
        view = Decision(True, limit_r, remaining_r, reset_r, limit_t, remaining_t, reset_t)
        return view, wait

    async def acquire(self, limits: Sequence[Limit]) -> Decision:
        now = self._clock()
        views, wait = [], 0.0
        subjects = []
        for limit in limits:
            s = self._subjects.setdefault(limit.subject, _Subject())
            s.prune(now)
            view, subject_wait = self._view(limit, s, now)
            views.append(view)
            subjects.append((limit, s))
            wait = max(wait, subject_wait)
        if wait > 0:
            return merge(views, False, wait)
        counted = []
        for (limit, s), view in zip(subjects, views, strict=True):
            if limit.rpm is not None:
                s.requests.append(now)
                view = Decision(
                    True,
                    view.limit_requests,
                    (view.remaining_requests or 0) - 1,
                    view.reset_requests or WINDOW,
                    view.limit_tokens,
                    view.remaining_tokens,
                    view.reset_tokens,
                )
            counted.append(view)
        return merge(counted, True, 0.0)

    async def add_tokens(self, limits: Sequence[Limit], tokens: int) -> None:
        if tokens <= 0:
            return
        now = self._clock()
        for limit in limits:
            if limit.tpm is not None:
                self._subjects.setdefault(limit.subject, _Subject()).tokens.append((now, tokens))

    async def close(self) -> None:
        self._subjects.clear()
