"""Deployments: one model served by several providers, from the catalog and operator files."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from aigw.catalog import builtin_catalog, load_catalog
from aigw.catalog.loader import catalog_from_data
from aigw.catalog.models import Deployment, model_to_data, provider_to_data
from aigw.errors import ConfigError
from aigw.routing.resolve import resolve_model


def test_the_builtin_open_model_is_served_by_three_providers() -> None:
    model = builtin_catalog().get("openai/gpt-oss-120b")
    assert model is not None
    assert [(d.provider, d.weight) for d in model.deployments] == [
        ("groq", 2),
        ("together", 1),
        ("fireworks", 1),
    ]
    assert model.deployments[0].upstream_id == "openai/gpt-oss-120b"
    assert model.deployments[0].price is None, "Groq's is the model's own price"
    fireworks = model.deployments[2]
    assert fireworks.price is not None and fireworks.price.cached_input == Decimal("0.015")
    assert resolve_model(builtin_catalog(), "gpt-oss-120b") is model


def test_an_operator_file_adds_deployments_with_weights(tmp_path: Path) -> None:
    path = tmp_path / "catalog.toml"
    path.write_text(
        '[models."azure/gpt-4o"]\n'
        "deployments = [\n"
        '  { provider = "azure", upstream_id = "prod-gpt4o", weight = 3 },\n'
        '  { provider = "openai", upstream_id = "gpt-4o", price = { input = 2.5, output = 10 } },\n'
        "]\n"
    )
    model = load_catalog(path).get("azure/gpt-4o")
    assert model is not None
    assert model.deployments == (
        Deployment("azure", "prod-gpt4o", 3),
        Deployment("openai", "gpt-4o", 1, model.deployments[1].price),
    )
    assert model.deployments[1].price is not None
    assert model.deployments[1].price.output == Decimal("10")


@pytest.mark.parametrize(
    ("entry", "needle"),
    [
        ('{ provider = "nowhere" }', "unknown provider 'nowhere'"),
        ('{ provider = "xai", weight = 0 }', "deployments[0].weight"),
        ('{ provider = "xai", speed = 1 }', "deployments[0].speed"),
        ('{ provider = "xai", price = { input = -1, output = 1 } }', "price.input"),
        ('{ provider = "xai" }, { provider = "xai" }', "deployments[1]' repeats"),
        ('"xai"', "deployments[0]' must be a table"),
    ],
)
def test_bad_deployments_are_refused_by_name(tmp_path: Path, entry: str, needle: str) -> None:
    path = tmp_path / "catalog.toml"
    path.write_text(f'[models."xai/grok-4.3"]\ndeployments = [{entry}]\n')
    with pytest.raises(ConfigError) as info:
        load_catalog(path)
    assert 'models."xai/grok-4.3"' in str(info.value) and needle in str(info.value)


def test_the_entry_form_round_trips() -> None:
    catalog = builtin_catalog()
    model = catalog.get("openai/gpt-oss-120b")
    assert model is not None
    data = {
        "providers": {p.id: provider_to_data(p) for p in catalog.providers.values()},
        "models": {model.id: model_to_data(model)},
    }
    again = catalog_from_data(data, source="test").get(model.id)
    assert again == model
    single = catalog.get("xai/grok-4.3")
    assert single is not None and "deployments" not in model_to_data(single)
