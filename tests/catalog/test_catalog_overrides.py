"""Operator catalog files: merge, add, remove, and refuse bad entries by name."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import orjson
import pytest

from aigw.catalog import builtin_catalog, load_catalog
from aigw.errors import ConfigError


def write(tmp_path: Path, text: str, name: str = "catalog.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_price_override_merges_field_by_field(tmp_path: Path) -> None:
    path = write(tmp_path, '[models."xai/grok-4.3".price]\ninput = 1.00\n')
    c = load_catalog(path)
    m = c.get("xai/grok-4.3")
    assert m is not None
    assert m.price.input == Decimal("1.0")
    assert m.price.output == Decimal("2.5")  # untouched fields keep their values
    assert m.price.tiers[0].above_tokens == 200_000
    assert m.name == "Grok 4.3" and m.capabilities.reasoning_efforts == (
        "none",
        "low",
        "medium",
        "high",
    )
    builtin = builtin_catalog().get("xai/grok-4.3")
    assert builtin is not None and builtin.price.input == Decimal("1.25")  # cache not mutated


def test_capability_and_scalar_override(tmp_path: Path) -> None:
    text = """
[models."openai/gpt-4o-mini"]
max_output_tokens = 1000
strengths = ["Cheap"]

[models."openai/gpt-4o-mini".capabilities]
tools = false
"""
    m = load_catalog(write(tmp_path, text)).get("openai/gpt-4o-mini")
    assert m is not None
    assert m.max_output_tokens == 1000 and m.strengths == ("Cheap",)
    assert not m.capabilities.tools and m.capabilities.vision


def test_new_provider_and_model(tmp_path: Path) -> None:
    text = """
[providers.acme]
name = "Acme"
wire_format = "openai"
base_url = "https://llm.acme.test/v1/"

[models."acme/rocket-2"]
context_window = 32000
max_output_tokens = 4000
price = { input = "0.5", output = "1.5" }
capabilities = { streaming = true, tools = true }
released = 2026-01-02
"""
    c = load_catalog(write(tmp_path, text))
    p = c.provider("acme")
    assert p is not None
    assert (p.base_url, p.api_key_env, p.base_url_env, p.key_required) == (
        "https://llm.acme.test/v1",
        "ACME_API_KEY",
        "ACME_BASE_URL",
        True,
    )
    m = c.get("acme/rocket-2")
    assert m is not None
    assert (m.upstream_id, m.name, m.family, m.released) == (
        "rocket-2",
        "Rocket 2",
        "Rocket 2",
        "2026-01-02",
    )
    assert m.description == (
        "Rocket 2 is a text model from Acme with a 32,000-token context window and up to "
        "4,000 output tokens. Input: text; output: text. Supports tool calling."
    )
    assert len(c) == len(builtin_catalog()) + 1


def test_local_model_needs_no_price(tmp_path: Path) -> None:
    m = load_catalog(write(tmp_path, '[models."vllm/qwen3-8b"]\n')).get("vllm/qwen3-8b")
    assert m is not None and m.price.is_free and m.capabilities.streaming


def test_json_file_and_remove(tmp_path: Path) -> None:
    data = {
        "models": {
            "xai/grok-4.3": {"remove": True},
            "openai/gpt-4o": {"price": {"output": 9}},
        }
    }
    c = load_catalog(write(tmp_path, orjson.dumps(data).decode(), "catalog.json"))
    assert c.get("xai/grok-4.3") is None
    gpt4o = c.get("openai/gpt-4o")
    assert gpt4o is not None and gpt4o.price.output == Decimal(9)


def test_main_config_file_shape_is_accepted(tmp_path: Path) -> None:
    # The gateway's own config may double as the catalog file: runtime keys are not ours.
    text = """
[gateway]
port = 9000

[providers.xai]
api_key = "xai-secret"

[catalog.models."xai/grok-4.3"]
max_output_tokens = 8192
"""
    c = load_catalog(write(tmp_path, text))
    m, p = c.get("xai/grok-4.3"), c.provider("xai")
    assert m is not None and m.max_output_tokens == 8192
    assert p is not None and p.base_url == "https://api.x.ai/v1"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[models."xai/grok-4.3"]\ncontext_window = "big"\n', "'context_window'"),
        ('[models."xai/grok-4.3"]\ncolour = "red"\n', "unknown field 'colour'"),
        ('[models."xai/grok-4.3".price]\ninput = -1\n', "'price.input'"),
        ('[models."xai/grok-4.3".price]\nbanana = 1\n', "'price.banana'"),
        ('[models."xai/grok-4.3".capabilities]\ntools = "yes"\n', "'capabilities.tools'"),
        ('[models."xai/grok-4.3".capabilities]\nreasoning_efforts = ["turbo"]\n', "'turbo'"),
        ('[models."xai/grok-4.3"]\nmodality = "smell"\n', "'modality'"),
        ('[models."xai/grok-4.3"]\nreleased = "someday"\n', "'released'"),
        ('[models."xai/grok-4.3"]\ninput_modalities = ["smell"]\n', "'input_modalities'"),
        ('[models."nope/model-x"]\nprice = { input = 1, output = 1 }\n', "unknown provider 'nope'"),
        ('[models."xai/new-model"]\ncontext_window = 10\n', "'price' is required"),
        ('[models."xai/thing/schema"]\nprice = { input = 1, output = 1 }\n', "model ids"),
        ('[[models."xai/grok-4.3".price.tiers]]\ninput = 1\noutput = 1\n', "above_tokens"),
        ("[providers.acme]\nname = 'Acme'\n", "'wire_format' is required"),
        ("[providers.acme]\nwire_format = 'smoke'\nbase_url = 'x'\n", "'wire_format'"),
        ("[providers.xai]\nbase_urll = 'x'\n", "unknown field 'base_urll'"),
    ],
)
def test_bad_entries_name_the_entry_and_field(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_catalog(path)
    assert message in str(info.value)
    assert str(path) in str(info.value)
    if "models." in text:
        assert 'models."' in str(info.value)


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_catalog(tmp_path / "missing.toml")
    with pytest.raises(ConfigError, match="not valid"):
        load_catalog(write(tmp_path, "[models\n"))
