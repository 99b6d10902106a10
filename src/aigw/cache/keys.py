"""What a request asks of the cache, and the keys it is stored under (pure, no I/O).

The exact key is a digest of the account and the normalised request: the model, the messages
and every parameter that can change the answer. Parameters that only change how the answer is
delivered or labelled (``stream``, ``stream_options``, ``user``, ``metadata``, ``store``) and
the gateway's own fields are left out, so a streamed and a whole call share one entry. Unknown
parameters stay in the key: an unfamiliar option can only cost a miss, never a wrong answer.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from aigw.errors import InvalidRequest
from aigw.formats.openai_chat import GATEWAY_FIELDS

MODE_HEADER = "x-cache"  # auto | force | skip
SEMANTIC_HEADER = "x-aig-cache"  # semantic
TTL_HEADER = "x-aig-cache-ttl"  # seconds
SIMILARITY_HEADER = "x-aig-cache-similarity"  # 0 < threshold <= 1
MODES = ("auto", "force", "skip")
MAX_TTL_SECONDS = 30 * 24 * 3600

# Delivery and labelling only: never part of the key.
_NOT_KEYED = frozenset(
    {"stream", "stream_options", "user", "metadata", "store", "model", "messages"}
    | set(GATEWAY_FIELDS)
)


@dataclass(frozen=True, slots=True)
class CacheAsk:
    """The cache controls of one request (headers, with the settings' defaults)."""

    mode: str
    ttl: int
    semantic: bool
    similarity: float


def read_ask(
    headers: Mapping[str, str], *, default_mode: str, default_ttl: int, default_similarity: float
) -> CacheAsk:
    """Parse the cache headers; a bad value is a 400 naming the header."""
    mode = headers.get(MODE_HEADER, default_mode).strip().lower() or default_mode
    if mode not in MODES:
        raise InvalidRequest(
            f"Header '{MODE_HEADER}' must be auto, force or skip.", param=MODE_HEADER
        )
    ttl = default_ttl
    raw_ttl = headers.get(TTL_HEADER)
    if raw_ttl is not None:
        try:
            ttl = int(raw_ttl.strip())
        except ValueError:
            ttl = 0
        if not 1 <= ttl <= MAX_TTL_SECONDS:
            raise InvalidRequest(
                f"Header '{TTL_HEADER}' must be whole seconds from 1 to {MAX_TTL_SECONDS}.",
                param=TTL_HEADER,
            )
    semantic = False
    raw_semantic = headers.get(SEMANTIC_HEADER)
    if raw_semantic is not None:
        value = raw_semantic.strip().lower()
        if value not in ("semantic", "exact"):
            raise InvalidRequest(
                f"Header '{SEMANTIC_HEADER}' must be 'semantic' or 'exact'.", param=SEMANTIC_HEADER
            )
        semantic = value == "semantic"
    similarity = default_similarity
    raw_similarity = headers.get(SIMILARITY_HEADER)
    if raw_similarity is not None:
        try:
            similarity = float(raw_similarity.strip())
        except ValueError:
            similarity = -1.0
        if not 0 < similarity <= 1:
            raise InvalidRequest(
                f"Header '{SIMILARITY_HEADER}' must be a number in (0, 1].",
                param=SIMILARITY_HEADER,
            )
    return CacheAsk(mode, ttl, semantic, similarity)


def deterministic(body: Mapping[str, Any]) -> bool:
    """What ``auto`` caches: answers the client asked to be repeatable (temperature 0, or a
    seed), one choice, no log-probabilities (a replay would lack them when streamed)."""
    if body.get("n", 1) != 1 or body.get("logprobs"):
        return False
    return body.get("temperature") == 0 or isinstance(body.get("seed"), int)


def cacheable(body: Mapping[str, Any]) -> bool:
    """What ``force`` may cache: one choice and no log-probabilities (see above)."""
    return body.get("n", 1) == 1 and not body.get("logprobs")


def _canonical(value: Any) -> Any:
    """Equal requests, equal bytes: 0.0 and 0 agree, key order does not matter."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _canonical(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_canonical(v) for v in value]
    return value


def _content(content: Any) -> Any:
    """A content array holding only one text part says the same as that text."""
    if (
        isinstance(content, list)
        and len(content) == 1
        and isinstance(content[0], dict)
        and content[0].get("type") == "text"
        and set(content[0]) == {"type", "text"}
    ):
        return content[0]["text"]
    return content


def _message(message: Any) -> Any:
    if not isinstance(message, dict):
        return message
    out = {k: v for k, v in message.items() if v is not None}
    if "content" in out:
        out["content"] = _content(out["content"])
    return out


def _params(body: Mapping[str, Any]) -> dict[str, Any]:
    params = {k: v for k, v in body.items() if k not in _NOT_KEYED and v is not None}
    if "max_completion_tokens" in params and "max_tokens" not in params:
        params["max_tokens"] = params.pop("max_completion_tokens")
    if isinstance(params.get("stop"), str):
        params["stop"] = [params["stop"]]
    return params


def _digest(*parts: Any) -> str:
    data = orjson.dumps(_canonical(list(parts)), option=orjson.OPT_SORT_KEYS)
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def model_of(body: Mapping[str, Any], resolved: str) -> Any:
    """The model part of the key: the catalog id a single name resolved to (so ``grok-4.3``
    and ``xai/grok-4.3`` share entries), or a fallback list as given."""
    model = body.get("model")
    return resolved if isinstance(model, str) else model


def exact_key(account_id: str, model: Any, body: Mapping[str, Any]) -> str:
    messages = [_message(m) for m in body.get("messages") or ()]
    return _digest("exact", account_id, model, messages, _params(body))


def semantic_parts(account_id: str, model: Any, body: Mapping[str, Any]) -> tuple[str, str]:
    """(scope, text): the trailing user message(s) are compared by meaning; everything else
    (model, parameters, system prompt, earlier turns) must match exactly, as the scope."""
    messages = [_message(m) for m in body.get("messages") or ()]
    cut = len(messages)
    while cut > 0 and _role(messages[cut - 1]) == "user":
        cut -= 1
    text = "\n".join(_text(m.get("content")) for m in messages[cut:])
    return _digest("semantic", account_id, model, messages[:cut], _params(body)), text


def _role(message: Any) -> Any:
    return message.get("role") if isinstance(message, dict) else None


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(
            str(part.get("text") or "")
            for part in content
            if isinstance(part, dict) and part.get("type") == "text"
        )
    return ""
