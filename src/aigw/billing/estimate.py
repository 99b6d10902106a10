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


def output_ask(body: dict[str, Any]) -> tuple[int | None, int]:
    """What the body asks for: (max output tokens per choice, when sane; choices ``n``)."""
    asked = body.get("max_completion_tokens") or body.get("max_tokens")
    n = body.get("n")
    return (
        asked if isinstance(asked, int) and asked > 0 else None,
        n if isinstance(n, int) and n > 1 else 1,
    )


def max_output_tokens(
    model: Model,
    body: dict[str, Any],
    settings: Settings,
    ask: tuple[int | None, int] | None = None,
) -> int:
    """The most output tokens the call may produce, over all of its ``n`` choices.

    ``ask`` is ``output_ask(body)`` when the caller already has it (one per request)."""
    limit, n = output_ask(body) if ask is None else ask
    cap = model.max_output_tokens
    if limit is None:
        limit = cap or settings.reserve_output_tokens
    elif cap and cap < limit:
        limit = cap
    return limit * n


def reserve_amount(
    model: Model,
    body: dict[str, Any],
    prompt_tokens: int,
    settings: Settings,
    ask: tuple[int | None, int] | None = None,
) -> int:
    """µ¢ to hold before calling upstream: the call can never cost more than this."""
    window = model.context_window
    if window and window < prompt_tokens:
        prompt_tokens = window
    return max_cost_micro_cents(
        model.price, prompt_tokens, max_output_tokens(model, body, settings, ask)
    )
