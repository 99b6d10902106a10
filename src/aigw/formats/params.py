"""Which OpenAI parameters an upstream format cannot take: dropped with a warning, or refused.

A parameter that only tunes sampling (``seed``, ``logit_bias``, penalties) is dropped and
named in the ``x-aig-warning`` response header. One whose absence would change what the
client gets back (several choices, log-probabilities, audio output) is refused with a 400
naming it, because silently answering without it would be a different answer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aigw.errors import InvalidRequest
from aigw.formats.openai_chat import GATEWAY_FIELDS

WARNING_HEADER = "x-aig-warning"

# Understood by every translating codec (or used by the gateway itself).
COMMON = frozenset(
    {
        "model",
        "messages",
        "stream",
        "stream_options",
        "max_tokens",
        "max_completion_tokens",
        "temperature",
        "top_p",
        "stop",
        "tools",
        "tool_choice",
        "response_format",
        "reasoning_effort",
        *GATEWAY_FIELDS,
    }
)

# parameter -> predicate: refused when the predicate holds for the value sent.
_REFUSE: dict[str, Callable[[Any], bool]] = {
    "n": lambda v: v not in (None, 1),
    "logprobs": lambda v: v is True,
    "top_logprobs": lambda v: bool(v),
    "audio": lambda v: v is not None,
    "modalities": lambda v: isinstance(v, list) and any(m != "text" for m in v),
    "prediction": lambda v: v is not None,
}


@dataclass(slots=True)
class Encoded:
    """An upstream request body plus the warnings to send back to the client."""

    body: dict[str, Any]
    warnings: list[str] = field(default_factory=list)


def unsupported(body: Mapping[str, Any], handled: Iterable[str], provider: str) -> list[str]:
    """Names of parameters to drop (for the warning); raises for ones that must be refused."""
    known = COMMON.union(handled)
    dropped: list[str] = []
    for name, value in body.items():
        if name in known or value is None:
            continue
        refuse = _REFUSE.get(name)
        if refuse is not None:
            if refuse(value):
                raise InvalidRequest(
                    f"'{name}' is not supported by {provider} models; the gateway cannot "
                    "translate it without changing the answer.",
                    param=name,
                )
            continue
        dropped.append(name)
    return dropped


def drop_warnings(provider: str, dropped: list[str]) -> list[str]:
    if not dropped:
        return []
    return [f"dropped parameters {provider} does not take: {', '.join(dropped)}"]
