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
    rates = _integer_rates(price)
    prompt, completion = usage.prompt_tokens, usage.completion_tokens
    if rates is not None and prompt >= 0 and completion >= 0:
        inp, cached_rate, out, _ = rates.base
        for above, tier in rates.tiers:  # as _rates: the last tier the prompt passes
            if prompt > above:
                inp, cached_rate, out, _ = tier
        cached = usage.cached_tokens  # clamped to [0, prompt], without min / max calls
        cached = 0 if cached < 0 else prompt if cached > prompt else cached
        total = (prompt - cached) * inp + cached * cached_rate
        reasoning_rate = rates.reasoning
        if reasoning_rate is not None:
            reasoning = usage.reasoning_tokens
            reasoning = 0 if reasoning < 0 else completion if reasoning > completion else reasoning
            total += reasoning * reasoning_rate + (completion - reasoning) * out
        else:
            total += completion * out
        if total < _EXACT_LIMIT:
            return total * rates.multiplier if rates.divisor == 1 else rates.round_half_up(total)
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
    rates = _integer_rates(price)
    if rates is not None and prompt_tokens >= 0 and max_output_tokens >= 0:
        inp, _, _, dearest = rates.base
        for above, tier in rates.tiers:
            if prompt_tokens > above:
                inp, _, _, dearest = tier
        total = prompt_tokens * inp + max_output_tokens * dearest
        if total < _EXACT_LIMIT:
            return total * rates.multiplier if rates.divisor == 1 else -(-total // rates.divisor)
    return _max_cost_decimal(price, prompt_tokens, max_output_tokens)


def _max_cost_decimal(price: Price, prompt_tokens: int, max_output_tokens: int) -> int:
    inp, _, out = _rates(price, prompt_tokens)
    if price.reasoning is not None:
        out = max(out, price.reasoning)
    total = prompt_tokens * inp + max_output_tokens * out
    return _to_micro_cents(total, ROUND_CEILING)


# The same arithmetic in integers, for the hot path (Decimal was ~3.5% of the loop's CPU).
#
# Every rate of a Price is an exact decimal, so scaled by 10**-exp (exp the smallest exponent
# among its rates) each is an integer, and a call's cost in µ¢ is  total * 10**(exp + 2)
# with ``total`` the integer sum of tokens x scaled rates: exact, rounded once, like the
# Decimal code. The Decimal code is exact too as long as no intermediate value needs more
# than the context's 28 significant digits. With rates and token counts all >= 0, every
# intermediate's coefficient is at most ``total``, so below _EXACT_LIMIT both give the same
# integer; otherwise (negative counts or rates, huge totals, rates that are not finite
# Decimals: never for real usage) the Decimal code itself answers.
_EXACT_LIMIT = 10**26


class _IntegerRates:
    """A Price's token rates as integers at one scale (see above); built once per Price."""

    __slots__ = ("base", "divisor", "multiplier", "reasoning", "tiers")

    base: tuple[int, int, int, int]
    tiers: tuple[tuple[int, tuple[int, int, int, int]], ...]
    reasoning: int | None
    multiplier: int
    divisor: int

    def __init__(self, price: Price, exponent: int) -> None:
        def scaled(value: Decimal) -> int:  # exactly value * 10**-exponent, no context
            _, digits, exp = value.as_tuple()  # >= 0 and finite: checked by the caller
            return int("".join(map(str, digits)) + "0" * (int(exp) - exponent))

        self.reasoning = None if price.reasoning is None else scaled(price.reasoning)

        def rates(inp: Decimal, out: Decimal, cached: Decimal | None) -> tuple[int, int, int, int]:
            i, o = scaled(inp), scaled(out)
            c = i if cached is None else scaled(cached)
            dearest = o if self.reasoning is None else max(o, self.reasoning)
            return i, c, o, dearest

        self.base = rates(price.input, price.output, price.cached_input)
        self.tiers = tuple(
            (t.above_tokens, rates(t.input, t.output, t.cached_input)) for t in price.tiers
        )
        shift = exponent + 2  # µ¢ = total * 10**shift  (1 USD per 1M tokens = 100 µ¢/token)
        self.multiplier = int("1" + "0" * shift) if shift >= 0 else 1
        self.divisor = int("1" + "0" * -shift) if shift < 0 else 1

    def round_half_up(self, total: int) -> int:
        divisor = self.divisor
        quotient, rest = divmod(abs(total), divisor)
        if 2 * rest >= divisor:  # halves away from zero, as ROUND_HALF_UP
            quotient += 1
        return quotient if total >= 0 else -quotient


# By id: Price is a frozen, slotted dataclass (no attribute to cache on, and hashing it hashes
# every field). Each entry keeps its Price alive, so an id is never reused while cached.
_INTEGER_RATES: dict[int, tuple[Price, _IntegerRates | None]] = {}
_MAX_CACHED = 4096


def _integer_rates(price: Price) -> _IntegerRates | None:
    """The Price's integer rates; None unless every rate is a finite Decimal >= 0."""
    found = _INTEGER_RATES.get(id(price))
    if found is not None and found[0] is price:
        return found[1]
    values = [price.input, price.output, price.cached_input, price.reasoning]
    for tier in price.tiers:
        values += (tier.input, tier.output, tier.cached_input)
    decimals = [v for v in values if v is not None]
    rates: _IntegerRates | None = None
    if all(isinstance(v, Decimal) and v.is_finite() and v >= 0 for v in decimals):
        exponent = min(int(v.as_tuple().exponent) for v in decimals)
        rates = _IntegerRates(price, exponent)
    if len(_INTEGER_RATES) >= _MAX_CACHED:
        _INTEGER_RATES.clear()
    _INTEGER_RATES[id(price)] = (price, rates)
    return rates


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
