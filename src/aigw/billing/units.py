"""What a call billed by units other than tokens costs (images, characters, seconds, search
queries), in integer micro-cents. Pure: no I/O.

Per-unit prices are USD per unit (``Price.per_image`` ...); they add to whatever the call's
tokens cost, and the sum is rounded once, like a token-priced call.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal

from aigw.billing.pricing import _PER_TOKEN, MICRO_CENTS_PER_USD, token_total
from aigw.catalog.models import Price
from aigw.core.units import Units
from aigw.core.usage import Usage

_ZERO = Decimal(0)


def _unit_total(price: Price, units: Units) -> Decimal:
    """USD of the units (unrounded)."""
    total = _ZERO
    for rate, amount in (
        (price.per_image, units.images),
        (price.per_character, units.characters),
        (price.per_second, units.seconds),
        (price.per_query, units.queries),
    ):
        if rate is not None and amount:
            total += rate * Decimal(amount)
    return total


def units_cost_micro_cents(price: Price, usage: Usage, units: Units) -> int:
    """Tokens at the token prices plus units at the unit prices, rounded once."""
    exact = token_total(price, usage) * _PER_TOKEN + _unit_total(price, units) * MICRO_CENTS_PER_USD
    return int(exact.to_integral_value(rounding=ROUND_HALF_UP))


def max_units_cost_micro_cents(price: Price, usage: Usage, units: Units) -> int:
    """An upper bound for a reservation: the same sum, rounded up."""
    exact = token_total(price, usage) * _PER_TOKEN + _unit_total(price, units) * MICRO_CENTS_PER_USD
    return int(exact.to_integral_value(rounding=ROUND_CEILING))
