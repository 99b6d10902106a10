"""Checks for the OpenAI-shaped non-chat requests (embeddings, images, speech, transcriptions,
moderations, rerank): each returns the body to forward, or raises ``InvalidRequest`` naming the
bad field. Pure: no I/O. Fields a check does not know pass through untouched, so upstream
features the gateway has not heard of still work.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import orjson

from aigw.errors import InvalidRequest

MAX_EMBEDDING_INPUTS = 2048
MAX_IMAGES = 10
MAX_SPEECH_CHARS = 4096
MAX_RERANK_DOCUMENTS = 1000
SPEECH_FORMATS = ("mp3", "opus", "aac", "flac", "wav", "pcm")
SPEECH_TYPES = {
    "mp3": "audio/mpeg",
    "opus": "audio/opus",
    "aac": "audio/aac",
    "flac": "audio/flac",
    "wav": "audio/wav",
    "pcm": "audio/pcm",
}
TRANSCRIPT_FORMATS = ("json", "text", "srt", "verbose_json", "vtt")


@dataclass(slots=True)
class MediaRequest:
    """A checked request: the body to forward and what billing needs to know of it."""

    model: str
    body: dict[str, Any]
    texts: list[str] = field(default_factory=list)  # the text inputs (sizes, estimates)
    token_inputs: int = 0  # tokens given as token arrays (embeddings)
    count: int = 1  # images asked for, documents to rerank
    file: bytes = b""  # the audio of a transcription
    filename: str = "audio"
    file_type: str = "application/octet-stream"
    form: list[tuple[str, str]] = field(default_factory=list)  # multipart fields, in order

    @property
    def text_bytes(self) -> int:
        return sum(len(t.encode()) for t in self.texts)


def _object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise InvalidRequest("Request body must be a JSON object.", param="body")
    return body


def load_json(raw: bytes) -> dict[str, Any]:
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise InvalidRequest("Request body is not valid JSON.", param="body") from None
    return _object(data)


def model_name(body: dict[str, Any], default: str | None = None) -> str:
    value = body.get("model", default)
    if value is None:
        raise InvalidRequest("'model' is required.", param="model")
    if not isinstance(value, str) or not value.strip():
        raise InvalidRequest("'model' must be a non-empty string.", param="model")
    return value


def _text(body: dict[str, Any], name: str, *, limit: int | None = None) -> str:
    value = body.get(name)
    if value is None:
        raise InvalidRequest(f"'{name}' is required.", param=name)
    if not isinstance(value, str) or not value.strip():
        raise InvalidRequest(f"'{name}' must be a non-empty string.", param=name)
    if limit is not None and len(value) > limit:
        raise InvalidRequest(f"'{name}' must be at most {limit} characters.", param=name)
    return value


def _optional(body: dict[str, Any], name: str, kind: type | tuple[type, ...], what: str) -> Any:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) and kind is not bool or not isinstance(value, kind):
        raise InvalidRequest(f"'{name}' must be {what}.", param=name)
    return value


def _choice(body: dict[str, Any], name: str, allowed: tuple[str, ...]) -> str | None:
    value = body.get(name)
    if value is not None and value not in allowed:
        raise InvalidRequest(f"'{name}' must be one of {', '.join(allowed)}.", param=name)
    return value


# --- embeddings -------------------------------------------------------------------------


def check_embeddings(body: Any) -> MediaRequest:
    """``input``: a string, a list of strings, a token array or a list of token arrays."""
    body = _object(body)
    model = model_name(body)
    raw = body.get("input")
    if raw is None:
        raise InvalidRequest("'input' is required.", param="input")
    texts: list[str] = []
    tokens = 0
    items = [raw] if isinstance(raw, str) else raw
    if not isinstance(items, list) or not items:
        raise InvalidRequest(
            "'input' must be a string, a non-empty list of strings or of token arrays.",
            param="input",
        )
    if all(_is_token(t) for t in items):  # one token array
        tokens = len(items)
    else:
        if len(items) > MAX_EMBEDDING_INPUTS:
            raise InvalidRequest(
                f"'input' may hold at most {MAX_EMBEDDING_INPUTS} items.", param="input"
            )
        for i, item in enumerate(items):
            if isinstance(item, str):
                if not item:
                    raise InvalidRequest(f"'input[{i}]' must not be empty.", param="input")
                texts.append(item)
            elif isinstance(item, list) and item and all(_is_token(t) for t in item):
                tokens += len(item)
            else:
                raise InvalidRequest(
                    f"'input[{i}]' must be a non-empty string or a non-empty token array.",
                    param="input",
                )
    _choice(body, "encoding_format", ("float", "base64"))
    dims = _optional(body, "dimensions", int, "a positive integer")
    if dims is not None and dims < 1:
        raise InvalidRequest("'dimensions' must be a positive integer.", param="dimensions")
    _optional(body, "user", str, "a string")
    count = len(items) if not tokens or texts else 1
    return MediaRequest(model, body, texts=texts, token_inputs=tokens, count=count)


def _is_token(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


# --- images -----------------------------------------------------------------------------


def check_images(body: Any) -> MediaRequest:
    body = _object(body)
    model = model_name(body)
    prompt = _text(body, "prompt", limit=32_000)
    n = _optional(body, "n", int, "an integer from 1 to 10")
    if n is not None and not 1 <= n <= MAX_IMAGES:
        raise InvalidRequest(f"'n' must be an integer from 1 to {MAX_IMAGES}.", param="n")
    for name in ("size", "quality", "style", "background", "output_format", "user"):
        _optional(body, name, str, "a string")
    _choice(body, "response_format", ("url", "b64_json"))
    return MediaRequest(model, body, texts=[prompt], count=n or 1)


# --- speech -----------------------------------------------------------------------------


def check_speech(body: Any) -> MediaRequest:
    body = _object(body)
    model = model_name(body)
    text = _text(body, "input", limit=MAX_SPEECH_CHARS)
    voice = body.get("voice")
    if voice is None:
        raise InvalidRequest("'voice' is required.", param="voice")
    if not (isinstance(voice, str) and voice) and not (
        isinstance(voice, dict) and isinstance(voice.get("id"), str)
    ):
        raise InvalidRequest("'voice' must be a voice name or {\"id\": ...}.", param="voice")
    _choice(body, "response_format", SPEECH_FORMATS)
    speed = _optional(body, "speed", (int, float), "a number from 0.25 to 4")
    if speed is not None and not 0.25 <= speed <= 4:
        raise InvalidRequest("'speed' must be a number from 0.25 to 4.", param="speed")
    if body.get("stream_format") not in (None, "audio"):
        raise InvalidRequest(
            "'stream_format' must be 'audio' (no SSE here).", param="stream_format"
        )
    instructions = _optional(body, "instructions", str, "a string") or ""
    return MediaRequest(model, body, texts=[text, instructions] if instructions else [text])


def speech_type(body: dict[str, Any]) -> str:
    return SPEECH_TYPES[body.get("response_format") or "mp3"]


# --- transcriptions (multipart fields, already read) -------------------------------------


def check_transcription(
    form: list[tuple[str, str]], file: bytes | None, filename: str, file_type: str
) -> MediaRequest:
    """The form's text fields (repeats kept, ``timestamp_granularities[]``) and its ``file``;
    fields keep their text form for upstream."""
    fields = dict(form)
    if not file:
        raise InvalidRequest("'file' is required (an audio file, multipart).", param="file")
    model = model_name(dict(fields))
    _choice(dict(fields), "response_format", TRANSCRIPT_FORMATS)
    if "temperature" in fields:
        try:
            temperature = float(fields["temperature"])
        except ValueError:
            raise InvalidRequest("'temperature' must be a number.", param="temperature") from None
        if not 0 <= temperature <= 1:
            raise InvalidRequest("'temperature' must be from 0 to 1.", param="temperature")
    prompt = fields.get("prompt") or ""
    body: dict[str, Any] = dict(fields)
    return MediaRequest(
        model,
        body,
        texts=[prompt] if prompt else [],
        file=file,
        filename=filename or "audio",
        file_type=file_type or "application/octet-stream",
        form=[(k, v) for k, v in form if k not in ("model", "file")],
    )


def transcript_is_json(body: dict[str, Any]) -> bool:
    return (body.get("response_format") or "json") in ("json", "verbose_json")


# --- moderations ------------------------------------------------------------------------


def check_moderation(body: Any, default_model: str) -> MediaRequest:
    body = _object(body)
    model = model_name(body, default_model)
    raw = body.get("input")
    if raw is None:
        raise InvalidRequest("'input' is required.", param="input")
    items = [raw] if isinstance(raw, str) else raw
    if not isinstance(items, list) or not items:
        raise InvalidRequest(
            "'input' must be a string or a non-empty list of strings or content parts.",
            param="input",
        )
    texts: list[str] = []
    for i, item in enumerate(items):
        if isinstance(item, str):
            texts.append(item)
        elif isinstance(item, dict) and item.get("type") == "text":
            if not isinstance(item.get("text"), str):
                raise InvalidRequest(f"'input[{i}].text' must be a string.", param="input")
            texts.append(item["text"])
        elif isinstance(item, dict) and item.get("type") == "image_url":
            url = item.get("image_url")
            if not isinstance(url, dict) or not isinstance(url.get("url"), str):
                raise InvalidRequest(f"'input[{i}].image_url.url' must be a string.", param="input")
        else:
            raise InvalidRequest(
                f"'input[{i}]' must be a string or a text / image_url part.", param="input"
            )
    return MediaRequest(model, {**body, "model": model}, texts=texts, count=len(items))


# --- rerank -----------------------------------------------------------------------------


def check_rerank(body: Any) -> MediaRequest:
    """Cohere / Jina shape: ``query``, ``documents`` (strings or ``{"text"}``), ``top_n``,
    ``return_documents``, ``max_tokens_per_doc``."""
    body = _object(body)
    model = model_name(body)
    query = _text(body, "query", limit=32_000)
    docs = body.get("documents")
    if not isinstance(docs, list) or not docs:
        raise InvalidRequest("'documents' must be a non-empty list.", param="documents")
    if len(docs) > MAX_RERANK_DOCUMENTS:
        raise InvalidRequest(
            f"'documents' may hold at most {MAX_RERANK_DOCUMENTS} items.", param="documents"
        )
    texts = [query]
    for i, doc in enumerate(docs):
        if isinstance(doc, dict) and isinstance(doc.get("text"), str):
            doc = doc["text"]
        if not isinstance(doc, str):
            raise InvalidRequest(
                f"'documents[{i}]' must be a string or {{\"text\": string}}.", param="documents"
            )
        texts.append(doc)
    top_n = _optional(body, "top_n", int, "a positive integer")
    if top_n is not None and top_n < 1:
        raise InvalidRequest("'top_n' must be a positive integer.", param="top_n")
    _optional(body, "return_documents", bool, "true or false")
    per_doc = _optional(body, "max_tokens_per_doc", int, "a positive integer")
    if per_doc is not None and per_doc < 1:
        raise InvalidRequest(
            "'max_tokens_per_doc' must be a positive integer.", param="max_tokens_per_doc"
        )
    return MediaRequest(model, body, texts=texts, count=len(docs))


def documents_of(req: MediaRequest) -> list[str]:
    return req.texts[1:]


def search_units(documents: int) -> int:
    """Cohere's unit: one query over up to 100 documents."""
    return max(1, math.ceil(documents / 100))
