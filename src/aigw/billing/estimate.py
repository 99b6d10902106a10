"""Upper bounds before a call and estimates when a provider reports no usage (pure)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aigw.billing.pricing import max_cost_micro_cents

if TYPE_CHECKING:
    from aigw.catalog.models import Model
    from aigw.config import Settings

# A token is at least ~2.5 bytes of JSON request body in every tokenizer we price, so the body
# size over this is an upper bound of the prompt's tokens.
BYTES_PER_TOKEN_LOW = 2.5


BYTES_PER_TOKEN_TYPICAL = 4


def max_prompt_tokens(body_bytes: int) -> int:
    """An upper bound of the prompt's tokens, for reservations."""
    return int(body_bytes / BYTES_PER_TOKEN_LOW) + 1


def typical_prompt_tokens(body_bytes: int) -> int:
    """A fair estimate of the prompt's tokens, to bill when the provider reported none."""
    return body_bytes // BYTES_PER_TOKEN_TYPICAL + 1


def max_output_tokens(model: Model, body: dict[str, Any], settings: Settings) -> int:
    """The most output tokens the call may produce, over all of its ``n`` choices."""
    asked = body.get("max_completion_tokens") or body.get("max_tokens")
    limit = asked if isinstance(asked, int) and asked > 0 else None
    if limit is None:
        limit = model.max_output_tokens or settings.reserve_output_tokens
    elif model.max_output_tokens:
        limit = min(limit, model.max_output_tokens)
    n = body.get("n")
    return limit * (n if isinstance(n, int) and n > 1 else 1)


def reserve_amount(
    model: Model, body: dict[str, Any], prompt_tokens: int, settings: Settings
) -> int:
    """µ¢ to hold before calling upstream: the call can never cost more than this."""
    if model.context_window:
        prompt_tokens = min(prompt_tokens, model.context_window)
    return max_cost_micro_cents(
        model.price, prompt_tokens, max_output_tokens(model, body, settings)
    )
