"""Mutable state of one simulator: settings, counters, request log, scripted replies, cache."""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections import deque
from dataclasses import asdict, dataclass
from typing import Any

from aiohttp import web

from aigw.simulator.answer import Answer, Script, SimRequest, plan_answer, scripted_answer
from aigw.simulator.config import SimConfig
from aigw.simulator.faults import FaultQueue
from aigw.simulator.replay import Replay, load_recording

_SECRET_HEADERS = ("authorization", "x-api-key", "api-key", "proxy-authorization")


@dataclass(slots=True)
class Stats:
    """Counters over chat requests since start or the last reset."""

    requests: int = 0
    completions: int = 0
    streams_started: int = 0
    streams_completed: int = 0
    client_disconnects: int = 0
    faults_injected: int = 0
    replays_served: int = 0
    errors: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def redact(name: str, value: str) -> str:
    """Keep only the last 4 characters of a credential (enough to tell keys apart)."""
    if name.lower() not in _SECRET_HEADERS:
        return value
    scheme, _, secret = value.rpartition(" ")
    masked = "****" + secret[-4:] if len(secret) > 4 else "****"
    return f"{scheme} {masked}" if scheme else masked


class SimState:
    """Everything a running simulator remembers; one per app, used from its event loop only."""

    def __init__(self, config: SimConfig) -> None:
        self.initial = config
        self.config = config
        self.stats = Stats()
        self.faults = FaultQueue(config.seed)
        self.replays: deque[Replay] = deque()
        self.log: deque[dict[str, Any]] = deque(maxlen=config.log_size)
        self.closing = asyncio.Event()
        self._cache: dict[tuple[Any, ...], Answer] = {}
        self._standing: Replay | None = None
        self.scripts: list[Script] = []  # POST /_sim/answers: the first that applies wins
        self.set_config(config)

    def set_config(self, config: SimConfig) -> None:
        self.config = config
        if self.log.maxlen != config.log_size:
            self.log = deque(self.log, maxlen=config.log_size)
        self._standing = None
        if config.replay_path:
            content_type, body = load_recording(config.replay_path)
            self._standing = Replay(body, content_type)

    def reset(self) -> None:
        """Back to the start: initial settings, no queued faults or replays, zero counters."""
        self.set_config(self.initial)
        self.stats = Stats()
        self.faults.clear(self.initial.seed)
        self.replays.clear()
        self.log.clear()
        self.scripts.clear()

    def next_replay(self) -> Replay | None:
        if self.replays:
            return self.replays.popleft()
        return self._standing

    def record(self, method: str, path: str, headers: Any, body: Any, query: str = "") -> None:
        """Remember a received request for ``GET /_sim/requests`` (credentials redacted)."""
        self.log.append(
            {
                "time": time.time(),
                "method": method,
                "path": path,
                "query": query,
                "headers": {str(k): redact(k, v) for k, v in headers.items()},
                "body": body,
            }
        )

    def answer_for(self, raw: bytes, req: SimRequest, output_tokens: int | None) -> Answer:
        """The planned answer, cached by request bytes: repeated prompts cost a dict lookup."""
        for script in self.scripts:
            if script.applies(req):
                return scripted_answer(req, script.text)
        cfg = self.config
        length = (cfg.min_output_tokens, cfg.max_output_tokens)
        key = (hashlib.blake2b(raw, digest_size=16).digest(), output_tokens, length)
        answer = self._cache.get(key)
        if answer is None:
            answer = plan_answer(req, output_tokens, length)
            if len(self._cache) >= cfg.cache_size:
                del self._cache[next(iter(self._cache))]
            self._cache[key] = answer
        return answer


SIM_STATE = web.AppKey("aigw_simulator", SimState)
