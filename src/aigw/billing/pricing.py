"""What a call costs, in integer micro-cents (1 USD = 100,000,000 µ¢). Pure: no I/O.

Catalog prices are ``Decimal`` USD per 1M tokens, so one token at $1/M is 100 µ¢ and every
per-token cost is exact in ``Decimal``; a request's cost is rounded once, at the end, so many
small calls never drift from what the provider bills.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal

from aigw.catalog.models import Price
from aigw.core.usage import Usage

MICRO_CENTS_PER_USD = 100_000_000
MICRO_CENTS_PER_CENT = 1_000_000
_PER_TOKEN = Decimal(MICRO_CENTS_PER_USD) / Decimal(1_000_000)  # µ¢ per token at $1 per 1M


def _rates(price: Price, prompt_tokens: int) -> tuple[Decimal, Decimal, Decimal]:
    """(input, cached input, output) USD per 1M for a prompt of this size.

    Providers with long-context pricing bill the whole request at the higher tier once the
    prompt passes the threshold, so the tier is chosen by prompt size alone.
    """
    inp, out, cached = price.input, price.output, price.cached_input
    for tier in price.tiers:
        if prompt_tokens > tier.above_tokens:
            inp, out, cached = tier.input, tier.output, tier.cached_input
    return inp, (inp if cached is None else cached), out


def _to_micro_cents(usd_per_million_tokens: Decimal, rounding: str) -> int:
    return int((usd_per_million_tokens * _PER_TOKEN).to_integral_value(rounding=rounding))


def cost_micro_cents(price: Price, usage: Usage) -> int:
    """The cost of one call: cached prompt tokens at the cached rate, reasoning tokens at the
    reasoning rate when the model has one, everything else at input / output rates."""
    return _to_micro_cents(token_total(price, usage), ROUND_HALF_UP)


def token_total(price: Price, usage: Usage) -> Decimal:
    """The tokens' cost in USD-per-1M-token units, unrounded (callers round once)."""
    inp, cached_rate, out = _rates(price, usage.prompt_tokens)
    cached = min(max(usage.cached_tokens, 0), usage.prompt_tokens)
    total = (usage.prompt_tokens - cached) * inp + cached * cached_rate
    if price.reasoning is not None:
        reasoning = min(max(usage.reasoning_tokens, 0), usage.completion_tokens)
        total += reasoning * price.reasoning + (usage.completion_tokens - reasoning) * out
    else:
        total += usage.completion_tokens * out
    return total


def max_cost_micro_cents(price: Price, prompt_tokens: int, max_output_tokens: int) -> int:
    """An upper bound on a call's cost, for reserving funds before the upstream call.

    The prompt is priced as uncached and every output token at the dearer of the output and
    reasoning rates; rounding up keeps the bound at or above what ``cost_micro_cents`` gives.
    """
    inp, _, out = _rates(price, prompt_tokens)
    if price.reasoning is not None:
        out = max(out, price.reasoning)
    total = prompt_tokens * inp + max_output_tokens * out
    return _to_micro_cents(total, ROUND_CEILING)


def micro_cents_to_usd(amount: int) -> float:
    """For display and JSON only; money stays integral everywhere else."""
    return amount / MICRO_CENTS_PER_USD


def micro_cents_to_cents_str(amount: int) -> str:
    """Cents with up to 6 decimals and no trailing zeros (``438_900`` -> ``"0.4389"``).

    Used for the ``X-Cost-Cents`` header: exact, since 1 cent is 1,000,000 µ¢.
    """
    sign = "-" if amount < 0 else ""
    whole, frac = divmod(abs(amount), MICRO_CENTS_PER_CENT)
    if not frac:
        return f"{sign}{whole}"
    return f"{sign}{whole}.{frac:06d}".rstrip("0")
