"""The JSON Schema pieces the operation tables are written with (``obj``, ``STR`` ...)."""

from __future__ import annotations

from typing import Any

S = dict[str, Any]


def obj(properties: S, required: tuple[str, ...] = ()) -> S:
    out: S = {"type": "object", "properties": properties}
    if required:
        out["required"] = list(required)
    return out


STR: S = {"type": "string"}
NUM: S = {"type": "number"}
INT: S = {"type": "integer"}
BOOL: S = {"type": "boolean"}
URL: S = {"type": "string", "format": "uri"}
NULL_STR: S = {"type": ["string", "null"]}
NULL_INT: S = {"type": ["integer", "null"]}
USD_LIST: S = {"type": "array", "items": NUM}


def list_of(item: S) -> S:
    """OpenAI's list envelope around ``item``."""
    return obj({"object": STR, "data": {"type": "array", "items": item}}, ("object", "data"))
