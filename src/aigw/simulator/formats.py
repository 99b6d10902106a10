"""What a simulated wire format provides to the app: parse, render, errors, auth.

Each provider format (``openai_format``, ``anthropic_format``, ``gemini_format``,
``bedrock_format``, ``cohere_format``) parses its request into the format-independent
``SimRequest`` and renders the same ``Answer``; the app (routes, pacing, faults, replays) is
shared. Byte layouts follow the recorded traffic in tests/fixtures.
"""

from __future__ import annotations

import os
from typing import Any, Protocol

import orjson
from aiohttp import web

from aigw.simulator import openai_format as oai
from aigw.simulator.answer import Answer, SimRequest
from aigw.simulator.faults import ErrorReply

Frames = list[tuple[bytes, int]]
RAW_BODY = web.RequestKey("aigw_sim_raw_body", bytes)
"""The request body as received (a format that checks a signature over it reads it here)."""


class SimRequestError(ValueError):
    """A request the provider would reject; ``reply`` is the error to render."""

    def __init__(self, reply: ErrorReply) -> None:
        super().__init__(reply.message)
        self.reply = reply


class SimFormat(Protocol):
    name: str
    stream_content_type: str
    malformed_frame: bytes

    def authenticate(self, request: web.Request) -> str | None:
        """The API key the request carries, or None when it carries none."""

    def missing_key(self) -> ErrorReply: ...

    def parse(self, request: web.Request, body: Any) -> SimRequest:
        """Check the request as the provider would; ``SimRequestError`` on a 400 case."""

    def body(self, answer: Answer, req: SimRequest, usage_style: str) -> bytes: ...

    def frames(self, answer: Answer, req: SimRequest, usage_style: str) -> Frames: ...

    def stream_error_frame(self) -> bytes: ...

    def error(self, reply: ErrorReply) -> tuple[int, bytes, dict[str, str]]:
        """Status, body and extra headers of an error response in this format."""

    def headers(self) -> dict[str, str]:
        """Headers every response of this provider carries."""


class OpenAIFormat:
    name = "openai"
    stream_content_type = "text/event-stream"
    malformed_frame = b"data: {not json\n\n" + oai.DONE

    def authenticate(self, request: web.Request) -> str | None:
        scheme, _, key = request.headers.get("Authorization", "").partition(" ")
        return key.strip() if scheme.lower() == "bearer" and key.strip() else None

    def missing_key(self) -> ErrorReply:
        return ErrorReply(
            401,
            "invalid_request_error",
            "You didn't provide an API key. You need to provide your API key in an "
            "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
        )

    def parse(self, request: web.Request, body: Any) -> SimRequest:
        try:
            return oai.parse_request(body)
        except oai.RequestError as exc:
            raise SimRequestError(exc.reply) from None

    def body(self, answer: Answer, req: SimRequest, usage_style: str) -> bytes:
        return oai.completion_body(answer, req, oai.Envelope.new(req), usage_style)

    def frames(self, answer: Answer, req: SimRequest, usage_style: str) -> Frames:
        return oai.stream_frames(answer, req, oai.Envelope.new(req), usage_style)

    def stream_error_frame(self) -> bytes:
        error = {"message": "The server had an error while processing your request.",
                 "type": "server_error", "param": None, "code": None}  # fmt: skip
        return b"data: " + orjson.dumps({"error": error}) + b"\n\n"

    def error(self, reply: ErrorReply) -> tuple[int, bytes, dict[str, str]]:
        extra = {} if reply.retry_after is None else {"retry-after": f"{reply.retry_after:g}"}
        return reply.status, oai.error_body(reply), extra

    def headers(self) -> dict[str, str]:
        return {
            "x-request-id": "req_" + os.urandom(16).hex(),
            "openai-version": "2020-10-01",
            "openai-processing-ms": "1",
            "x-ratelimit-limit-requests": "30000",
            "x-ratelimit-remaining-requests": "29999",
            "x-ratelimit-reset-requests": "2ms",
        }


def key_from(request: web.Request, header: str) -> str | None:
    value = request.headers.get(header, "").strip()
    return value or None
