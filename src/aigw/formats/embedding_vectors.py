"""Embedding vectors in OpenAI's answer shape, as floats or base64 (little-endian float32, as
OpenAI sends them and its SDK decodes them). Pure: no I/O."""

from __future__ import annotations

import base64
import struct
from typing import Any


def to_base64(vector: list[float]) -> str:
    return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()


def from_base64(text: str) -> list[float]:
    raw = base64.b64decode(text)
    return list(struct.unpack(f"<{len(raw) // 4}f", raw))


def embeddings_body(
    vectors: list[list[float]], model: str, prompt_tokens: int, encoding_format: str | None
) -> dict[str, Any]:
    """OpenAI's ``/v1/embeddings`` answer for these vectors."""
    as_b64 = encoding_format == "base64"
    return {
        "object": "list",
        "data": [
            {"object": "embedding", "index": i, "embedding": to_base64(v) if as_b64 else v}
            for i, v in enumerate(vectors)
        ],
        "model": model,
        "usage": {"prompt_tokens": prompt_tokens, "total_tokens": prompt_tokens},
    }


def vectors_of(data: dict[str, Any]) -> list[list[float]]:
    """The float vectors of an OpenAI-shaped answer, whichever encoding it used."""
    out: list[list[float]] = []
    for item in sorted(data.get("data") or [], key=lambda d: d.get("index", 0)):
        value = item.get("embedding")
        out.append(from_base64(value) if isinstance(value, str) else [float(x) for x in value])
    return out
