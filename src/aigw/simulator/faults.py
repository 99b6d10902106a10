"""Injected failures: their names, what each one looks like, and which request gets one.

Error faults become an ``ErrorReply`` (status, OpenAI-style type/code, message) that a format
module renders in its own error shape; transport faults (timeout, stall, cut, reset, ...) are
carried out by the app while it writes the response.
"""

from __future__ import annotations

import random
from collections import deque
from dataclasses import dataclass

ERROR_FAULTS = ("500", "502", "503", "529", "429", "429_quota", "401", "400", "context_length")
TRANSPORT_FAULTS = (
    "timeout",
    "slow_first_token",
    "stall",
    "cut",
    "malformed",
    "reset",
    "stream_error",
)
FAULT_NAMES = ERROR_FAULTS + TRANSPORT_FAULTS

FAULT_HELP: dict[str, str] = {
    "500": "500 server_error",
    "502": "502 server_error (bad gateway)",
    "503": "503 server_error (overloaded)",
    "429": "429 rate_limit_exceeded with Retry-After (retryable)",
    "429_quota": "429 insufficient_quota (not retryable)",
    "401": "401 invalid_api_key",
    "400": "400 invalid_request_error",
    "529": "529 overloaded (Anthropic's status for a saturated API)",
    "context_length": "400: the prompt is longer than the model's context window",
    "timeout": "accept the request and never answer (until --hang-seconds)",
    "slow_first_token": "wait --fault-delay-ms before the first byte of the answer",
    "stall": "send --fault-after-chunks chunks, then hang",
    "cut": "send --fault-after-chunks chunks, then drop the connection (no [DONE])",
    "malformed": "200 with invalid JSON (non-stream) or a `data: {not json` frame (stream)",
    "reset": "drop the connection before any response",
    "stream_error": "send --fault-after-chunks chunks, then an error event inside the stream",
}


def check_fault_name(name: str) -> str:
    """``name`` if it is a known fault or an HTTP error status (e.g. "504"); else ValueError."""
    if name in FAULT_NAMES or (name.isdigit() and 400 <= int(name) <= 599):
        return name
    raise ValueError(f"unknown fault {name!r}; expected one of {', '.join(FAULT_NAMES)}")


@dataclass(frozen=True, slots=True)
class Fault:
    """One fault to inject; unset fields fall back to the server's settings."""

    name: str
    status: int | None = None
    retry_after: float | None = None
    after_chunks: int | None = None
    delay_ms: float | None = None

    def __post_init__(self) -> None:
        check_fault_name(self.name)

    @property
    def is_error(self) -> bool:
        return self.name not in TRANSPORT_FAULTS


@dataclass(frozen=True, slots=True)
class ErrorReply:
    """An error response in neutral terms; ``type``/``code`` follow OpenAI's vocabulary."""

    status: int
    type: str
    message: str
    code: str | None = None
    param: str | None = None
    retry_after: float | None = None


def mask_key(key: str) -> str:
    """Mask an API key the way OpenAI does in 401 messages (``sk-ab***...wxyz``)."""
    if len(key) <= 8:
        return "*" * len(key)
    return key[:5] + "*" * (len(key) - 9) + key[-4:]


def error_reply(fault: Fault, *, model: str, api_key: str, retry_after: float) -> ErrorReply:
    """The error an error-kind ``fault`` produces (``fault.status`` overrides the status)."""
    name = fault.name
    wait = fault.retry_after if fault.retry_after is not None else retry_after
    if name == "429":
        reply = ErrorReply(
            429,
            "requests",
            f"Rate limit reached for {model} in organization org-simulator on requests per min "
            f"(RPM): Limit 500, Used 500, Requested 1. Please try again in {wait:g}s. "
            "Visit https://platform.openai.com/account/rate-limits to learn more.",
            code="rate_limit_exceeded",
            retry_after=wait,
        )
    elif name == "429_quota":
        reply = ErrorReply(
            429,
            "insufficient_quota",
            "You exceeded your current quota, please check your plan and billing details.",
            code="insufficient_quota",
        )
    elif name == "401":
        reply = ErrorReply(
            401,
            "invalid_request_error",
            f"Incorrect API key provided: {mask_key(api_key)}. You can find your API key at "
            "https://platform.openai.com/account/api-keys.",
            code="invalid_api_key",
        )
    elif name == "400":
        reply = ErrorReply(400, "invalid_request_error", "Simulated invalid request.")
    elif name == "context_length":
        reply = ErrorReply(
            400,
            "invalid_request_error",
            "This model's maximum context length is 128000 tokens. However, your messages "
            "resulted in 130000 tokens. Please reduce the length of the messages.",
            code="context_length_exceeded",
            param="messages",
        )
    else:
        reply = _generic(int(name))
    if fault.status is not None and fault.status != reply.status:
        reply = ErrorReply(
            fault.status, reply.type, reply.message, reply.code, reply.param, reply.retry_after
        )
    return reply


def _generic(status: int) -> ErrorReply:
    messages = {
        500: "The server had an error while processing your request. Sorry about that!",
        502: "Bad gateway.",
        503: "The engine is currently overloaded, please try again later.",
        529: "Overloaded",
        504: "Gateway timeout.",
    }
    if status >= 500:
        return ErrorReply(status, "server_error", messages.get(status, "Simulated server error."))
    return ErrorReply(status, "invalid_request_error", f"Simulated error {status}.")


class FaultQueue:
    """Chooses the fault for each chat request.

    Precedence: a fault named in the request's headers, then queued faults (control API, one
    per request, FIFO), then the server-level fault at ``rate`` with a seeded RNG.
    """

    def __init__(self, seed: int) -> None:
        self.queued: deque[Fault] = deque()
        self._rng = random.Random(seed)

    def add(self, fault: Fault, count: int = 1) -> None:
        self.queued.extend([fault] * count)

    def clear(self, seed: int) -> None:
        self.queued.clear()
        self._rng = random.Random(seed)

    def pick(self, header: Fault | None, server: Fault | None, rate: float) -> Fault | None:
        if header is not None:
            return header
        if self.queued:
            return self.queued.popleft()
        if server is not None and (rate >= 1.0 or self._rng.random() < rate):
            return server
        return None
