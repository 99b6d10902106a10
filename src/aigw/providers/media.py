"""How each wire format serves the non-chat operations: the URL, headers and body of one call,
and the decoder of its answer. OpenAI-compatible upstreams get the client's body as sent
(model id changed); Gemini and Cohere get a translation (codecs in ``formats/``).

A provider that does not serve an operation raises ``InvalidRequest`` here; the router takes
that as "this deployment cannot take the request" and tries the next one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import orjson

from aigw.errors import InvalidRequest
from aigw.formats import cohere_embed, gemini_embed
from aigw.formats import media_answers as answers
from aigw.formats.multipart import encode_multipart
from aigw.formats.openai_media import MediaRequest

if TYPE_CHECKING:
    from aigw.catalog.models import Model
    from aigw.providers.registry import Upstream


@dataclass(frozen=True, slots=True)
class Operation:
    """One non-chat endpoint: its path, the catalog modality it needs, and the path it has on
    an OpenAI-compatible upstream (relative to the provider's base URL)."""

    name: str
    path: str
    modality: str
    upstream_path: str
    decode: Callable[[MediaRequest], answers.Decode]


OPERATIONS: dict[str, Operation] = {
    op.name: op
    for op in (
        Operation("embeddings", "/v1/embeddings", "embedding", "/embeddings",
                  answers.decode_embeddings),
        Operation("images", "/v1/images/generations", "image", "/images/generations",
                  answers.decode_images),
        Operation("speech", "/v1/audio/speech", "tts", "/audio/speech", answers.decode_speech),
        Operation("transcriptions", "/v1/audio/transcriptions", "stt", "/audio/transcriptions",
                  answers.decode_transcription),
        Operation("moderations", "/v1/moderations", "moderation", "/moderations",
                  answers.decode_moderation),
        Operation("rerank", "/v1/rerank", "rerank", "/rerank", answers.decode_rerank),
    )
}  # fmt: skip


@dataclass(slots=True)
class MediaCall:
    """One upstream call (the router's ``Outbound``); never streamed."""

    url: str
    headers: dict[str, str]
    payload: bytes
    decode: answers.Decode
    stream_content_type: str = ""


def media_call(
    upstream: Upstream,
    model: Model,
    op: Operation,
    req: MediaRequest,
    options: Mapping[str, str],
) -> MediaCall:
    """Encode ``req`` for ``upstream``; 400 when its wire format has no such operation."""
    wire = upstream.adapter.wire_format
    endpoint = upstream.endpoint
    base = endpoint.base_url.rstrip("/")
    if wire == "openai":
        headers = upstream.adapter.headers(endpoint)
        if op.name == "transcriptions":
            fields = req.form
            files = [("file", req.filename, req.file_type, req.file)]
            payload, headers["Content-Type"] = encode_multipart(
                [("model", model.upstream_id), *fields], files
            )
        else:
            payload = orjson.dumps({**req.body, "model": model.upstream_id})
        return MediaCall(base + op.upstream_path, headers, payload, op.decode(req))
    translator = upstream.translator
    if translator is not None and wire == "gemini" and op.name == "embeddings":
        if not base.endswith(("/v1beta", "/v1")):
            base += "/v1beta"
        url = f"{base}/models/{model.upstream_id}:batchEmbedContents"
        payload = orjson.dumps(gemini_embed.encode_request(req, model.upstream_id))
        headers = translator.request_headers(endpoint, url, payload, options)
        return MediaCall(url, headers, payload, gemini_embed.decoder(req, model.id))
    if translator is not None and wire == "cohere" and op.name in ("embeddings", "rerank"):
        if op.name == "embeddings":
            url, body = base + "/v2/embed", cohere_embed.encode_embed(req, model.upstream_id)
            decode = cohere_embed.embed_decoder(req, model.id)
        else:
            url, body = base + "/v2/rerank", cohere_embed.encode_rerank(req, model.upstream_id)
            decode = cohere_embed.rerank_decoder(req)
        payload = orjson.dumps(body)
        return MediaCall(url, translator.request_headers(endpoint, url, payload, options),
                         payload, decode)  # fmt: skip
    raise InvalidRequest(
        f"Provider '{endpoint.provider_id}' does not serve {op.path} through this gateway.",
        param="model",
    )
