"""OpenAI ``/v1/embeddings`` ⇄ Gemini ``:batchEmbedContents`` (one call for one text or many).
Pure: no I/O.

Gemini's answer reports no token count, so the gateway bills an estimate from the text's size
(``media_answers.estimate_tokens``); token-array inputs have no Gemini form and are refused.
"""

from __future__ import annotations

from typing import Any

from aigw.core.usage import Usage
from aigw.errors import InvalidRequest, UpstreamError
from aigw.formats.embedding_vectors import embeddings_body
from aigw.formats.media_answers import Decode, MediaAnswer, estimate_tokens
from aigw.formats.openai_media import MediaRequest
from aigw.formats.upstream_json import decode_object


def encode_request(req: MediaRequest, upstream_model: str) -> dict[str, Any]:
    if req.token_inputs:
        raise InvalidRequest("Gemini embeddings take text, not token arrays.", param="input")
    name = upstream_model if upstream_model.startswith("models/") else f"models/{upstream_model}"
    dims = req.body.get("dimensions")
    requests = []
    for text in req.texts:
        item: dict[str, Any] = {"model": name, "content": {"parts": [{"text": text}]}}
        if dims is not None:
            item["outputDimensionality"] = dims
        requests.append(item)
    return {"requests": requests}


def decoder(req: MediaRequest, gateway_model: str) -> Decode:
    tokens = estimate_tokens(req)

    def decode(raw: bytes) -> MediaAnswer:
        items = decode_object(raw).get("embeddings")
        if not isinstance(items, list) or len(items) != len(req.texts):
            raise UpstreamError("The upstream provider returned an unexpected response.")
        vectors = []
        for item in items:
            values = item.get("values") if isinstance(item, dict) else None
            if not isinstance(values, list):
                raise UpstreamError("The upstream provider returned an unexpected response.")
            vectors.append([float(v) for v in values])
        body = embeddings_body(vectors, gateway_model, tokens, req.body.get("encoding_format"))
        return MediaAnswer(body, usage=Usage(prompt_tokens=tokens))

    return decode
