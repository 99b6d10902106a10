"""Costs checked against hand-computed numbers (µ¢ = tokens x USD-per-1M x 100)."""

from __future__ import annotations

import random
from decimal import Decimal

from aigw.billing.pricing import (
    cost_micro_cents,
    max_cost_micro_cents,
    micro_cents_to_cents_str,
    micro_cents_to_usd,
)
from aigw.catalog import Price, PriceTier, builtin_catalog
from aigw.core.usage import Usage

D = Decimal
FLAT = Price(input=D("1.25"), output=D("2.50"))


def grok() -> Price:
    model = builtin_catalog().get("xai/grok-4.3")
    assert model is not None
    return model.price


def test_one_million_input_tokens_at_the_headline_price() -> None:
    assert cost_micro_cents(FLAT, Usage(prompt_tokens=1_000_000)) == 125_000_000
    assert micro_cents_to_usd(125_000_000) == 1.25


def test_one_million_output_tokens() -> None:
    assert cost_micro_cents(FLAT, Usage(completion_tokens=1_000_000)) == 250_000_000


def test_cached_tokens_use_the_cached_rate() -> None:
    # grok-4.3: 600 x 1.25 + 400 x 0.20 + 500 x 2.50 = 2,080 USD-per-1M units -> 208,000 µ¢
    usage = Usage(prompt_tokens=1000, cached_tokens=400, completion_tokens=500)
    assert cost_micro_cents(grok(), usage) == 208_000
    assert micro_cents_to_cents_str(208_000) == "0.208"


def test_cached_tokens_fall_back_to_input_price() -> None:
    price = Price(input=D("1"), output=D("2"))
    assert cost_micro_cents(price, Usage(prompt_tokens=1000, cached_tokens=500)) == 100_000


def test_reasoning_price_applies_only_to_reasoning_tokens() -> None:
    price = Price(input=D("1"), output=D("4"), reasoning=D("10"))
    usage = Usage(completion_tokens=1000, reasoning_tokens=300)
    assert cost_micro_cents(price, usage) == (300 * 10 + 700 * 4) * 100
    # Without a reasoning price, reasoning tokens are ordinary output.
    assert cost_micro_cents(Price(input=D("1"), output=D("4")), usage) == 1000 * 4 * 100


def test_tier_prices_the_whole_request_once_the_prompt_exceeds_it() -> None:
    at_threshold = Usage(prompt_tokens=200_000, completion_tokens=1000)
    assert cost_micro_cents(grok(), at_threshold) == (200_000 * D("1.25") + 1000 * D("2.5")) * 100
    above = Usage(prompt_tokens=200_001, cached_tokens=1, completion_tokens=1000)
    # 200,000 x 2.50 + 1 x 0.40 (tier cached rate) + 1,000 x 5.00, all x 100
    assert cost_micro_cents(grok(), above) == 50_500_040


def test_highest_exceeded_tier_wins_and_tier_cached_falls_back_to_tier_input() -> None:
    price = Price(
        input=D("1"),
        output=D("1"),
        tiers=(PriceTier(100, D("2"), D("2")), PriceTier(1000, D("3"), D("5"))),
    )
    assert cost_micro_cents(price, Usage(prompt_tokens=500, completion_tokens=1)) == 1002 * 100
    usage = Usage(prompt_tokens=2000, cached_tokens=1000, completion_tokens=10)
    assert cost_micro_cents(price, usage) == (2000 * 3 + 10 * 5) * 100


def test_rounds_once_per_request_half_up() -> None:
    tiny = Price(input=D("0.004"), output=D("0.005"))
    assert cost_micro_cents(tiny, Usage(prompt_tokens=1)) == 0  # 0.4 µ¢
    assert cost_micro_cents(tiny, Usage(completion_tokens=1)) == 1  # 0.5 µ¢ rounds up
    assert cost_micro_cents(tiny, Usage(prompt_tokens=3)) == 1  # 1.2 µ¢, not 3 x 0


def test_gpt_4o_mini_small_call() -> None:
    model = builtin_catalog().get("openai/gpt-4o-mini")
    assert model is not None
    cost = cost_micro_cents(model.price, Usage(prompt_tokens=24, completion_tokens=12))
    assert cost == 1080  # (24 x 0.15 + 12 x 0.60) x 100
    assert micro_cents_to_cents_str(cost) == "0.00108"


def test_free_model_costs_nothing() -> None:
    model = builtin_catalog().get("simulator/free")
    assert model is not None
    assert cost_micro_cents(model.price, Usage(prompt_tokens=10**6, completion_tokens=10**6)) == 0


def test_cents_strings() -> None:
    assert micro_cents_to_cents_str(438_900) == "0.4389"
    assert micro_cents_to_cents_str(0) == "0"
    assert micro_cents_to_cents_str(1) == "0.000001"
    assert micro_cents_to_cents_str(1_500_000) == "1.5"
    assert micro_cents_to_cents_str(125_000_000) == "125"
    assert micro_cents_to_cents_str(-2_500_000) == "-2.5"


def test_max_cost_bounds() -> None:
    # 1,000 x 1.25 + 4,096 x 2.50 = 11,490 -> 1,149,000 µ¢
    assert max_cost_micro_cents(grok(), 1000, 4096) == 1_149_000
    # The dearer of output and reasoning rates; rounding goes up.
    assert max_cost_micro_cents(Price(D("1"), D("4"), reasoning=D("10")), 10, 10) == 11_000
    assert max_cost_micro_cents(Price(D("0.004"), D("0")), 1, 0) == 1
    # Above a tier the reservation uses the tier.
    assert max_cost_micro_cents(grok(), 300_000, 0) == 300_000 * 250


def test_max_cost_is_never_below_the_actual_cost() -> None:
    rng = random.Random(7)
    prices = [grok(), Price(D("0.003"), D("0.007"), D("0.001"), D("0.011")), FLAT]
    for _ in range(2000):
        price = rng.choice(prices)
        prompt = rng.randrange(0, 400_000)
        out = rng.randrange(0, 5000)
        usage = Usage(
            prompt_tokens=prompt,
            completion_tokens=out,
            cached_tokens=rng.randrange(0, prompt + 1),
            reasoning_tokens=rng.randrange(0, out + 1),
        )
        assert max_cost_micro_cents(price, prompt, out) >= cost_micro_cents(price, usage)
