"""Catalog types, their vocabularies, and their entry (JSON) form.

Types are frozen so a loaded catalog can be shared by every request without copies; prices are
``Decimal`` USD per 1M tokens so money is never rounded before ``billing.pricing`` does it once.
Names and descriptions derived from model ids are in ``naming.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from decimal import Decimal
from typing import Any

WIRE_FORMATS = ("openai", "anthropic", "gemini", "bedrock", "cohere", "azure", "queue")
"""Wire formats a provider can speak; ``formats/`` holds one codec per entry, except
``queue`` (fal's and Replicate's submit / poll APIs for async jobs, ``jobs/queue_provider.py``)."""

LOCAL_PROVIDER = "local"
"""The provider of models the gateway runs in its own process (server/local_models.py): no
upstream, no key; ``/v1/models`` marks them ``"local": true``."""

MODALITIES = (
    "text",
    "image",
    "embedding",
    "tts",
    "stt",
    "video",
    "music",
    "3d",
    "moderation",
    "rerank",
)
"""A model's primary modality: what it is called for (chat, image generation, ...)."""

MEDIA = ("text", "image", "audio", "video", "file", "embedding")
"""Kinds of content a model takes in or gives out."""

REASONING_EFFORTS = ("none", "minimal", "low", "medium", "high", "xhigh", "max")
"""Known ``reasoning_effort`` values, weakest first; catalogs list them in this order."""


@dataclass(frozen=True, slots=True)
class Provider:
    """An upstream service. ``base_url`` is the vendor SDK's default base URL."""

    id: str
    name: str
    wire_format: str
    base_url: str
    api_key_env: str | None
    base_url_env: str
    key_required: bool = True
    docs_url: str | None = None


@dataclass(frozen=True, slots=True)
class PriceTier:
    """Prices for the whole request once the prompt exceeds ``above_tokens``."""

    above_tokens: int
    input: Decimal
    output: Decimal
    cached_input: Decimal | None = None


@dataclass(frozen=True, slots=True)
class Price:
    """USD per 1M tokens. ``tiers`` are sorted by ``above_tokens``, lowest first.

    Models billed by something other than tokens carry a per-unit price in USD, added to
    whatever their tokens cost: ``per_image`` (an image generated), ``per_character`` (text
    spoken), ``per_second`` (audio transcribed or spoken) and ``per_query`` (a rerank search
    unit: one query over up to 100 documents).
    Async-job models (video, music, 3D) are priced ``per_second`` of output asked for
    (clamped to ``max_seconds``; ``default_seconds`` when the request names none) or
    ``per_item``; their token prices are 0.
    """

    input: Decimal
    output: Decimal
    cached_input: Decimal | None = None
    reasoning: Decimal | None = None
    tiers: tuple[PriceTier, ...] = ()
    per_image: Decimal | None = None
    per_character: Decimal | None = None
    per_second: Decimal | None = None
    per_query: Decimal | None = None
    per_item: Decimal | None = None
    default_seconds: Decimal | None = None  # async jobs: seconds when the request says none
    max_seconds: Decimal | None = None  # async jobs: the most seconds billed

    @property
    def is_free(self) -> bool:
        return (
            not (self.input or self.output or self.reasoning)
            and not any(t.input or t.output for t in self.tiers)
            and not any(getattr(self, unit) for unit in UNIT_PRICES)
        )


UNIT_PRICES = ("per_image", "per_character", "per_second", "per_query", "per_item")
"""Per-unit price fields of ``Price`` (USD per unit); set only for models billed that way."""
JOB_DURATIONS = ("default_seconds", "max_seconds")
"""Durations (seconds) of per-second async-job models, kept with their price."""
DEFAULT_JOB_SECONDS = Decimal(5)  # when neither the catalog nor the request says
MAX_JOB_SECONDS = Decimal(60)
UNIT_PRICE_FIELDS = UNIT_PRICES + JOB_DURATIONS


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a model accepts; ``sampling_params`` is False when it rejects temperature/top_p."""

    streaming: bool = False
    tools: bool = False
    parallel_tools: bool = False
    vision: bool = False
    structured_outputs: bool = False
    json_mode: bool = False
    prompt_caching: bool = False
    reasoning: bool = False
    reasoning_efforts: tuple[str, ...] = ()
    sampling_params: bool = True


@dataclass(frozen=True, slots=True)
class Deployment:
    """One place a model is served: a provider's copy of it (the same open model on Groq,
    Together and Fireworks; an Azure and an OpenAI deployment of one model).

    ``weight`` shares traffic under the default ``weighted`` routing policy; ``price`` is
    that provider's price (None: the model's own).
    """

    provider: str
    upstream_id: str
    weight: int = 1
    price: Price | None = None


@dataclass(frozen=True, slots=True)
class Model:
    """One callable model; ``id`` is ``<provider>/<upstream id>`` unless overridden.

    ``deployments`` lists where it is served when that is more than its own provider; empty
    means one deployment, ``provider`` / ``upstream_id`` / ``price``.
    """

    id: str
    provider: str
    upstream_id: str
    name: str
    family: str
    description: str
    modality: str
    input_modalities: tuple[str, ...]
    output_modalities: tuple[str, ...]
    context_window: int | None
    max_output_tokens: int | None
    price: Price
    capabilities: Capabilities = field(default_factory=Capabilities)
    released: str | None = None
    strengths: tuple[str, ...] = ()
    use_cases: tuple[str, ...] = ()
    deployments: tuple[Deployment, ...] = ()


# --- the entry form (what catalog.json and operator files hold) -------------------------

CAP_FLAGS = tuple(f.name for f in fields(Capabilities) if f.type in ("bool", bool))


def provider_to_data(p: Provider) -> dict[str, Any]:
    return {
        "name": p.name,
        "wire_format": p.wire_format,
        "base_url": p.base_url,
        "api_key_env": p.api_key_env,
        "base_url_env": p.base_url_env,
        "key_required": p.key_required,
        "docs_url": p.docs_url,
    }


def price_to_data(p: Price) -> dict[str, Any]:
    return {
        "input": decimal_str(p.input),
        "output": decimal_str(p.output),
        "cached_input": decimal_str(p.cached_input),
        "reasoning": decimal_str(p.reasoning),
        "tiers": [
            {
                "above_tokens": t.above_tokens,
                "input": decimal_str(t.input),
                "output": decimal_str(t.output),
                "cached_input": decimal_str(t.cached_input),
            }
            for t in p.tiers
        ],
        # Per-unit prices (and job durations) only when set: token-priced entries keep their shape.
        **{name: decimal_str(getattr(p, name)) for name in UNIT_PRICE_FIELDS if getattr(p, name)},
    }


def deployment_to_data(d: Deployment) -> dict[str, Any]:
    data: dict[str, Any] = {"provider": d.provider, "upstream_id": d.upstream_id}
    data["weight"] = d.weight
    if d.price is not None:
        data["price"] = price_to_data(d.price)
    return data


def model_to_data(m: Model) -> dict[str, Any]:
    """The entry form of a model (what ``parse_model`` reads back): JSON-ready, exact prices.

    ``deployments`` appears only when set, so single-provider entries keep their shape."""
    c = m.capabilities
    data: dict[str, Any] = {
        "upstream_id": m.upstream_id,
        "name": m.name,
        "family": m.family,
        "description": m.description,
        "modality": m.modality,
        "input_modalities": list(m.input_modalities),
        "output_modalities": list(m.output_modalities),
        "context_window": m.context_window,
        "max_output_tokens": m.max_output_tokens,
        "price": price_to_data(m.price),
        "capabilities": {
            **{flag: getattr(c, flag) for flag in CAP_FLAGS},
            "reasoning_efforts": list(c.reasoning_efforts),
        },
        "released": m.released,
        "strengths": list(m.strengths),
        "use_cases": list(m.use_cases),
    }
    if m.deployments:
        data["deployments"] = [deployment_to_data(d) for d in m.deployments]
    return data


def decimal_str(value: Decimal | None) -> str | None:
    """Plain notation without trailing zeros: ``Decimal('1.250')`` -> ``'1.25'``."""
    if value is None:
        return None
    return format(value.normalize(), "f")
