"""Public catalog API: ``/v1/models``, ``/v1/models/{id}``, ``.../schema``, ``/v1/capabilities``.

Entries are OpenAI's model objects plus every catalog field, so OpenAI SDKs list models as
usual and agents get prices, limits and capabilities from the same call. The catalog never
changes while the app runs, so rendered entries are cached per catalog.
"""

from __future__ import annotations

import weakref
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import orjson
from aiohttp import web

from aigw.catalog.loader import Catalog
from aigw.catalog.models import (
    CAP_FLAGS,
    LOCAL_PROVIDER,
    MODALITIES,
    UNIT_PRICE_FIELDS,
    Model,
    Provider,
)
from aigw.catalog.schema import CAPABILITIES, capability_ids, model_schema
from aigw.errors import InvalidRequest, ModelNotFound
from aigw.server.appkeys import CATALOG

_entries: weakref.WeakKeyDictionary[Catalog, dict[str, dict[str, Any]]] = (
    weakref.WeakKeyDictionary()
)


def _usd(value: Decimal | None) -> float | None:
    """USD per 1M tokens as a JSON number (exact Decimal in, nearest float out)."""
    return None if value is None else float(value)


def _created(released: str | None) -> int:
    if released is None:
        return 0
    return int(datetime.fromisoformat(released).replace(tzinfo=UTC).timestamp())


def model_entry(model: Model) -> dict[str, Any]:
    """One model as the API shows it (OpenAI's fields first, then the catalog's)."""
    price, caps = model.price, model.capabilities
    return {
        "id": model.id,
        "object": "model",
        "created": _created(model.released),
        "owned_by": model.provider,
        "name": model.name,
        "family": model.family,
        "description": model.description,
        "provider": model.provider,
        "upstream_id": model.upstream_id,
        "local": model.provider == LOCAL_PROVIDER,  # runs in the gateway's process
        "modality": model.modality,
        "input_modalities": list(model.input_modalities),
        "output_modalities": list(model.output_modalities),
        "context_window": model.context_window,
        "max_output_tokens": model.max_output_tokens,
        "pricing": {
            "currency": "USD",
            "unit": "per_1m_tokens",
            "input": _usd(price.input),
            "output": _usd(price.output),
            "cached_input": _usd(price.cached_input),
            "reasoning": _usd(price.reasoning),
            "tiers": [
                {
                    "above_tokens": t.above_tokens,
                    "input": _usd(t.input),
                    "output": _usd(t.output),
                    "cached_input": _usd(t.cached_input),
                }
                for t in price.tiers
            ],
            # USD per unit for models billed per image, character, second, search query or
            # item; async-job models also show their default and longest duration (seconds).
            **{
                name: _usd(getattr(price, name))
                for name in UNIT_PRICE_FIELDS
                if getattr(price, name) is not None
            },
        },
        "capabilities": capability_ids(model),
        "capability_flags": {flag: getattr(caps, flag) for flag in CAP_FLAGS},
        "reasoning_efforts": list(caps.reasoning_efforts),
        "released": model.released,
        "strengths": list(model.strengths),
        "use_cases": list(model.use_cases),
        # Where the model is served when that is more than its own provider (routing).
        "deployments": [
            {
                "provider": d.provider,
                "upstream_id": d.upstream_id,
                "weight": d.weight,
                "input": _usd((d.price or price).input),
                "output": _usd((d.price or price).output),
            }
            for d in model.deployments
        ],
    }


def _cached_entries(catalog: Catalog) -> dict[str, dict[str, Any]]:
    entries = _entries.get(catalog)
    if entries is None:
        entries = {m.id: model_entry(m) for m in catalog.models}
        _entries[catalog] = entries
    return entries


def _json(body: Any) -> web.Response:
    return web.Response(body=orjson.dumps(body), content_type="application/json")


def _base_url(request: web.Request) -> str:
    return f"{request.scheme}://{request.host}"


def _lookup(request: web.Request) -> tuple[Model, Provider]:
    catalog = request.app[CATALOG]
    model_id = request.match_info["model_id"]
    model = catalog.get(model_id)
    provider = catalog.provider(model.provider) if model else None
    if model is None or provider is None:
        raise ModelNotFound(f"The model '{model_id}' does not exist.", param="id")
    return model, provider


async def list_models(request: web.Request) -> web.Response:
    catalog = request.app[CATALOG]
    modality = request.query.get("modality") or None
    if modality is not None and modality not in MODALITIES:
        raise InvalidRequest(
            f"Unknown modality '{modality}'; expected one of: {', '.join(MODALITIES)}.",
            param="modality",
        )
    provider = request.query.get("provider") or None
    entries = _cached_entries(catalog)
    data = [entries[m.id] for m in catalog.filter(modality=modality, provider=provider)]
    return _json({"object": "list", "data": data})


async def get_model(request: web.Request) -> web.Response:
    model, provider = _lookup(request)
    entry = dict(_cached_entries(request.app[CATALOG])[model.id])
    entry["schema"] = model_schema(model, provider, _base_url(request))
    return _json(entry)


async def get_model_schema(request: web.Request) -> web.Response:
    model, provider = _lookup(request)
    return _json(model_schema(model, provider, _base_url(request)))


async def list_capabilities(request: web.Request) -> web.Response:
    data = [
        {"id": c.id, "description": c.description, "endpoint": c.endpoint} for c in CAPABILITIES
    ]
    return _json({"object": "list", "data": data})


def setup_routes(app: web.Application) -> None:
    """Register the catalog routes (public: no key needed).

    Model ids contain slashes, so ``{model_id}`` matches across them; the ``/schema`` route is
    registered first and model ids may never end in ``/schema`` (the loader refuses them).
    """
    app.router.add_get("/v1/models", list_models)
    app.router.add_get("/v1/models/{model_id:.+}/schema", get_model_schema)
    app.router.add_get("/v1/models/{model_id:.+}", get_model)
    app.router.add_get("/v1/capabilities", list_capabilities)
