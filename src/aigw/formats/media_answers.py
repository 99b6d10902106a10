"""Read OpenAI-format answers of the non-chat endpoints: the body to relay and what the upstream
reported for billing (tokens and units). Pure: no I/O.

A malformed answer raises ``UpstreamError`` while another deployment can still be tried.
When the upstream reports nothing, the units are counted from the request (characters spoken,
images returned) or estimated (``estimate_*``), and the docs say which.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from aigw.core.units import Units
from aigw.core.usage import Usage
from aigw.errors import UpstreamError
from aigw.formats.openai_media import (
    MediaRequest,
    search_units,
    speech_type,
    transcript_is_json,
)
from aigw.formats.upstream_json import decode_object

JSON = "application/json"
# Speech models say about 15 characters a second; used only for models priced per second.
SPEECH_CHARS_PER_SECOND = 15
# An audio upload's length when the upstream does not say: 128 kbit/s.
AUDIO_BYTES_PER_SECOND = 16_000


@dataclass(slots=True)
class MediaAnswer:
    """A decoded answer: what to send the client and what to bill."""

    body: Any  # dict (JSON), bytes (audio) or str (text formats)
    content_type: str = JSON
    usage: Usage | None = None  # tokens the upstream reported
    units: Units = field(default_factory=Units)


Decode = Callable[[bytes], MediaAnswer]


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def estimate_tokens(req: MediaRequest) -> int:
    """About 4 bytes of text a token, plus tokens given as arrays."""
    return math.ceil(req.text_bytes / 4) + req.token_inputs


def decode_embeddings(req: MediaRequest) -> Decode:
    def decode(raw: bytes) -> MediaAnswer:
        data = decode_object(raw)
        if not isinstance(data.get("data"), list):
            raise UpstreamError("The upstream provider returned an unexpected response.")
        usage = _dict(data.get("usage"))
        prompt = _int(usage.get("prompt_tokens")) or _int(usage.get("total_tokens"))
        return MediaAnswer(data, usage=Usage(prompt_tokens=prompt) if prompt else None)

    return decode


def decode_images(req: MediaRequest) -> Decode:
    """gpt-image models report tokens (``input_tokens``, ``output_tokens``); others are
    billed per image returned."""

    def decode(raw: bytes) -> MediaAnswer:
        data = decode_object(raw)
        images = data.get("data")
        if not isinstance(images, list):
            raise UpstreamError("The upstream provider returned an unexpected response.")
        usage = _dict(data.get("usage"))
        details = usage.get("input_tokens_details")
        cached = _int(details.get("cached_tokens")) if isinstance(details, dict) else 0
        tokens = Usage(
            prompt_tokens=_int(usage.get("input_tokens")),
            completion_tokens=_int(usage.get("output_tokens")),
            cached_tokens=cached,
        )
        return MediaAnswer(
            data, usage=tokens if tokens.total_tokens else None, units=Units(images=len(images))
        )

    return decode


def decode_speech(req: MediaRequest) -> Decode:
    """Audio bytes; the upstream reports nothing, so the characters are counted and the
    seconds estimated from them (only models priced per second use them)."""
    chars = len(req.texts[0]) if req.texts else 0
    seconds = Decimal(chars) / SPEECH_CHARS_PER_SECOND
    units = Units(characters=chars, seconds=seconds.quantize(Decimal("0.01")))
    content_type = speech_type(req.body)

    def decode(raw: bytes) -> MediaAnswer:
        if not raw:
            raise UpstreamError("The upstream provider returned no audio.")
        return MediaAnswer(raw, content_type=content_type, units=units)

    return decode


def decode_transcription(req: MediaRequest) -> Decode:
    """``usage`` is ``{"type": "tokens", ...}`` (gpt-4o-transcribe) or ``{"type": "duration",
    "seconds"}`` (whisper); verbose_json carries ``duration``; text formats carry nothing, so
    the seconds are estimated from the upload's size."""
    as_json = transcript_is_json(req.body)
    estimated = Decimal(max(1, math.ceil(len(req.file) / AUDIO_BYTES_PER_SECOND)))

    def decode(raw: bytes) -> MediaAnswer:
        if not as_json:
            text = raw.decode("utf-8", "replace")
            return MediaAnswer(text, content_type="text/plain", units=Units(seconds=estimated))
        data = decode_object(raw)
        if not isinstance(data.get("text"), str):
            raise UpstreamError("The upstream provider returned an unexpected response.")
        usage = _dict(data.get("usage"))
        if usage.get("type") == "tokens" or "input_tokens" in usage:
            tokens = Usage(
                prompt_tokens=_int(usage.get("input_tokens")),
                completion_tokens=_int(usage.get("output_tokens")),
            )
            return MediaAnswer(data, usage=tokens)
        seconds = _seconds(usage.get("seconds")) or _seconds(data.get("duration")) or estimated
        return MediaAnswer(data, units=Units(seconds=seconds))

    return decode


def _seconds(value: Any) -> Decimal | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return Decimal(repr(value))
    return None


def decode_moderation(req: MediaRequest) -> Decode:
    tokens = Usage(prompt_tokens=estimate_tokens(req))

    def decode(raw: bytes) -> MediaAnswer:
        data = decode_object(raw)
        if not isinstance(data.get("results"), list):
            raise UpstreamError("The upstream provider returned an unexpected response.")
        return MediaAnswer(data, usage=tokens)

    return decode


def decode_rerank(req: MediaRequest) -> Decode:
    """Jina / Together / Cohere answers: ``results`` of ``{index, relevance_score}``; billed by
    ``search_units`` (Cohere's ``meta.billed_units``) or ``usage.total_tokens``."""
    docs = req.texts[1:]

    def decode(raw: bytes) -> MediaAnswer:
        data = decode_object(raw)
        results = data.get("results")
        if not isinstance(results, list):
            raise UpstreamError("The upstream provider returned an unexpected response.")
        return rerank_answer(data, results, docs, req)

    return decode


def rerank_answer(
    data: dict[str, Any], results: list[Any], docs: list[str], req: MediaRequest
) -> MediaAnswer:
    """The gateway's rerank body (Cohere/Jina shape) from any upstream's results."""
    want_docs = req.body.get("return_documents") is True
    out = []
    for item in results:
        if not isinstance(item, dict) or not isinstance(item.get("index"), int):
            raise UpstreamError("The upstream provider returned an unexpected response.")
        index, score = item["index"], item.get("relevance_score")
        if not 0 <= index < len(docs) or not isinstance(score, int | float):
            raise UpstreamError("The upstream provider returned an unexpected response.")
        entry: dict[str, Any] = {"index": index, "relevance_score": float(score)}
        if want_docs:
            entry["document"] = {"text": docs[index]}
        out.append(entry)
    usage = _dict(data.get("usage"))
    meta = _dict(data.get("meta"))
    billed = _dict(meta.get("billed_units"))
    units = _int(billed.get("search_units")) or _int(usage.get("search_units"))
    tokens = _int(usage.get("total_tokens")) or _int(usage.get("prompt_tokens"))
    body = {"id": str(data.get("id") or ""), "results": out}
    return MediaAnswer(
        body,
        usage=Usage(prompt_tokens=tokens) if tokens else None,
        units=Units(queries=units or search_units(len(docs))),
    )
