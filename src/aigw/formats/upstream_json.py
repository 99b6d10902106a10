"""Decoding an upstream's whole JSON answer: the one place that tells a malformed body (not
JSON) from an unexpected one (JSON, but not an object), both as UpstreamError (pure)."""

from __future__ import annotations

from typing import Any

import orjson

from aigw.errors import UpstreamError


def decode_object(raw: bytes) -> dict[str, Any]:
    """The answer as a JSON object; UpstreamError when it is not JSON or not an object."""
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise UpstreamError("The upstream provider returned a malformed response.") from None
    if not isinstance(data, dict):
        raise UpstreamError("The upstream provider returned an unexpected response.")
    return data
