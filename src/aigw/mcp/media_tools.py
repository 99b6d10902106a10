"""MCP tools for the non-chat endpoints: ``embed``, ``generate_image``, ``speak``,
``transcribe``, ``moderate``, ``rerank``. Each checks its body with the endpoint's own check
(formats/openai_media.py) and runs through ``run_media`` with a meter handled exactly as
routes/media.py handles it: rate limited, reserved, billed, request-logged and observed
(metrics, health) under the endpoint label ``mcp``."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import Any

import orjson

from aigw.errors import GatewayError, InvalidRequest
from aigw.formats import openai_media as checks
from aigw.formats.embedding_vectors import to_base64, vectors_of
from aigw.formats.media_answers import MediaAnswer
from aigw.formats.openai_media import MediaRequest
from aigw.mcp.base import Ctx, Rich, Tool, boolean, integer, number, obj, string
from aigw.providers.media import OPERATIONS
from aigw.server.appkeys import BILLING, LIMITS
from aigw.server.media_call import client_body, run_media
from aigw.server.metering import Meter
from aigw.server.middleware import new_request_id
from aigw.server.observe import end_request
from aigw.server.routes.media import DEFAULT_MODERATION_MODEL

ENDPOINT = "mcp"
IMAGE_FIELDS = (
    "model", "prompt", "n", "size", "quality", "style", "background", "output_format",
    "response_format",
)  # fmt: skip
IMAGE_TYPES = {"png": "image/png", "jpeg": "image/jpeg", "jpg": "image/jpeg", "webp": "image/webp"}


async def call_media(
    ctx: Ctx, op_name: str, build: Callable[[], MediaRequest]
) -> tuple[Meter, MediaAnswer, Any]:
    """(meter, answer, the body the HTTP endpoint would answer) of one billed call."""
    app, key = ctx.app, ctx.key
    op = OPERATIONS[op_name]
    meter = Meter(new_request_id())
    meter.key, meter.tag = key, ctx.tag
    limits = app[LIMITS]
    try:
        meter.limits = limits.for_key(key, app[BILLING].sub_rpm(key))
        await limits.acquire(meter.limits)
        answer = await run_media(app, meter, op, build())
        return meter, answer, client_body(op, answer, meter)
    except GatewayError as err:
        meter.fail(err)
        raise
    except BaseException:
        meter.crashed()
        raise
    finally:
        await end_request(app, meter, ENDPOINT)


def _body(args: dict[str, Any], *names: str) -> dict[str, Any]:
    return {n: args[n] for n in names if args.get(n) is not None}


async def _embed(ctx: Ctx, args: dict[str, Any]) -> Any:
    body = _body(args, "model", "input", "dimensions", "encoding_format")
    meter, _, out = await call_media(ctx, "embeddings", lambda: checks.check_embeddings(body))
    vectors = vectors_of(out)
    as_b64 = args.get("encoding_format") == "base64"
    return {
        "id": meter.request_id,
        "model": out.get("model"),
        "dimensions": len(vectors[0]) if vectors else 0,
        "encoding_format": "base64" if as_b64 else "float",
        "data": [
            {"index": i, "embedding": to_base64(v) if as_b64 else v} for i, v in enumerate(vectors)
        ],
        "usage": out.get("usage"),
    }


async def _generate_image(ctx: Ctx, args: dict[str, Any]) -> Any:
    body = _body(args, *IMAGE_FIELDS)
    meter, _, out = await call_media(ctx, "images", lambda: checks.check_images(body))
    mime = IMAGE_TYPES.get(str(args.get("output_format") or "png"), "image/png")
    images: list[dict[str, Any]] = []
    listed: list[dict[str, Any]] = []
    for i, item in enumerate(out.get("data") or []):
        if isinstance(item, dict) and isinstance(item.get("b64_json"), str):
            images.append({"type": "image", "data": item["b64_json"], "mimeType": mime})
            listed.append({**item, "b64_json": f"<image content {len(images)}>"})
        else:
            listed.append(item if isinstance(item, dict) else {"index": i})
    summary = {"id": meter.request_id, **out, "data": listed}
    text = {"type": "text", "text": orjson.dumps(summary).decode()}
    return Rich([text, *images], {"id": meter.request_id, **out})


async def _speak(ctx: Ctx, args: dict[str, Any]) -> Any:
    body = _body(args, "model", "input", "voice", "response_format", "speed", "instructions")
    meter, answer, out = await call_media(ctx, "speech", lambda: checks.check_speech(body))
    audio = out if isinstance(out, bytes) else b""
    meta = {
        "id": meter.request_id,
        "model": meter.model.id if meter.model else None,
        "mime_type": answer.content_type,
        "bytes": len(audio),
        "usage": meter.cost_fields(),
    }
    data = base64.b64encode(audio).decode()
    return Rich(
        [
            {"type": "audio", "data": data, "mimeType": answer.content_type},
            {"type": "text", "text": orjson.dumps(meta).decode()},
        ],
        meta,
    )


def _audio(args: dict[str, Any]) -> bytes:
    try:
        raw = base64.b64decode(args["audio"], validate=True)
    except (binascii.Error, ValueError):
        raise InvalidRequest("'audio' must be base64-encoded audio.", param="audio") from None
    if not raw:
        raise InvalidRequest("'audio' must not be empty.", param="audio")
    return raw


async def _transcribe(ctx: Ctx, args: dict[str, Any]) -> Any:
    audio = _audio(args)
    fields = [("model", args["model"])]
    fields += [(n, str(args[n])) for n in ("prompt", "language", "temperature") if n in args]
    fields += [("response_format", args.get("response_format", "json"))]
    name, mime = args.get("filename", "audio"), args.get("mime_type", "application/octet-stream")
    meter, _, out = await call_media(
        ctx, "transcriptions", lambda: checks.check_transcription(fields, audio, name, mime)
    )
    body = out if isinstance(out, dict) else {"text": out}
    return {"id": meter.request_id, "model": meter.model.id if meter.model else None, **body}


async def _moderate(ctx: Ctx, args: dict[str, Any]) -> Any:
    body = _body(args, "model", "input")
    meter, _, out = await call_media(
        ctx, "moderations", lambda: checks.check_moderation(body, DEFAULT_MODERATION_MODEL)
    )
    return {**out, "request_id": meter.request_id}


async def _rerank(ctx: Ctx, args: dict[str, Any]) -> Any:
    body = _body(args, "model", "query", "documents", "top_n", "return_documents")
    meter, _, out = await call_media(ctx, "rerank", lambda: checks.check_rerank(body))
    return {**out, "request_id": meter.request_id}


def _model(modality: str) -> dict[str, Any]:
    return string(f"A catalog {modality} model id (list_models modality={modality}).")


TEXTS = {
    "type": ["string", "array"],
    "items": {"type": "string", "minLength": 1},
    "minItems": 1,
    "maxItems": checks.MAX_EMBEDDING_INPUTS,
    "description": "A text or a list of texts.",
}

MEDIA_TOOLS = (
    Tool(
        "embed",
        "Embedding vectors for texts (billed like /v1/embeddings). Floats, or base64 "
        "(little-endian float32) with encoding_format=base64.",
        obj(
            {
                "model": _model("embedding"),
                "input": TEXTS,
                "dimensions": integer("Shorter vectors, where the model allows.", minimum=1),
                "encoding_format": string("float (default) or base64.", enum=["float", "base64"]),
            },
            ["model", "input"],
        ),
        _embed,
    ),
    Tool(
        "generate_image",
        "Generate images (billed like /v1/images/generations): URLs or base64 images, as the "
        "provider gives them; base64 images also come as MCP image content.",
        obj(
            {
                "model": _model("image"),
                "prompt": string("What to draw.", minLength=1, maxLength=32_000),
                "n": integer("How many images.", minimum=1, maximum=checks.MAX_IMAGES),
                "size": string("e.g. '1024x1024'."),
                "quality": string("e.g. 'high', 'standard'."),
                "style": string("e.g. 'vivid' (dall-e-3)."),
                "background": string("e.g. 'transparent' (gpt-image)."),
                "output_format": string("png, jpeg or webp (gpt-image)."),
                "response_format": string("url or b64_json.", enum=["url", "b64_json"]),
            },
            ["model", "prompt"],
        ),
        _generate_image,
    ),
    Tool(
        "speak",
        "Text to speech (billed like /v1/audio/speech): MCP audio content (base64) with its "
        "mime type, and the call's id and cost as text.",
        obj(
            {
                "model": _model("tts"),
                "input": string("The text to say.", minLength=1, maxLength=checks.MAX_SPEECH_CHARS),
                "voice": string("A voice name, e.g. 'alloy'.", minLength=1),
                "response_format": string("Audio format.", enum=list(checks.SPEECH_FORMATS)),
                "speed": number("0.25 to 4.", minimum=0.25, maximum=4),
                "instructions": string("How to say it (gpt-4o-mini-tts)."),
            },
            ["model", "input", "voice"],
        ),
        _speak,
    ),
    Tool(
        "transcribe",
        "Speech to text (billed like /v1/audio/transcriptions): base64 audio in, text out.",
        obj(
            {
                "model": _model("stt"),
                "audio": string("The audio file, base64-encoded.", minLength=1),
                "filename": string("The file's name (its extension tells the format)."),
                "mime_type": string("e.g. 'audio/wav'."),
                "prompt": string("Text to guide the model."),
                "language": string("ISO-639-1 code, e.g. 'en'."),
                "temperature": number("0 to 1.", minimum=0, maximum=1),
                "response_format": string(
                    "json (default), text, srt, verbose_json or vtt.",
                    enum=list(checks.TRANSCRIPT_FORMATS),
                ),
            },
            ["model", "audio"],
        ),
        _transcribe,
    ),
    Tool(
        "moderate",
        "Classify texts for harmful content (billed like /v1/moderations).",
        obj(
            {
                "input": {**TEXTS, "items": {"type": "string"}},
                "model": string(f"A moderation model; default {DEFAULT_MODERATION_MODEL}."),
            },
            ["input"],
        ),
        _moderate,
    ),
    Tool(
        "rerank",
        "Order documents by relevance to a query (billed like /v1/rerank).",
        obj(
            {
                "model": _model("rerank"),
                "query": string("The query.", minLength=1, maxLength=32_000),
                "documents": {
                    "type": "array",
                    "items": {"type": "string"},
                    "minItems": 1,
                    "maxItems": checks.MAX_RERANK_DOCUMENTS,
                    "description": "The texts to rank.",
                },
                "top_n": integer("Return only the best n.", minimum=1),
                "return_documents": boolean("Include each document's text."),
            },
            ["model", "query", "documents"],
        ),
        _rerank,
    ),
)
