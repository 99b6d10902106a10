"""Cache keys of ``POST /v1/messages`` (Anthropic's body), apart from chat's (pure, no I/O).

The same rules as ``keys.py`` on Anthropic's shape: the key is a digest of the account, the
model, the system prompt, the messages and every parameter that can change the answer;
``stream`` and ``metadata`` (delivery and labelling) and the gateway's own fields are left
out. A one-text-block content or system says the same as its text. Digests are tagged
``messages``, so a Messages request never meets a chat entry. ``auto`` caches requests at
``temperature`` 0 (Anthropic has no ``seed``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aigw.cache.keys import CacheAsk, _content, _digest, _text, model_of
from aigw.cache.service import Lookup, ResponseCache
from aigw.formats.openai_chat import GATEWAY_FIELDS

_NOT_KEYED = frozenset({"stream", "metadata", "model", "messages", "system"} | set(GATEWAY_FIELDS))


def _message(message: Any) -> Any:
    if not isinstance(message, dict):
        return message
    out = {k: v for k, v in message.items() if v is not None}
    if "content" in out:
        out["content"] = _content(out["content"])
    return out


def _parts(body: Mapping[str, Any]) -> tuple[Any, list[Any], dict[str, Any]]:
    system = _content(body.get("system")) or None
    messages = [_message(m) for m in body.get("messages") or ()]
    params = {k: v for k, v in body.items() if k not in _NOT_KEYED and v is not None}
    if isinstance(params.get("stop_sequences"), list) and not params["stop_sequences"]:
        params.pop("stop_sequences")
    return system, messages, params


def exact_key(account_id: str, model: Any, body: Mapping[str, Any]) -> str:
    system, messages, params = _parts(body)
    return _digest("messages", account_id, model, system, messages, params)


def semantic_parts(account_id: str, model: Any, body: Mapping[str, Any]) -> tuple[str, str]:
    """(scope, text): the trailing user turn's text is compared by meaning; the system prompt,
    earlier turns and parameters must match exactly (the scope)."""
    system, messages, params = _parts(body)
    cut = len(messages)
    while (
        cut > 0
        and isinstance(messages[cut - 1], dict)
        and messages[cut - 1].get("role") == ("user")
    ):
        cut -= 1
    text = "\n".join(_text(m.get("content")) for m in messages[cut:])
    return _digest("messages-semantic", account_id, model, system, messages[:cut], params), text


def plan(
    cache: ResponseCache, ask: CacheAsk, account_id: str, resolved_model: str, body: dict[str, Any]
) -> Lookup | None:
    """The request's keys, or None when bypassed (skip; ``auto`` and not temperature 0)."""
    if ask.mode == "skip" or (ask.mode == "auto" and body.get("temperature") != 0):
        return None
    model = model_of(body, resolved_model)
    lookup = Lookup(account_id, exact_key(account_id, model, body), ask.ttl)
    if ask.semantic and cache.embedder is not None:
        scope, text = semantic_parts(account_id, model, body)
        if text.strip():
            lookup.scope, lookup.text, lookup.similarity = scope, text, ask.similarity
    return lookup
