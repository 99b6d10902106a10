"""Everything a model page shows, gathered from the catalog, the settings and the snapshot.

The parts that depend only on the model (facts, schema, snippets) are built once per model
and base URL and kept; only adoption figures and collections change with traffic.
"""

from __future__ import annotations

import time
import weakref
from dataclasses import dataclass
from typing import Any

from aigw.catalog.loader import Catalog
from aigw.catalog.models import Model, Provider
from aigw.catalog.schema import model_schema
from aigw.web import browse, facts
from aigw.web.adoption import Snapshot
from aigw.web.charts import PALETTE, Series, line_chart
from aigw.web.fmt import big, usd
from aigw.web.reference import ErrorRow, error_rows
from aigw.web.render import pretty_json


@dataclass(frozen=True, slots=True)
class Static:
    """The model's page parts that never change while the app runs."""

    description: str
    description_replaced: list[str]
    overview: str
    capabilities: list[facts.CapabilityRow]
    strengths: list[str]
    use_cases: list[str]
    prices: list[tuple[str, str]]
    pricing_notes: list[str]
    faq: list[tuple[str, str]]
    errors: list[ErrorRow]
    schema: dict[str, Any]
    request_json: str
    response_json: str


_static: weakref.WeakKeyDictionary[Catalog, dict[tuple[str, str, facts.FeePolicy], Static]] = (
    weakref.WeakKeyDictionary()
)
_MAX_CACHED = 5000  # bounds memory when many Host names are used


def _prices(model: Model) -> list[tuple[str, str]]:
    price = model.price
    rows = [
        ("Input", f"{usd(price.input)} / 1M tokens"),
        ("Output", f"{usd(price.output)} / 1M tokens"),
    ]
    if price.cached_input is not None:
        rows.append(("Cached input", f"{usd(price.cached_input)} / 1M tokens"))
    if price.reasoning is not None:
        rows.append(("Reasoning", f"{usd(price.reasoning)} / 1M tokens"))
    for tier in price.tiers:
        rows.append(
            (
                f"Prompt above {tier.above_tokens:,} tokens",
                f"{usd(tier.input)} input · {usd(tier.output)} output / 1M",
            )
        )
    return rows


def static_parts(
    catalog: Catalog, model: Model, provider: Provider, fees: facts.FeePolicy, base_url: str
) -> Static:
    cache = _static.setdefault(catalog, {})
    key = (model.id, base_url, fees)
    found = cache.get(key)
    if found is not None:
        return found
    schema = model_schema(model, provider, base_url)
    response = schema["response"]
    found = Static(
        description=facts.description(model, provider),
        description_replaced=facts.conflicts(model, model.description),
        overview=facts.overview(model, provider),
        capabilities=facts.capability_rows(model),
        strengths=facts.consistent_items(model, model.strengths),
        use_cases=facts.consistent_items(model, model.use_cases),
        prices=_prices(model),
        pricing_notes=facts.pricing_notes(model, provider, fees),
        faq=facts.faq(model, provider, fees, base_url),
        errors=error_rows(model, billing_enabled=fees.billing_enabled),
        schema=schema,
        request_json=pretty_json(schema["request"]),
        response_json=response if isinstance(response, str) else pretty_json(response),
    )
    if len(cache) >= _MAX_CACHED:
        cache.clear()
    cache[key] = found
    return found


def _day_labels(starts: list[int]) -> list[str]:
    return [time.strftime("%b %d", time.gmtime(ms / 1000)) for ms in starts]


def adoption(model: Model, snapshot: Snapshot) -> dict[str, Any]:
    month = snapshot.window("month")
    ranked = [mid for mid, _ in month.ranked("tokens")]
    usage = month.usage(model.id)
    chart = None
    if usage.requests:
        chart = line_chart(
            [Series("Tokens per day", [u.tokens for u in month.series[model.id]], PALETTE[0])],
            _day_labels(month.starts),
            title=f"Tokens per day for {model.name}, last 30 days",
            fmt=big,
        )
    return {
        "windows": [
            (w.window.label, w.usage(model.id), w.share(model.id))
            for w in snapshot.windows.values()
        ],
        "month": usage,
        "share": month.share(model.id),
        "rank": ranked.index(model.id) + 1 if model.id in ranked else None,
        "ranked_models": len(ranked),
        "chart": chart,
    }


def collections(
    catalog: Catalog, model: Model, provider: Provider, snapshot: Snapshot
) -> list[dict[str, Any]]:
    month = snapshot.window("month")
    return [
        {
            "title": f"More from {provider.name}",
            "href": f"/models?provider={provider.id}",
            "models": browse.collection(
                catalog, model, lambda m: m.provider == model.provider, month
            ),
        },
        {
            "title": f"More {model.modality} models",
            "href": f"/models?modality={model.modality}",
            "models": browse.collection(
                catalog, model, lambda m: m.modality == model.modality, month
            ),
        },
        {
            "title": "Frontier models",
            "href": "/models?collection=frontier",
            "models": browse.collection(catalog, model, browse.is_frontier, month),
            "rule": browse.FRONTIER_RULE,
        },
        {
            "title": "Free models",
            "href": "/models?collection=free",
            "models": browse.collection(catalog, model, browse.is_free, month),
        },
    ]
