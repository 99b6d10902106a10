"""Nearest stored vector by cosine, with numpy and without it (an upstream embedder)."""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence

import pytest

from aigw.cache.semantic import Payer, best_match, embedder_for, pack


def _unit(*xs: float) -> list[float]:
    norm = math.sqrt(sum(x * x for x in xs))
    return [x / norm for x in xs]


CANDIDATES = [
    ("north", pack(_unit(0, 1, 0))),
    ("near", pack(_unit(1, 0.1, 0))),
    ("other-size", pack(_unit(1, 0))),  # a vector of another model: ignored
]


@pytest.mark.parametrize("numpy", [True, False])
def test_best_match_picks_the_closest(numpy: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    if not numpy:
        monkeypatch.setitem(sys.modules, "numpy", None)  # import numpy now fails
    found = best_match(_unit(1, 0, 0), CANDIDATES)
    assert found is not None and found[0] == "near"
    assert found[1] == pytest.approx(1 / math.sqrt(1.01), abs=1e-6)
    assert best_match(_unit(1, 0, 0), []) is None
    assert best_match(_unit(1, 0, 0), CANDIDATES[2:]) is None


def test_embedders_by_name() -> None:
    local = embedder_for("local/all-minilm-l6-v2")
    assert local is not None and local.name == "local/all-minilm-l6-v2"
    assert embedder_for("local/unknown-model") is None
    assert embedder_for("nowhere/model") is None


def test_other_names_go_to_the_upstream_factory() -> None:
    asked: list[str] = []

    class Upstream:
        name = "openai/text-embedding-3-small"

        async def embed(
            self, texts: Sequence[str], payer: Payer | None = None
        ) -> list[list[float]]:
            return [[1.0] for _ in texts]

    def factory(name: str) -> Upstream:
        asked.append(name)
        return Upstream()

    found = embedder_for("openai/text-embedding-3-small", factory)
    assert isinstance(found, Upstream) and asked == ["openai/text-embedding-3-small"]
    local = embedder_for("local/all-minilm-l6-v2", factory)  # a registered prefix wins
    assert local is not None and local.name == "local/all-minilm-l6-v2" and len(asked) == 1
