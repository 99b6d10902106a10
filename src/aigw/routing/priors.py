"""The auto-router's data: the pools per modality, the quality floors and the model priors.

Defaults live in ``routing/data/auto_router.json``; the ``auto_router_file`` setting names a
JSON file of the same shape whose keys win (a model's entry, a modality's pool or baseline, a
floor), and ``auto_pool`` replaces every modality's pool.

Eval results feed the priors through one hook, ``QualityPriors.update(model, score)``: the
curated prior counts as ``prior_weight`` observations and each eval score as ``weight`` more,
so a prior moves towards what evals measure without one run swinging it. The running
gateway's priors are ``app[ROUTER].auto.priors``; an update takes effect on the next request.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from aigw.errors import ConfigError
from aigw.routing.complexity import LEVELS

DEFAULT_SPEED = 0.5


@dataclass(slots=True)
class Prior:
    quality: float
    speed: float
    weight: float  # observations behind ``quality`` (the curated prior counts as prior_weight)


class QualityPriors:
    """Per-model quality (and speed) priors in [0, 1], updatable from eval scores."""

    def __init__(self, models: dict[str, dict[str, Any]], *, prior_weight: float = 5.0) -> None:
        if prior_weight <= 0:
            raise ConfigError("auto-router prior_weight must be positive")
        self.prior_weight = float(prior_weight)
        self._priors: dict[str, Prior] = {}
        for model, entry in models.items():
            quality = _unit(entry.get("quality"), f"models.{model}.quality")
            speed = _unit(entry.get("speed", DEFAULT_SPEED), f"models.{model}.speed")
            self._priors[model] = Prior(quality, speed, self.prior_weight)

    def quality(self, model: str) -> float | None:
        """The model's quality prior; None for a model nobody rated (never auto-picked)."""
        prior = self._priors.get(model)
        return prior.quality if prior is not None else None

    def speed(self, model: str) -> float:
        prior = self._priors.get(model)
        return prior.speed if prior is not None else DEFAULT_SPEED

    def observations(self, model: str) -> float:
        prior = self._priors.get(model)
        return prior.weight if prior is not None else 0.0

    def update(self, model: str, score: float, *, weight: float = 1.0) -> float:
        """Blend an eval score (0-1) into ``model``'s quality prior; returns the new prior.

        A weighted running mean: ``(prior * n + score * weight) / (n + weight)``. A model
        without a prior takes the score as its first one (with ``weight`` observations).
        """
        if isinstance(score, bool) or not isinstance(score, int | float) or not 0 <= score <= 1:
            raise ValueError("score must be a number between 0 and 1")
        if not weight > 0:
            raise ValueError("weight must be positive")
        prior = self._priors.get(model)
        if prior is None:
            self._priors[model] = Prior(score, DEFAULT_SPEED, float(weight))
            return score
        total = prior.weight + weight
        prior.quality = (prior.quality * prior.weight + score * weight) / total
        prior.weight = total
        return prior.quality

    def snapshot(self) -> dict[str, dict[str, float]]:
        return {
            m: {"quality": p.quality, "speed": p.speed, "observations": p.weight}
            for m, p in sorted(self._priors.items())
        }


@dataclass(frozen=True, slots=True)
class ModalityPool:
    baseline: str  # the premium model: default baseline and savings measuring-stick
    pool: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AutoConfig:
    floors: dict[str, float]
    headroom: dict[str, float]
    modalities: dict[str, ModalityPool]
    priors: QualityPriors


def load_auto_config(path: str | None = None, pool: str = "") -> AutoConfig:
    """The built-in data, overlaid with ``path`` (if any) and the ``auto_pool`` setting."""
    data = json.loads(resources.files("aigw.routing").joinpath("data/auto_router.json").read_text())
    if path:
        try:
            extra = json.loads(Path(path).read_text())
        except (OSError, ValueError) as exc:
            raise ConfigError(f"auto_router_file {path}: {exc}") from None
        if not isinstance(extra, dict):
            raise ConfigError(f"auto_router_file {path} must hold a JSON object")
        for section in ("floors", "headroom", "models", "modalities"):
            data[section] = {**data[section], **extra.get(section, {})}
        data["prior_weight"] = extra.get("prior_weight", data["prior_weight"])
    floors = {level: _unit(data["floors"].get(level), f"floors.{level}") for level in LEVELS}
    headroom = {
        level: _unit(data["headroom"].get(level, 0), f"headroom.{level}") for level in LEVELS
    }
    override = tuple(p.strip() for p in pool.split(",") if p.strip())
    modalities: dict[str, ModalityPool] = {}
    for name, entry in data["modalities"].items():
        if not isinstance(entry, dict) or not isinstance(entry.get("baseline"), str):
            raise ConfigError(f"auto-router modality {name!r} needs a 'baseline' model id")
        members = override or tuple(entry.get("pool", ()))
        modalities[name] = ModalityPool(entry["baseline"], members)
    priors = QualityPriors(data["models"], prior_weight=float(data["prior_weight"]))
    return AutoConfig(floors, headroom, modalities, priors)


def _unit(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise ConfigError(f"auto-router {name} must be a number between 0 and 1")
    return float(value)
