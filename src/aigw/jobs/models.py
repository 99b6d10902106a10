"""The models async jobs can run: the catalog's video, music and 3D models, priced per output
second or per item (``Price.per_second`` / ``per_item`` in ``catalog/models.py``).

Their prices live in the catalog like every other model's (``catalog/data/overrides.toml``
through ``scripts/build_catalog.py``, or an operator's catalog file), so ``/v1/models``, the
model pages and billing all read one source. This module only turns a catalog model into
what the job path needs, and picks the default model of each modality.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from aigw.billing.pricing import MICRO_CENTS_PER_USD
from aigw.catalog.loader import Catalog
from aigw.catalog.models import DEFAULT_JOB_SECONDS, MAX_JOB_SECONDS, Model
from aigw.errors import InvalidRequest, ModelNotFound

MODALITIES = ("video", "music", "3d")
DEFAULTS = {"video": "fal/kling-video-v2.1", "music": "fal/stable-audio", "3d": "fal/trellis"}


@dataclass(frozen=True, slots=True)
class JobModel:
    id: str
    modality: str
    provider: str  # a queue-style provider (jobs/queue_provider.py)
    upstream_id: str
    unit: str  # "second" | "item"
    price_per_unit: Decimal  # USD
    default_seconds: Decimal = DEFAULT_JOB_SECONDS
    max_seconds: Decimal = MAX_JOB_SECONDS


def from_model(model: Model) -> JobModel | None:
    """The job view of a catalog model; None unless it is a video, music or 3D model with a
    per-second or per-item price."""
    price = model.price
    if model.modality not in MODALITIES:
        return None
    if price.per_second is not None:
        return JobModel(
            model.id,
            model.modality,
            model.provider,
            model.upstream_id,
            "second",
            price.per_second,
            price.default_seconds or DEFAULT_JOB_SECONDS,
            price.max_seconds or MAX_JOB_SECONDS,
        )
    if price.per_item is not None:
        return JobModel(
            model.id, model.modality, model.provider, model.upstream_id, "item", price.per_item
        )
    return None


def job_models(catalog: Catalog) -> list[JobModel]:
    """Every job model of the catalog, by id."""
    found = (from_model(m) for m in catalog if m.modality in MODALITIES)
    return sorted((m for m in found if m is not None), key=lambda m: m.id)


def find(catalog: Catalog, model_id: str) -> JobModel | None:
    model = catalog.get(model_id)
    return from_model(model) if model is not None else None


def resolve(catalog: Catalog, modality: str, name: Any) -> JobModel:
    if name is None or name == f"auto/{modality}":
        name = DEFAULTS[modality]
    if not isinstance(name, str):
        raise InvalidRequest("'model' must be a string.", param="model")
    model = catalog.get(name)
    found = from_model(model) if model is not None else None
    if found is None:
        raise ModelNotFound(f"No {modality} model named {name!r}.", param="model")
    if found.modality != modality:
        raise InvalidRequest(
            f"{name!r} is a {found.modality} model, not {modality}.", param="model"
        )
    return found


def units(model: JobModel, body: dict[str, Any]) -> Decimal:
    """Billable units: seconds asked for (clamped to the model's range), or one item."""
    if model.unit == "item":
        return Decimal(1)
    raw = body.get("duration", model.default_seconds)
    if isinstance(raw, bool) or not isinstance(raw, int | float | Decimal) or not raw > 0:
        raise InvalidRequest("'duration' must be a positive number of seconds.", param="duration")
    return min(Decimal(str(raw)), model.max_seconds)


def cost_micro_cents(model: JobModel, body: dict[str, Any]) -> int:
    amount = units(model, body) * model.price_per_unit * MICRO_CENTS_PER_USD
    return int(amount.to_integral_value(ROUND_HALF_UP))
