"""Token usage of one call, normalised across providers (no I/O)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Usage:
    """Tokens of one call.

    ``prompt_tokens`` counts every input token, ``cached_tokens`` of them read from the
    provider's prompt cache. ``completion_tokens`` counts every output token, reasoning
    included (``reasoning_tokens`` says how many of them were reasoning), whatever the
    provider's own convention was; codecs normalise to this on the way in.
    """

    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    reasoning_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens
