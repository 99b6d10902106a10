"""billing/pricing.py's integer fast path gives bit-for-bit what the Decimal code gave."""

from __future__ import annotations

import random
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from typing import Any

import pytest

from aigw.billing import estimate, pricing
from aigw.billing.pricing import cost_micro_cents, max_cost_micro_cents
from aigw.catalog import Price, PriceTier, builtin_catalog
from aigw.config import load_settings
from aigw.core.usage import Usage

D = Decimal


# The Decimal code as it was before the integer fast path: the reference.
def _ref_rates(price: Price, prompt_tokens: int) -> tuple[Decimal, Decimal, Decimal]:
    inp, out, cached = price.input, price.output, price.cached_input
    for tier in price.tiers:
        if prompt_tokens > tier.above_tokens:
            inp, out, cached = tier.input, tier.output, tier.cached_input
    return inp, (inp if cached is None else cached), out


def _ref_round(total: Decimal, rounding: str) -> int:
    return int((total * pricing._PER_TOKEN).to_integral_value(rounding=rounding))


def ref_cost(price: Price, usage: Usage) -> int:
    inp, cached_rate, out = _ref_rates(price, usage.prompt_tokens)
    cached = min(max(usage.cached_tokens, 0), usage.prompt_tokens)
    total = (usage.prompt_tokens - cached) * inp + cached * cached_rate
    if price.reasoning is not None:
        reasoning = min(max(usage.reasoning_tokens, 0), usage.completion_tokens)
        total += reasoning * price.reasoning + (usage.completion_tokens - reasoning) * out
    else:
        total += usage.completion_tokens * out
    return _ref_round(total, ROUND_HALF_UP)


def ref_max_cost(price: Price, prompt_tokens: int, max_output_tokens: int) -> int:
    inp, _, out = _ref_rates(price, prompt_tokens)
    if price.reasoning is not None:
        out = max(out, price.reasoning)
    return _ref_round(prompt_tokens * inp + max_output_tokens * out, ROUND_CEILING)


def _rate(rng: random.Random) -> Decimal:
    kind = rng.random()
    if kind < 0.1:
        return D(0)
    if kind < 0.6:  # catalog-like: a few decimals
        return D(rng.randint(1, 100_000)).scaleb(-rng.randint(0, 4))
    if kind < 0.8:  # awkward: many digits, tiny or large exponents, trailing zeros
        return D(rng.randint(1, 10**12)).scaleb(-rng.randint(0, 20))
    if kind < 0.9:
        return D(f"{rng.randint(1, 999)}.{rng.randint(0, 9)}000")
    return D(rng.randint(1, 9)).scaleb(rng.randint(0, 3))  # 1E+2 and the like


def _price(rng: random.Random) -> Price:
    def maybe() -> Decimal | None:
        return _rate(rng) if rng.random() < 0.5 else None

    tiers = []
    above = 0
    for _ in range(rng.choice((0, 0, 1, 2, 3))):
        above += rng.randint(1, 300_000)
        tiers.append(PriceTier(above, _rate(rng), _rate(rng), maybe()))
    return Price(_rate(rng), _rate(rng), maybe(), maybe(), tuple(tiers))


def _tokens(rng: random.Random) -> int:
    kind = rng.random()
    if kind < 0.05:
        return 0
    if kind < 0.1:
        return rng.randint(-50, -1)  # nonsense counts: the Decimal path answers
    if kind < 0.15:
        return rng.randint(10**12, 10**30)  # past the exact limit: the Decimal path answers
    return rng.randint(1, 2_000_000)


def _usage(rng: random.Random) -> Usage:
    prompt, completion = _tokens(rng), _tokens(rng)
    cached = rng.choice((0, rng.randint(-5, max(prompt, 1) + 5)))
    reasoning = rng.choice((0, rng.randint(-5, max(completion, 1) + 5)))
    return Usage(prompt, completion, cached, reasoning)


@pytest.mark.parametrize("seed", range(8))
def test_random_prices_and_usages_match_the_decimal_code(seed: int) -> None:
    rng = random.Random(seed)
    fast = 0
    for _ in range(300):
        price = _price(rng)
        fast += pricing._integer_rates(price) is not None
        for _ in range(20):
            usage = _usage(rng)
            assert cost_micro_cents(price, usage) == ref_cost(price, usage), (price, usage)
            prompt, out = _tokens(rng), _tokens(rng)
            assert max_cost_micro_cents(price, prompt, out) == ref_max_cost(price, prompt, out)
    assert fast == 300  # every random price has integer rates: the fast path is what's tested


def test_rounding_edges_match_the_decimal_code() -> None:
    # exact halves (ROUND_HALF_UP goes up) and hair-above-integer bounds (ROUND_CEILING)
    price = Price(D("0.005"), D("0.015"), D("0.0025"), D("0.035"))
    for n in range(0, 400):
        for usage in (Usage(n, n), Usage(n, 0, n // 2), Usage(0, n, 0, n // 3)):
            assert cost_micro_cents(price, usage) == ref_cost(price, usage)
        assert max_cost_micro_cents(price, n, n) == ref_max_cost(price, n, n)
    assert cost_micro_cents(Price(D("0.005"), D(0)), Usage(1)) == 1  # 0.5 µ¢ rounds up
    assert max_cost_micro_cents(Price(D("0.001"), D(0)), 1, 0) == 1  # 0.1 µ¢ bounds at 1


def test_every_catalog_price_matches_the_decimal_code() -> None:
    rng = random.Random(7)
    for model in builtin_catalog().models:
        price = model.price
        for _ in range(30):
            usage = _usage(rng)
            assert cost_micro_cents(price, usage) == ref_cost(price, usage), model.id
            prompt, out = _tokens(rng), _tokens(rng)
            assert max_cost_micro_cents(price, prompt, out) == ref_max_cost(price, prompt, out)


def test_prices_that_are_not_finite_decimals_take_the_decimal_path() -> None:
    odd = Price(D(2), D(3), reasoning=D(-1))  # a negative rate: no integer rates
    usage = Usage(10, 10, 0, 5)
    assert cost_micro_cents(odd, usage) == ref_cost(odd, usage)
    assert max_cost_micro_cents(odd, 10, 10) == ref_max_cost(odd, 10, 10)
    assert pricing._integer_rates(odd) is None


def test_the_cache_is_per_price_object_and_bounded() -> None:
    a = Price(D("1.25"), D("2.50"))
    b = Price(D("1.25"), D("2.50"))
    assert pricing._integer_rates(a) is pricing._integer_rates(a)
    assert pricing._integer_rates(a) is not pricing._integer_rates(b)
    for _ in range(pricing._MAX_CACHED + 10):
        pricing._integer_rates(Price(D(1), D(2)))
    assert len(pricing._INTEGER_RATES) <= pricing._MAX_CACHED


def _ref_max_output_tokens(model: Any, body: dict[str, Any], settings: Any) -> int:
    asked = body.get("max_completion_tokens") or body.get("max_tokens")
    limit = asked if isinstance(asked, int) and asked > 0 else None
    if limit is None:
        limit = model.max_output_tokens or settings.reserve_output_tokens
    elif model.max_output_tokens:
        limit = min(limit, model.max_output_tokens)
    n = body.get("n")
    return limit * (n if isinstance(n, int) and n > 1 else 1)


def _ref_reserve(model: Any, body: dict[str, Any], prompt: int, settings: Any) -> int:
    if model.context_window:
        prompt = min(prompt, model.context_window)
    return ref_max_cost(model.price, prompt, _ref_max_output_tokens(model, body, settings))


def test_reserve_amount_matches_the_code_it_replaced() -> None:
    rng = random.Random(3)
    settings = load_settings(environ={})
    models = list(builtin_catalog().models)
    values: list[Any] = [None, 0, -3, 1, 7, 4096, 10**6, True, "12", 2.5]
    for _ in range(3000):
        model = rng.choice(models)
        body: dict[str, Any] = {}
        for name in ("max_completion_tokens", "max_tokens", "n"):
            if rng.random() < 0.5:
                body[name] = rng.choice(values)
        prompt = rng.randint(1, 3_000_000)
        want = _ref_reserve(model, body, prompt, settings)
        assert estimate.reserve_amount(model, body, prompt, settings) == want, body
        ask = estimate.output_ask(body)
        assert estimate.reserve_amount(model, body, prompt, settings, ask) == want, body
        expected = _ref_max_output_tokens(model, body, settings)
        assert estimate.max_output_tokens(model, body, settings) == expected
