"""The auto-router's pick (pure): floors, the baseline ceiling, the biases, the priors hook."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from aigw.catalog.models import Model, Price
from aigw.errors import ConfigError
from aigw.routing.auto import Option, fee_micro_cents, is_auto, price, rank
from aigw.routing.priors import QualityPriors, load_auto_config

BASE = Option(
    "base/premium", cost=10_000, input_cost=2_000, output_rate=2_500_000, quality=0.95, speed=0.4
)


def opt(name: str, cost: int, quality: float | None, speed: float = 0.5) -> Option:
    # Per-token rates scale with the estimate so dominance follows the cost in these cases.
    return Option(name, cost, cost // 5, cost * 250, quality, speed)


POOL = [
    opt("cheap/weak", 100, 0.50, speed=0.99),
    opt("cheap/ok", 300, 0.72, speed=0.60),
    opt("mid/good", 1_000, 0.85, speed=0.90),
    opt("dear/best", 5_000, 0.92, speed=0.30),
    BASE,
]


def ids(ranked: list[tuple[Option, str]]) -> list[str]:
    return [o.id for o, _ in ranked]


def test_cost_is_the_cheapest_model_clearing_the_floor() -> None:
    ranked = rank(POOL, BASE, level="moderate", bias="cost", floor=0.70, headroom=0.0, fee=0)
    assert ids(ranked)[0] == "cheap/ok"
    assert "cheap/weak" not in ids(ranked), "below the floor"
    costs = [o.cost for o, _ in ranked]
    assert costs == sorted(costs), "fallbacks in cost order"
    assert ranked[0][1].startswith("cheapest model clearing the floor")
    assert ranked[1][1].startswith("fallback #1")


def test_quality_speed_and_auto_biases() -> None:
    args = {"level": "moderate", "floor": 0.70, "fee": 0}
    assert ids(rank(POOL, BASE, bias="quality", headroom=0.0, **args))[0] == "base/premium"
    assert ids(rank(POOL, BASE, bias="speed", headroom=0.0, **args))[0] == "mid/good"
    auto = rank(POOL, BASE, bias="auto", headroom=0.1, **args)
    assert ids(auto)[0] == "mid/good", "cheapest with quality >= floor + headroom"
    assert ids(auto)[-1] == "cheap/ok", "models clearing only the floor stay as fallbacks"
    assert ids(rank(POOL, BASE, bias="auto", headroom=0.0, **args))[0] == "cheap/ok"
    # No model clears the margin: auto falls back to the plain floor.
    high = rank(POOL, BASE, bias="auto", headroom=0.5, **args)
    assert ids(high)[0] == "cheap/ok" and "none clears the margin" in high[0][1]


def test_never_above_the_baseline() -> None:
    cheap_base = Option("base/cheap", 1_000, 200, 250_000, 0.85, 0.5)
    pool = [*POOL[:4], cheap_base]
    ranked = rank(pool, cheap_base, level="complex", bias="quality", floor=0.82, headroom=0, fee=0)
    assert "dear/best" not in ids(ranked), "dearer than the baseline"
    assert all(o.cost <= cheap_base.cost for o, _ in ranked)
    # A model cheaper overall but with a dearer output rate is not eligible either.
    sneaky = Option("sneaky/out", 500, 100, 300_000, 0.99, 0.5)
    ranked = rank(
        [sneaky, cheap_base], cheap_base, level="simple", bias="cost", floor=0.5, headroom=0, fee=0
    )
    assert ids(ranked) == ["base/cheap"]


def test_the_fee_counts_against_the_baseline_and_is_waived_on_it() -> None:
    pool = [opt("near/base", 9_500, 0.9), BASE]
    ranked = rank(pool, BASE, level="simple", bias="cost", floor=0.5, headroom=0, fee=0)
    assert ids(ranked)[0] == "near/base"
    ranked = rank(pool, BASE, level="simple", bias="cost", floor=0.5, headroom=0, fee=600)
    assert ids(ranked) == ["base/premium"], "9,500 + 600 > 10,000: only the baseline is left"


def test_baseline_is_the_last_resort_and_unrated_models_never_clear() -> None:
    pool = [opt("cheap/weak", 100, 0.5), opt("unrated/x", 50, None), BASE]
    ranked = rank(pool, BASE, level="complex", bias="cost", floor=0.99, headroom=0, fee=0)
    assert ids(ranked) == ["base/premium"]
    assert ranked[0][1].startswith("baseline: no cheaper model clears the floor")
    assert (
        rank(
            [opt("cheap/weak", 100, 0.5)],
            BASE,
            level="complex",
            bias="cost",
            floor=0.99,
            headroom=0,
            fee=0,
        )
        == []
    )


def test_price_uses_catalog_prices_in_micro_cents() -> None:
    model = Model(
        id="p/m",
        provider="p",
        upstream_id="m",
        name="m",
        family="m",
        description="",
        modality="text",
        input_modalities=("text",),
        output_modalities=("text",),
        context_window=None,
        max_output_tokens=None,
        price=Price(input=Decimal(1), output=Decimal(4)),
    )
    estimate, prompt_cost, rate = price(model, 1_000, 500)
    # $1/M in: 1,000 tokens = 100,000 µ¢; $4/M out: 500 tokens = 200,000 µ¢.
    assert (estimate, prompt_cost, rate) == (300_000, 100_000, 400_000_000)
    assert fee_micro_cents(Decimal("0.25")) == 250_000


def test_is_auto() -> None:
    assert is_auto("auto") and is_auto("auto/code")
    assert not is_auto("openai/gpt-5") and not is_auto(["auto"]) and not is_auto("automatic")


def test_priors_update_blends_eval_scores() -> None:
    priors = QualityPriors({"a/x": {"quality": 0.6, "speed": 0.9}}, prior_weight=4)
    assert priors.update("a/x", 1.0) == pytest.approx((0.6 * 4 + 1.0) / 5)
    assert priors.observations("a/x") == 5
    assert priors.update("a/x", 0.0, weight=5) == pytest.approx(0.68 * 5 / 10)
    assert priors.update("b/new", 0.7) == 0.7 and priors.quality("b/new") == 0.7
    assert priors.speed("a/x") == 0.9
    with pytest.raises(ValueError):
        priors.update("a/x", 1.5)
    with pytest.raises(ValueError):
        priors.update("a/x", 0.5, weight=0)
    assert set(priors.snapshot()) == {"a/x", "b/new"}


def test_config_defaults_overrides_and_pool_setting(tmp_path: Path) -> None:
    config = load_auto_config()
    assert set(config.modalities) >= {"text", "code", "vision"}
    floors = [config.floors[level] for level in ("simple", "moderate", "complex")]
    assert floors == sorted(floors), "harder requests need stronger models"
    for pool in config.modalities.values():
        for model in pool.pool:
            assert config.priors.quality(model) is not None, model
    extra = tmp_path / "auto.json"
    extra.write_text(json.dumps({"floors": {"simple": 0.1}, "models": {"x/y": {"quality": 0.3}}}))
    config = load_auto_config(str(extra), pool="x/y, openai/gpt-5-nano")
    assert config.floors["simple"] == 0.1 and config.priors.quality("x/y") == 0.3
    assert config.modalities["text"].pool == ("x/y", "openai/gpt-5-nano")
    extra.write_text(json.dumps({"floors": {"simple": 2}}))
    with pytest.raises(ConfigError):
        load_auto_config(str(extra))
    with pytest.raises(ConfigError):
        load_auto_config(str(tmp_path / "missing.json"))
