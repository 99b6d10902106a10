"""The models async jobs can run, priced per output second or per item.

The token-priced catalog has no unit for seconds of video or 3D assets, so job models live in
this small table. Prices are list prices (USD) of the named fal.ai and Replicate endpoints at
the time of writing; the ``simulator`` entries serve tests and demos.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from aigw.billing.pricing import MICRO_CENTS_PER_USD
from aigw.errors import InvalidRequest, ModelNotFound

MODALITIES = ("video", "music", "3d")


@dataclass(frozen=True, slots=True)
class JobModel:
    id: str
    modality: str
    provider: str  # a queue-style provider (jobs/queue_provider.py)
    upstream_id: str
    unit: str  # "second" | "item"
    price_per_unit: Decimal  # USD
    default_seconds: float = 5.0
    max_seconds: float = 60.0


JOB_MODELS: tuple[JobModel, ...] = (
    JobModel(
        "fal/kling-video-v2.1",
        "video",
        "fal",
        "fal-ai/kling-video/v2.1/standard/text-to-video",
        "second",
        Decimal("0.05"),
        5,
        10,
    ),
    JobModel("fal/veo3-fast", "video", "fal", "fal-ai/veo3/fast", "second", Decimal("0.40"), 8, 8),
    JobModel(
        "fal/stable-audio",
        "music",
        "fal",
        "fal-ai/stable-audio",
        "second",
        Decimal("0.001"),
        30,
        47,
    ),
    JobModel("fal/trellis", "3d", "fal", "fal-ai/trellis", "item", Decimal("0.02")),
    JobModel(
        "replicate/minimax-video-01",
        "video",
        "replicate",
        "minimax/video-01",
        "item",
        Decimal("0.50"),
    ),
    JobModel(
        "simulator/video", "video", "simulator", "sim/video", "second", Decimal("0.05"), 5, 60
    ),
    JobModel(
        "simulator/music", "music", "simulator", "sim/music", "second", Decimal("0.002"), 30, 300
    ),
    JobModel("simulator/3d", "3d", "simulator", "sim/3d", "item", Decimal("0.02")),
)
BY_ID = {m.id: m for m in JOB_MODELS}
DEFAULTS = {"video": "fal/kling-video-v2.1", "music": "fal/stable-audio", "3d": "fal/trellis"}


def resolve(modality: str, name: Any) -> JobModel:
    if name is None or name == f"auto/{modality}":
        return BY_ID[DEFAULTS[modality]]
    if not isinstance(name, str):
        raise InvalidRequest("'model' must be a string.", param="model")
    found = BY_ID.get(name)
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
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not raw > 0:
        raise InvalidRequest("'duration' must be a positive number of seconds.", param="duration")
    return Decimal(str(min(float(raw), model.max_seconds)))


def cost_micro_cents(model: JobModel, body: dict[str, Any]) -> int:
    amount = units(model, body) * model.price_per_unit * MICRO_CENTS_PER_USD
    return int(amount.to_integral_value(ROUND_HALF_UP))
