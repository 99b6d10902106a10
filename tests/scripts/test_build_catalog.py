"""scripts/build_catalog.py: derivation rules on a small price file, determinism, and that the
committed catalog.json is exactly what the script builds from the shared price file."""

from __future__ import annotations

import importlib.util
import sys
import tomllib
from pathlib import Path
from types import ModuleType
from typing import Any

import orjson
import pytest

ROOT = Path(__file__).resolve().parents[2]


def _load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "build_catalog", ROOT / "scripts" / "build_catalog.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["build_catalog"] = module
    spec.loader.exec_module(module)
    return module


bc = _load_script()

PRICES: dict[str, Any] = {
    "sample_spec": {"litellm_provider": "one of ...", "mode": "chat"},
    "xai/grok-9": {
        "litellm_provider": "xai",
        "mode": "chat",
        "input_cost_per_token": 1.25e-06,
        "output_cost_per_token": 2.5e-06,
        "cache_read_input_token_cost": 2e-07,
        "input_cost_per_token_above_200k_tokens": 2.5e-06,
        "output_cost_per_token_above_200k_tokens": 5e-06,
        "cache_read_input_token_cost_above_200k_tokens": 4e-07,
        "max_input_tokens": 1_000_000,
        "max_output_tokens": 30_000,
        "supports_function_calling": True,
        "supports_vision": True,
        "supports_reasoning": True,
        "supports_prompt_caching": True,
    },
    "xai/grok-old": {
        "litellm_provider": "xai",
        "mode": "chat",
        "input_cost_per_token": 1e-06,
        "output_cost_per_token": 1e-06,
        "deprecation_date": "2025-01-01",
    },
    "o9": {
        "litellm_provider": "openai",
        "mode": "chat",
        "input_cost_per_token": 2e-06,
        "output_cost_per_token": 8e-06,
        "max_input_tokens": 200_000,
        "max_output_tokens": 100_000,
        "supports_reasoning": True,
        "supports_none_reasoning_effort": True,
        "supports_low_reasoning_effort": False,
    },
    "o9-2025-04-16": {
        "litellm_provider": "openai",
        "mode": "chat",
        "input_cost_per_token": 2e-06,
        "output_cost_per_token": 8e-06,
    },
    "ft:o9": {"litellm_provider": "openai", "mode": "chat", "input_cost_per_token": 3e-06},
    "low/1024-x-1024/img-1": {
        "litellm_provider": "openai",
        "mode": "image_generation",
        "input_cost_per_token": 1e-06,
        "output_cost_per_image_token": 4e-05,
    },
    "img-1": {
        "litellm_provider": "openai",
        "mode": "image_generation",
        "input_cost_per_token": 5e-06,
        "output_cost_per_image_token": 4e-05,
    },
    "whisper-9": {"litellm_provider": "openai", "mode": "audio_transcription"},
    "deepseek-chat": {
        "litellm_provider": "deepseek",
        "mode": "chat",
        "input_cost_per_token": 9e-07,
        "output_cost_per_token": 9e-07,
    },
    "deepseek/deepseek-chat": {
        "litellm_provider": "deepseek",
        "mode": "chat",
        "input_cost_per_token": 2.8e-07,
        "output_cost_per_token": 4.2e-07,
        "input_cost_per_token_cache_hit": 2.8e-08,
    },
    "fireworks_ai/accounts/fireworks/models/llama-v3p1-8b-instruct": {
        "litellm_provider": "fireworks_ai",
        "mode": "chat",
        "input_cost_per_token": 2e-07,
        "output_cost_per_token": 2e-07,
        "max_input_tokens": 131072,
        "max_output_tokens": 131072,
    },
    "fireworks_ai/mythomax-13b": {
        "litellm_provider": "fireworks_ai",
        "mode": "chat",
        "input_cost_per_token": 2e-07,
        "output_cost_per_token": 2e-07,
    },
    "bedrock/some-model": {"litellm_provider": "bedrock", "mode": "chat"},
}

OVERRIDES = """
[build]
skip = ["fireworks/mythomax-*"]
[build.reasoning_efforts]
openai = ["low", "medium", "high"]
[build.capability_defaults.openai]
json_mode = true

[providers.xai]
name = "xAI"
wire_format = "openai"
base_url = "https://api.x.ai/v1"
[providers.openai]
name = "OpenAI"
wire_format = "openai"
base_url = "https://api.openai.com/v1"
[providers.deepseek]
name = "DeepSeek"
wire_format = "openai"
base_url = "https://api.deepseek.com/v1"
[providers.fireworks]
name = "Fireworks AI"
wire_format = "openai"
base_url = "https://api.fireworks.ai/inference/v1"
[providers.openrouter]
name = "OpenRouter"
wire_format = "openai"
base_url = "https://openrouter.ai/api/v1"

[models."xai/grok-9"]
family = "Grok 9 family"
max_output_tokens = 4096
[models."xai/grok-9".capabilities]
reasoning_efforts = ["high", "low"]

[models."openrouter/x-ai/grok-9"]
mirror = "xai/grok-9"
upstream_id = "x-ai/grok-9"
"""


def build_small() -> dict[str, Any]:
    data = bc.build(PRICES, tomllib.loads(OVERRIDES), "2026-05-22")
    result: dict[str, Any] = orjson.loads(data)
    return result


def test_per_million_is_exact() -> None:
    assert bc.per_million(1.25e-06) == "1.25"
    assert bc.per_million(2.8e-08) == "0.028"
    assert bc.per_million(0) == "0"
    assert bc.per_million(None) is None


def test_selection() -> None:
    models = build_small()["models"]
    assert sorted(models) == [
        "deepseek/deepseek-chat",
        "fireworks/llama-v3p1-8b-instruct",
        "openai/img-1",
        "openai/o9",
        "openai/o9-2025-04-16",
        "openrouter/x-ai/grok-9",
        "xai/grok-9",
    ]
    # The provider-prefixed key wins over LiteLLM's bare duplicate.
    assert models["deepseek/deepseek-chat"]["price"]["input"] == "0.28"
    assert models["deepseek/deepseek-chat"]["price"]["cached_input"] == "0.028"
    fw = models["fireworks/llama-v3p1-8b-instruct"]
    assert fw["upstream_id"] == "accounts/fireworks/models/llama-v3p1-8b-instruct"
    assert (fw["name"], fw["family"]) == ("Llama V3.1 8B Instruct", "Llama V3")


def test_prices_tiers_and_overrides() -> None:
    grok = build_small()["models"]["xai/grok-9"]
    assert grok["price"] == {
        "input": "1.25",
        "output": "2.5",
        "cached_input": "0.2",
        "reasoning": None,
        "tiers": [{"above_tokens": 200000, "input": "2.5", "output": "5", "cached_input": "0.4"}],
    }
    assert (grok["name"], grok["family"]) == ("Grok 9", "Grok 9 family")
    assert (grok["context_window"], grok["max_output_tokens"]) == (1_000_000, 4096)
    assert grok["capabilities"]["reasoning_efforts"] == ["low", "high"]  # vocabulary order
    assert grok["input_modalities"] == ["text", "image"]
    assert grok["strengths"] == [
        "General-purpose chat",
        "Long context",
        "Tool use",
        "Vision",
        "Reasoning",
    ]
    assert grok["description"] == (
        "Grok 9 is a text model from xAI with a 1,000,000-token context window and up to 4,096 "
        "output tokens. Input: text and image; output: text. Supports tool calling, image input, "
        "prompt caching and reasoning effort (low, high)."
    )


def test_reasoning_levels_release_dates_and_defaults() -> None:
    models = build_small()["models"]
    o9 = models["openai/o9"]
    # Provider base levels, refined by the price file's per-level flags.
    assert o9["capabilities"]["reasoning_efforts"] == ["none", "medium", "high"]
    assert o9["capabilities"]["json_mode"] is True
    assert o9["released"] == "2025-04-16"  # from the same-priced dated snapshot
    assert models["openai/o9-2025-04-16"]["name"] == "o9 (2025-04-16)"
    img = models["openai/img-1"]
    assert (img["modality"], img["output_modalities"]) == ("image", ["image"])
    assert img["price"]["output"] == "40" and img["capabilities"]["streaming"] is False


def test_mirror_copies_facts_and_price() -> None:
    models = build_small()["models"]
    mirror, source = models["openrouter/x-ai/grok-9"], models["xai/grok-9"]
    assert mirror["upstream_id"] == "x-ai/grok-9"
    assert mirror["price"] == source["price"]
    assert mirror["capabilities"] == source["capabilities"]
    assert "from OpenRouter" in mirror["description"]


def test_output_is_deterministic_and_sorted() -> None:
    first = bc.build(PRICES, tomllib.loads(OVERRIDES), "2026-05-22")
    assert first == bc.build(
        dict(reversed(list(PRICES.items()))), tomllib.loads(OVERRIDES), "2026-05-22"
    )
    data = orjson.loads(first)
    assert list(data) == ["models", "providers"]
    assert list(data["models"]) == sorted(data["models"])
    assert first.endswith(b"}\n")


def test_as_of_keeps_models_deprecated_later() -> None:
    data = orjson.loads(bc.build(PRICES, tomllib.loads(OVERRIDES), "2024-12-31"))
    assert "xai/grok-old" in data["models"]


def test_cli_writes_the_file(tmp_path: Path) -> None:
    prices = tmp_path / "prices.json"
    prices.write_bytes(orjson.dumps(PRICES))
    overrides = tmp_path / "overrides.toml"
    overrides.write_text(OVERRIDES)
    out = tmp_path / "catalog.json"
    assert bc.main([str(prices), "--overrides", str(overrides), "--out", str(out)]) == 0
    assert out.read_bytes() == bc.build(PRICES, tomllib.loads(OVERRIDES), bc.DEFAULT_AS_OF)


def test_committed_catalog_is_the_build_output() -> None:
    """catalog.json is generated: edit overrides.toml and re-run the script instead."""
    if not bc.DEFAULT_PRICES.exists():
        pytest.skip(f"price file not available at {bc.DEFAULT_PRICES}")
    prices = orjson.loads(bc.DEFAULT_PRICES.read_bytes())
    overrides = tomllib.loads(bc.DEFAULT_OVERRIDES.read_text())
    assert bc.build(prices, overrides, bc.DEFAULT_AS_OF) == bc.DEFAULT_OUT.read_bytes()
