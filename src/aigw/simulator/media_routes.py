"""The simulator's non-chat upstream endpoints, deterministic (``media_content.py``):

- OpenAI: ``/v1/embeddings`` (float or base64), ``/v1/images/generations`` (b64_json or a URL
  served at ``/v1/_sim/images/{seed}.png``), ``/v1/audio/speech``, ``/v1/audio/transcriptions``
  (multipart), ``/v1/moderations``, and ``/v1/rerank`` in the Jina / Together shape;
- Cohere: ``/v2/embed`` and ``/v2/rerank``;
- Gemini: ``:batchEmbedContents`` and ``:embedContent`` (``routes.py`` hands them over).

Every request is recorded (``GET /_sim/requests``), keys are checked like the chat routes, and
an error fault (queued, ``x-sim-fault`` or the fault rate) answers in OpenAI's error shape;
other fault kinds (cuts, resets) do not apply to these one-shot answers.
"""

from __future__ import annotations

import base64
import secrets
import struct
import time
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from aiohttp import web

from aigw.simulator import media_content as mc
from aigw.simulator.config import request_settings
from aigw.simulator.content import seed_of
from aigw.simulator.faults import ErrorReply, error_reply
from aigw.simulator.formats import OpenAIFormat
from aigw.simulator.openai_format import error_body
from aigw.simulator.state import SIM_STATE

OPENAI = OpenAIFormat()
Answer = Callable[[web.Request, Any], Awaitable[web.StreamResponse]]
GPT_IMAGE = "gpt-image"
TOKEN_TRANSCRIBERS = ("gpt-4o-transcribe", "gpt-4o-mini-transcribe")


class Refused(Exception):
    def __init__(self, reply: ErrorReply) -> None:
        self.reply = reply


def _bad(message: str, param: str | None = None) -> Refused:
    return Refused(ErrorReply(400, "invalid_request_error", message, param=param))


def _error(reply: ErrorReply) -> web.Response:
    extra = {} if reply.retry_after is None else {"retry-after": f"{reply.retry_after:g}"}
    return web.Response(
        status=reply.status, body=error_body(reply), content_type="application/json",
        headers=extra,
    )  # fmt: skip


def endpoint(answer: Answer, *, multipart: bool = False) -> Callable[..., Any]:
    """Bookkeeping, auth and faults around one endpoint's ``answer(request, body)``."""

    async def handle(request: web.Request) -> web.StreamResponse:
        state = request.app[SIM_STATE]
        state.stats.requests += 1
        body: Any
        if multipart:
            form = await request.post()
            body = {k: v for k, v in form.items()}
            logged = {k: (v if isinstance(v, str) else "<file>") for k, v in body.items()}
        else:
            raw = await request.read()
            try:
                body = orjson.loads(raw)
            except orjson.JSONDecodeError:
                body = None
            logged = body
        state.record(request.method, request.path, request.headers, logged, request.query_string)
        required = state.config.require_key
        key = OPENAI.authenticate(request) or request.headers.get("x-goog-api-key")
        if required is not None and key != required:
            state.stats.errors += 1
            return _error(ErrorReply(401, "invalid_request_error", "Incorrect API key provided."))
        try:
            header = request_settings(state.config, request.headers).fault
        except ValueError as exc:
            return _error(ErrorReply(400, "invalid_request_error", f"x-sim header: {exc}"))
        config = state.config
        fault = state.faults.pick(header, config.server_fault(), config.fault_rate)
        if fault is not None and fault.is_error:
            state.stats.faults_injected += 1
            model = body.get("model", "") if isinstance(body, dict) else ""
            reply = error_reply(fault, model=str(model), api_key=key or "", retry_after=1)
            return _error(reply)
        if not isinstance(body, dict):
            return _error(ErrorReply(400, "invalid_request_error", "Body must be a JSON object."))
        try:
            response = await answer(request, body)
        except Refused as exc:
            state.stats.errors += 1
            return _error(exc.reply)
        state.stats.completions += 1
        return response

    return handle


def _json(data: Any) -> web.Response:
    return web.Response(body=orjson.dumps(data), content_type="application/json")


def _model(body: dict[str, Any]) -> str:
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise _bad("you must provide a model parameter", "model")
    return model


def _inputs(body: dict[str, Any]) -> list[str | list[int]]:
    raw = body.get("input")
    if isinstance(raw, str):
        return [raw]
    if isinstance(raw, list) and raw and all(isinstance(t, int) for t in raw):
        return [raw]
    if isinstance(raw, list) and raw and all(isinstance(t, str | list) for t in raw):
        return list(raw)
    raise _bad("'input' is invalid.", "input")


async def embeddings(request: web.Request, body: dict[str, Any]) -> web.Response:
    model = _model(body)
    dims = mc.dimensions_of(model, body.get("dimensions"))
    items = _inputs(body)
    b64 = body.get("encoding_format") == "base64"
    data = []
    for i, item in enumerate(items):
        vector = mc.embedding(mc.text_of(item), dims)
        value: Any = vector
        if b64:
            value = base64.b64encode(struct.pack(f"<{dims}f", *vector)).decode()
        data.append({"object": "embedding", "index": i, "embedding": value})
    tokens = sum(mc.tokens_of(item) for item in items)
    return _json({"object": "list", "data": data, "model": model,
                  "usage": {"prompt_tokens": tokens, "total_tokens": tokens}})  # fmt: skip


async def images(request: web.Request, body: dict[str, Any]) -> web.Response:
    model = _model(body)
    prompt = body.get("prompt")
    if not isinstance(prompt, str) or not prompt:
        raise _bad("'prompt' is required.", "prompt")
    n = body.get("n") or 1
    as_url = body.get("response_format") == "url" and not model.startswith(GPT_IMAGE)
    data = []
    for i in range(n):
        seed = f"{prompt}#{i}"
        if as_url:
            name = seed_of(seed) % 10**12
            data.append({"url": f"{request.url.origin()}/v1/_sim/images/{name}.png"})
        else:
            data.append({"b64_json": base64.b64encode(mc.png(seed)).decode()})
        data[-1]["revised_prompt"] = prompt
    out: dict[str, Any] = {"created": int(time.time()), "data": data}
    if model.startswith(GPT_IMAGE):
        text = max(1, len(prompt) // 4)
        out["usage"] = {
            "input_tokens": text, "output_tokens": 272 * n, "total_tokens": text + 272 * n,
            "input_tokens_details": {"text_tokens": text, "image_tokens": 0},
        }  # fmt: skip
    return _json(out)


async def image_file(request: web.Request) -> web.Response:
    return web.Response(body=mc.png(request.match_info["name"]), content_type="image/png")


async def speech(request: web.Request, body: dict[str, Any]) -> web.Response:
    _model(body)
    text = body.get("input")
    if not isinstance(text, str) or not text:
        raise _bad("'input' is required.", "input")
    if not body.get("voice"):
        raise _bad("'voice' is required.", "voice")
    fmt = body.get("response_format") or "mp3"
    types = {"mp3": "audio/mpeg", "wav": "audio/wav", "pcm": "audio/pcm", "flac": "audio/flac",
             "opus": "audio/opus", "aac": "audio/aac"}  # fmt: skip
    return web.Response(body=mc.speech(text, fmt), content_type=types.get(fmt, "audio/mpeg"))


async def transcriptions(request: web.Request, body: dict[str, Any]) -> web.Response:
    model = _model(body)
    upload = body.get("file")
    if not isinstance(upload, web.FileField):
        raise _bad("'file' is required.", "file")
    audio = upload.file.read()
    prompt = body.get("prompt") if isinstance(body.get("prompt"), str) else ""
    text = mc.transcript(audio, prompt or "")
    seconds = mc.audio_seconds(audio)
    fmt = body.get("response_format") or "json"
    if fmt == "text":
        return web.Response(text=text + "\n", content_type="text/plain")
    if fmt in ("srt", "vtt"):
        end = f"00:00:{min(59, int(seconds)):02d}"
        sep = "," if fmt == "srt" else "."
        head = "1\n" if fmt == "srt" else "WEBVTT\n\n"
        return web.Response(text=f"{head}00:00:00{sep}000 --> {end}{sep}000\n{text}\n",
                            content_type="text/plain")  # fmt: skip
    if model in TOKEN_TRANSCRIBERS:
        audio_tokens = int(seconds * 10)
        out_tokens = max(1, len(text) // 4)
        usage: dict[str, Any] = {
            "type": "tokens", "input_tokens": audio_tokens, "output_tokens": out_tokens,
            "total_tokens": audio_tokens + out_tokens,
            "input_token_details": {"audio_tokens": audio_tokens, "text_tokens": 0},
        }  # fmt: skip
    else:
        usage = {"type": "duration", "seconds": seconds}
    out: dict[str, Any] = {"text": text, "usage": usage}
    if fmt == "verbose_json":
        out = {"task": "transcribe", "language": "english", "duration": seconds, "text": text,
               "segments": [{"id": 0, "start": 0.0, "end": seconds, "text": text}],
               "usage": usage}  # fmt: skip
    return _json(out)


async def moderations(request: web.Request, body: dict[str, Any]) -> web.Response:
    model = body.get("model") or "omni-moderation-latest"
    raw = body.get("input")
    items = [raw] if isinstance(raw, str) else raw
    if not isinstance(items, list) or not items:
        raise _bad("'input' is required.", "input")
    texts = [i if isinstance(i, str) else str(i.get("text", "")) for i in items]
    results = [mc.moderation(t) for t in texts]
    return _json({"id": "modr-" + secrets.token_hex(12), "model": model, "results": results})


def _rerank_results(body: dict[str, Any]) -> list[dict[str, Any]]:
    query, docs = body.get("query"), body.get("documents")
    if not isinstance(query, str) or not isinstance(docs, list) or not docs:
        raise _bad("'query' and 'documents' are required.", "documents")
    texts = [d["text"] if isinstance(d, dict) else str(d) for d in docs]
    scored = sorted(
        ({"index": i, "relevance_score": mc.relevance(query, t)} for i, t in enumerate(texts)),
        key=lambda r: (-r["relevance_score"], r["index"]),
    )
    top = body.get("top_n")
    return scored[:top] if isinstance(top, int) and top > 0 else scored


async def rerank(request: web.Request, body: dict[str, Any]) -> web.Response:
    """Jina / Together shape: results and ``usage.total_tokens``."""
    results = _rerank_results(body)
    tokens = mc.tokens_of(body["query"]) + sum(
        mc.tokens_of(d["text"] if isinstance(d, dict) else str(d)) for d in body["documents"]
    )
    return _json({"id": secrets.token_hex(8), "model": _model(body), "results": results,
                  "usage": {"total_tokens": tokens}})  # fmt: skip


async def cohere_rerank(request: web.Request, body: dict[str, Any]) -> web.Response:
    results = _rerank_results(body)
    units = max(1, -(-len(body["documents"]) // 100))
    return _json({"id": secrets.token_hex(8), "results": results,
                  "meta": {"billed_units": {"search_units": units}}})  # fmt: skip


async def cohere_embed(request: web.Request, body: dict[str, Any]) -> web.Response:
    model = _model(body)
    texts = body.get("texts")
    if not isinstance(texts, list) or not texts or not all(isinstance(t, str) for t in texts):
        raise _bad("'texts' must be a list of strings.", "texts")
    dims = mc.dimensions_of(model, body.get("output_dimension"))
    vectors = [mc.embedding(t, dims) for t in texts]
    tokens = sum(mc.tokens_of(t) for t in texts)
    return _json({"id": secrets.token_hex(8), "embeddings": {"float": vectors}, "texts": texts,
                  "meta": {"billed_units": {"input_tokens": tokens}}})  # fmt: skip


async def gemini_embed(request: web.Request, body: dict[str, Any]) -> web.Response:
    model_action = request.match_info["model_action"]
    model, _, action = model_action.partition(":")
    requests = body.get("requests") if action == "batchEmbedContents" else [body]
    if not isinstance(requests, list) or not requests:
        raise _bad("'requests' must be a non-empty list.", "requests")
    out = []
    for item in requests:
        parts = item.get("content", {}).get("parts", []) if isinstance(item, dict) else []
        text = " ".join(str(p.get("text", "")) for p in parts if isinstance(p, dict))
        dims = mc.dimensions_of(model, item.get("outputDimensionality"))
        out.append({"values": mc.embedding(text, dims)})
    if action == "embedContent":
        return _json({"embedding": out[0]})
    return _json({"embeddings": out})


def is_gemini_embed(model_action: str) -> bool:
    return model_action.endswith((":batchEmbedContents", ":embedContent"))


GEMINI_EMBED = endpoint(gemini_embed)


def add_media_routes(app: web.Application) -> None:
    app.router.add_post("/v1/embeddings", endpoint(embeddings))
    app.router.add_post("/v1/images/generations", endpoint(images))
    app.router.add_get("/v1/_sim/images/{name}.png", image_file)
    app.router.add_post("/v1/audio/speech", endpoint(speech))
    app.router.add_post("/v1/audio/transcriptions", endpoint(transcriptions, multipart=True))
    app.router.add_post("/v1/moderations", endpoint(moderations))
    app.router.add_post("/v1/rerank", endpoint(rerank))
    app.router.add_post("/v2/embed", endpoint(cohere_embed))
    app.router.add_post("/v2/rerank", endpoint(cohere_rerank))
