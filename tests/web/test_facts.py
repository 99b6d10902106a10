"""Model pages cannot contradict themselves: every statement agrees with the model's flags.

The seed page's FAQ said "Tool calling — no. Vision — no. JSON mode — no" while its
description claimed function calling, image input and structured outputs. These tests run
the generated text of every model in the built-in catalog against its data, and rebuild the
seed's contradiction to show it is caught.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest

from aigw.catalog import Capabilities, Model, builtin_catalog
from aigw.config import load_settings
from aigw.web import facts
from aigw.web.facts import FeePolicy

BASE = "http://gw.example"
FEES = FeePolicy.from_settings(load_settings(environ={}))
SEED_DESCRIPTION = (
    "xAI's Grok 4.3 model with a 1M-token context window and strong agentic tool calling with "
    "minimal hallucinations. Accepts text and image inputs, and supports function calling, "
    "structured outputs, and configurable reasoning effort (none, low, medium, high)."
)


def _grok() -> Model:
    model = builtin_catalog().get("xai/grok-4.3")
    assert model is not None
    return model


def _seed_flags(model: Model) -> Model:
    """Grok 4.3 with the seed FAQ's flags: streaming only."""
    return dataclasses.replace(
        model,
        description=SEED_DESCRIPTION,
        capabilities=Capabilities(streaming=True),
        strengths=("General-purpose chat", "Long context", "Tool use"),
    )


def test_the_seed_pages_contradiction_is_caught() -> None:
    model = _seed_flags(_grok())
    provider = builtin_catalog().provider("xai")
    assert provider is not None
    found = facts.conflicts(model, model.description)
    assert "claims tool calling" in found
    assert "claims vision (image input)" in found
    assert "claims structured outputs" in found
    assert "claims reasoning" in found
    shown = facts.description(model, provider)
    assert shown != SEED_DESCRIPTION
    assert facts.conflicts(model, shown) == []
    kept = facts.consistent_items(model, model.strengths)
    assert kept == ["General-purpose chat", "Long context"]
    answers = dict(facts.faq(model, provider, FEES, BASE))
    support = answers["Does Grok 4.3 support streaming, tool calling, vision and JSON mode?"]
    assert "tool calling: no" in support and "vision: no" in support
    assert "tool calling" not in answers["What is Grok 4.3?"].lower()


def test_a_true_description_is_kept() -> None:
    model = _grok()
    provider = builtin_catalog().provider("xai")
    assert provider is not None
    assert facts.description(model, provider) == model.description
    assert facts.conflicts(model, model.description) == []


def test_a_wrong_context_window_claim_is_caught() -> None:
    model = dataclasses.replace(_grok(), context_window=128_000)
    assert facts.conflicts(model, SEED_DESCRIPTION) == ["claims a 1,000,000-token context window"]
    assert facts.conflicts(model, "A 1,000,000-token context window.") != []
    assert facts.conflicts(model, "A 131,072-token context window.") == []
    assert facts.conflicts(model, "A 128K-token context window.") == []


@pytest.mark.parametrize(
    ("text", "claims"),
    [
        ("Supports function calling and JSON mode.", {"tools", "json_mode"}),
        ("No tool calling; does not support vision input.", set()),
        ("Qwen3 VL Thinking: a model.", set()),
        ("Streams tokens and accepts images.", {"streaming", "vision"}),
    ],
)
def test_claims_are_read_with_negations_and_names(text: str, claims: set[str]) -> None:
    assert facts.claimed_capabilities(text, name="Qwen3 VL Thinking") == claims


def test_every_catalog_model_page_agrees_with_its_flags() -> None:
    catalog = builtin_catalog()
    for model in catalog:
        provider = catalog.provider(model.provider)
        assert provider is not None
        shown = facts.description(model, provider)
        assert facts.conflicts(model, shown) == [], model.id
        for item in facts.consistent_items(model, model.strengths + model.use_cases):
            assert facts.conflicts(model, item) == [], (model.id, item)
        overview = facts.overview(model, provider)
        assert facts.conflicts(model, overview.replace(model.id, "")) == [], model.id
        rows = {row.id: row.supported for row in facts.capability_rows(model)}
        for flag in facts.FLAG_CAPABILITIES:
            if flag in rows:
                assert rows[flag] == getattr(model.capabilities, flag), (model.id, flag)
        answers = dict(facts.faq(model, provider, FEES, BASE))
        support = answers.get(
            f"Does {model.name} support streaming, tool calling, vision and JSON mode?"
        )
        if model.modality == "text":
            assert support is not None
            caps = model.capabilities
            assert f"tool calling: {'yes' if caps.tools else 'no'}" in support, model.id
            assert f"vision: {'yes' if caps.vision else 'no'}" in support, model.id
            assert f"JSON mode: {'yes' if caps.json_mode else 'no'}" in support, model.id
        reasoning_q = f"Does {model.name} reason before answering?"
        reasons = model.modality == "text" and model.capabilities.reasoning
        assert (reasoning_q in answers) == reasons, model.id


def test_pricing_notes_follow_the_fee_settings() -> None:
    model = _grok()
    provider = builtin_catalog().provider("xai")
    assert provider is not None
    topup = facts.pricing_notes(model, provider, FEES)
    assert any("5% platform fee is applied when you top up" in n for n in topup)
    assert any("costs $105" in n for n in topup)
    per_call = FeePolicy(True, Decimal("2.5"), "per_call", Decimal("0.10"))
    notes = facts.pricing_notes(model, provider, per_call)
    assert any("2.5% platform fee is added to each call" in n for n in notes)
    assert any("$0.10 per 1M tokens from your wallet" in n for n in notes)
    off = FeePolicy(False, Decimal(5), "topup", Decimal(0))
    assert "Billing is off" in facts.pricing_notes(model, provider, off)[0]


def test_free_and_tiered_prices_are_stated() -> None:
    catalog = builtin_catalog()
    free = catalog.get("simulator/free")
    assert free is not None
    assert facts.price_line(free) == "Free: no per-token charge."
    line = facts.price_line(_grok())
    assert "Above 200,000 prompt tokens the whole request costs $2.50 input / $5" in line
