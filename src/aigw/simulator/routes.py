"""Routes of the non-OpenAI provider formats the simulator speaks, at each provider's own paths.

One server answers every format, so a gateway test points every provider's base URL at the
same simulator: Anthropic ``/v1/messages``, Gemini ``/v1beta/models/{model}:generateContent``
and ``:streamGenerateContent``, Bedrock ``/model/{id}/converse[-stream]``, Cohere ``/v2/chat``,
Azure OpenAI ``/openai/deployments/{deployment}/chat/completions``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from aiohttp import web

from aigw.simulator import (
    anthropic_format,
    bedrock_format,
    cohere_format,
    gemini_format,
    media_routes,
)
from aigw.simulator.formats import SimFormat, SimRequestError
from aigw.simulator.state import SIM_STATE

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
ANTHROPIC = anthropic_format.AnthropicFormat()
GEMINI = gemini_format.GeminiFormat()
COHERE = cohere_format.CohereFormat()
AZURE = cohere_format.AzureFormat()
BEDROCK = bedrock_format.BedrockFormat()


def add_provider_routes(app: web.Application, chat_handler: Callable[[SimFormat], Handler]) -> None:
    app.router.add_post("/v1/messages", chat_handler(ANTHROPIC))
    app.router.add_post("/v1/messages/count_tokens", _count_tokens)
    app.router.add_post("/v1beta/models/{model_action}", _gemini(chat_handler(GEMINI)))
    app.router.add_post("/v2/chat", chat_handler(COHERE))
    app.router.add_post("/model/{model_id}/converse", chat_handler(BEDROCK))
    app.router.add_post("/model/{model_id}/converse-stream", chat_handler(BEDROCK))
    app.router.add_post("/openai/deployments/{deployment}/chat/completions", chat_handler(AZURE))


def _gemini(chat: Handler) -> Handler:
    """Gemini's one path pattern carries chat and embedding actions alike."""

    async def handle(request: web.Request) -> web.StreamResponse:
        if media_routes.is_gemini_embed(request.match_info["model_action"]):
            return await media_routes.GEMINI_EMBED(request)  # type: ignore[no-any-return]
        return await chat(request)

    return handle


async def _count_tokens(request: web.Request) -> web.Response:
    state = request.app[SIM_STATE]
    raw = await request.read()
    try:
        body: Any = orjson.loads(raw)
    except orjson.JSONDecodeError:
        body = None
    state.record(request.method, request.path, request.headers, body, request.query_string)
    fmt = ANTHROPIC
    if fmt.authenticate(request) is None:
        status, payload, headers = fmt.error(fmt.missing_key())
        return web.Response(status=status, body=payload, content_type="application/json",
                            headers=headers)  # fmt: skip
    try:
        req = anthropic_format.parse(body, count_only=True)
    except SimRequestError as exc:
        status, payload, headers = fmt.error(exc.reply)
        return web.Response(status=status, body=payload, content_type="application/json",
                            headers=headers)  # fmt: skip
    return web.json_response({"input_tokens": req.prompt_tokens})
