"""The non-chat endpoints: ``/v1/embeddings``, ``/v1/images/generations``, ``/v1/audio/speech``,
``/v1/audio/transcriptions``, ``/v1/moderations`` and ``/v1/rerank``.

Each is authed, rate-limited, reserved, billed at the catalog price, request-logged and
counted in the metrics exactly like ``/v1/chat/completions``; the work is in
``server/media_call.py``, the wire formats in ``formats/`` and ``providers/media.py``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from aiohttp import web

from aigw.errors import GatewayError, InvalidRequest
from aigw.formats import openai_media as checks
from aigw.formats.media_answers import MediaAnswer
from aigw.formats.openai_media import MediaRequest
from aigw.providers.media import OPERATIONS, Operation
from aigw.routing.router import ATTEMPTS_HEADER, POLICY_HEADER, PROVIDER_HEADER
from aigw.server import local_models
from aigw.server.appkeys import BILLING, LIMITS
from aigw.server.auth import authenticate
from aigw.server.media_call import client_body, run_media, setup
from aigw.server.metering import Meter
from aigw.server.middleware import (
    REQUEST_ID,
    client_request_id,
    gateway_request_id,
    request_id_of,
)
from aigw.server.observe import end_request
from aigw.server.routed import attempts_text
from aigw.server.routes.chat import read_tag

DEFAULT_MODERATION_MODEL = "openai/omni-moderation-latest"
Parse = Callable[[web.Request], Awaitable[MediaRequest]]


async def _json_body(request: web.Request) -> Any:
    return checks.load_json(await request.read())


async def parse_embeddings(request: web.Request) -> MediaRequest:
    return checks.check_embeddings(await _json_body(request))


async def parse_images(request: web.Request) -> MediaRequest:
    return checks.check_images(await _json_body(request))


async def parse_speech(request: web.Request) -> MediaRequest:
    return checks.check_speech(await _json_body(request))


async def parse_moderations(request: web.Request) -> MediaRequest:
    return checks.check_moderation(await _json_body(request), DEFAULT_MODERATION_MODEL)


async def parse_rerank(request: web.Request) -> MediaRequest:
    return checks.check_rerank(await _json_body(request))


async def parse_transcriptions(request: web.Request) -> MediaRequest:
    """A multipart upload, like OpenAI's: ``file`` plus text fields."""
    if not request.content_type.startswith("multipart/"):
        raise InvalidRequest(
            "Send multipart/form-data with the audio as 'file' (like OpenAI's API).",
            param="file",
        )
    try:
        form = await request.post()
    except web.HTTPException:  # 413 and friends: the middleware renders them
        raise
    except Exception:  # malformed parts (bad headers, bad encoding): the client's problem
        raise InvalidRequest("The multipart body could not be read.", param="file") from None
    fields: list[tuple[str, str]] = []
    file: bytes | None = None
    filename, file_type = "audio", "application/octet-stream"
    for name, value in form.items():
        if isinstance(value, web.FileField):
            if name == "file":
                file = value.file.read()
                filename, file_type = value.filename, value.content_type
            continue
        fields.append((name, value if isinstance(value, str) else bytes(value).decode()))
    return checks.check_transcription(fields, file, filename, file_type)


def handler(op: Operation, parse: Parse) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handle(request: web.Request) -> web.Response:
        app = request.app
        meter = Meter(gateway_request_id(request), client_request_id(request))
        try:
            return await _handle(request, meter, op, parse)
        except GatewayError as err:
            meter.fail(err)
            raise
        except BaseException:
            meter.crashed()
            raise
        finally:
            await end_request(app, meter, op.name)

    handle.__doc__ = f"{op.path}: billed and logged like chat."
    return handle


async def _handle(request: web.Request, meter: Meter, op: Operation, parse: Parse) -> web.Response:
    app = request.app
    meter.key = key = await authenticate(request)
    billing, limits = app[BILLING], app[LIMITS]
    meter.limits = limits.for_key(key, billing.sub_rpm(key))
    meter.rate_headers = (await limits.acquire(meter.limits)).headers()
    meter.tag = read_tag(request) or billing.default_tag(key)
    req = await parse(request)
    answer = await run_media(app, meter, op, req)
    assert meter.model is not None
    headers = {REQUEST_ID: request_id_of(request), **meter.rate_headers}
    route = meter.route
    if route is not None and route.candidate is not None:
        headers[PROVIDER_HEADER] = route.candidate.model.provider
        headers[POLICY_HEADER] = route.plan.policy
        headers[ATTEMPTS_HEADER] = attempts_text(route.attempts)
    else:
        headers[PROVIDER_HEADER] = meter.model.provider
    headers.update(meter.cost_headers())
    return respond(op, answer, meter, headers)


def respond(
    op: Operation, answer: MediaAnswer, meter: Meter, headers: dict[str, str]
) -> web.Response:
    body = client_body(op, answer, meter)
    if isinstance(body, bytes):
        return web.Response(body=body, headers={**headers, "Content-Type": answer.content_type})
    if isinstance(body, str):
        return web.Response(text=body, content_type="text/plain", headers=headers)
    return web.Response(body=orjson.dumps(body), content_type="application/json", headers=headers)


PARSERS: dict[str, Parse] = {
    "embeddings": parse_embeddings,
    "images": parse_images,
    "speech": parse_speech,
    "transcriptions": parse_transcriptions,
    "moderations": parse_moderations,
    "rerank": parse_rerank,
}


def setup_routes(app: web.Application) -> None:
    setup(app)
    local_models.setup(app)  # provider ``local``: in-process models
    for name, parse in PARSERS.items():
        op = OPERATIONS[name]
        app.router.add_post(op.path, handler(op, parse))
