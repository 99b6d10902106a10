"""OpenAI ``/v1/embeddings`` ⇄ Cohere ``/v2/embed``, and the gateway's ``/v1/rerank`` ⇄ Cohere
``/v2/rerank``. Pure: no I/O.

Cohere reports ``meta.billed_units`` (``input_tokens`` for embed, ``search_units`` for rerank);
that is what gets billed. Embeddings are asked for as floats and re-encoded as the client asked.
"""

from __future__ import annotations

from typing import Any

from aigw.core.usage import Usage
from aigw.errors import InvalidRequest, UpstreamError
from aigw.formats.embedding_vectors import embeddings_body
from aigw.formats.media_answers import Decode, MediaAnswer, estimate_tokens, rerank_answer
from aigw.formats.openai_media import MediaRequest, documents_of
from aigw.formats.upstream_json import decode_object


def encode_embed(req: MediaRequest, upstream_model: str) -> dict[str, Any]:
    if req.token_inputs:
        raise InvalidRequest("Cohere embeddings take text, not token arrays.", param="input")
    body: dict[str, Any] = {
        "model": upstream_model,
        "texts": req.texts,
        "input_type": "search_document",
        "embedding_types": ["float"],
    }
    if req.body.get("dimensions") is not None:
        body["output_dimension"] = req.body["dimensions"]
    return body


def embed_decoder(req: MediaRequest, gateway_model: str) -> Decode:
    def decode(raw: bytes) -> MediaAnswer:
        data = decode_object(raw)
        embeddings = data.get("embeddings")
        floats = embeddings.get("float") if isinstance(embeddings, dict) else None
        if not isinstance(floats, list) or len(floats) != len(req.texts):
            raise UpstreamError("The upstream provider returned an unexpected response.")
        vectors = [[float(v) for v in vec] for vec in floats]
        meta = data.get("meta")
        billed = meta.get("billed_units") if isinstance(meta, dict) else None
        billed = billed if isinstance(billed, dict) else {}
        tokens = billed.get("input_tokens")
        if not isinstance(tokens, int) or isinstance(tokens, bool) or tokens < 0:
            tokens = estimate_tokens(req)
        body = embeddings_body(vectors, gateway_model, tokens, req.body.get("encoding_format"))
        return MediaAnswer(body, usage=Usage(prompt_tokens=tokens))

    return decode


def encode_rerank(req: MediaRequest, upstream_model: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": upstream_model,
        "query": req.texts[0],
        "documents": documents_of(req),
    }
    for name in ("top_n", "max_tokens_per_doc"):
        if req.body.get(name) is not None:
            body[name] = req.body[name]
    return body


def rerank_decoder(req: MediaRequest) -> Decode:
    docs = documents_of(req)

    def decode(raw: bytes) -> MediaAnswer:
        data = decode_object(raw)
        results = data.get("results")
        if not isinstance(results, list):
            raise UpstreamError("The upstream provider returned an unexpected response.")
        return rerank_answer(data, results, docs, req)

    return decode
