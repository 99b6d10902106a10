"""Page handlers: each reads the in-memory catalog and the adoption snapshot, then renders.

No handler queries the database: figures come from ``AdoptionCache`` (refreshed in the
background), and everything account-specific (dashboard, playground answers) is fetched by
the browser from the JSON API with the user's own key.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from aigw.catalog.loader import Catalog
from aigw.catalog.models import MODALITIES, Model
from aigw.catalog.schema import CAPABILITIES, model_schema
from aigw.server.appkeys import CATALOG, SETTINGS
from aigw.web import browse, model_page, rankings
from aigw.web.adoption import WINDOW_IDS, AdoptionCache
from aigw.web.facts import CAPABILITY_LABELS, FeePolicy, capability_rows
from aigw.web.fmt import compact_tokens, usd
from aigw.web.render import page

ADOPTION: web.AppKey[AdoptionCache] = web.AppKey("web_adoption", AdoptionCache)
MAX_COMPARE = 4
COMPARE_DEFAULTS = ("simulator/chat", "simulator/free")


def base_url(request: web.Request) -> str:
    return f"{request.scheme}://{request.host}"


def not_found(what: str) -> web.Response:
    return page("not_found.html", status=404, nav="", title="Not found", what=what)


async def index(request: web.Request) -> web.StreamResponse:
    raise web.HTTPFound("/models")


async def catalog_page(request: web.Request) -> web.Response:
    catalog = request.app[CATALOG]
    query = browse.parse_query(request.query, lambda name: request.query.getall(name, []))
    month = (await request.app[ADOPTION].get()).window("month")
    results = browse.search(catalog, query, month)
    context: dict[str, Any] = {
        "nav": "models",
        "title": "Models",
        "query": query,
        "results": results,
        "usage": month,
        "catalog": catalog,
        "providers": sorted(catalog.providers.values(), key=lambda p: p.name.lower()),
        "modalities": MODALITIES,
        "capabilities": [(c.id, CAPABILITY_LABELS[c.id]) for c in CAPABILITIES],
        "prices": browse.PRICE_CHOICES,
        "contexts": browse.CONTEXT_CHOICES,
        "sorts": browse.SORTS,
        "collections": browse.COLLECTIONS,
        "frontier_rule": browse.FRONTIER_RULE,
        "page_link": _page_link(request),
    }
    if request.query.get("partial") == "1":
        return page("_catalog_results.html", **context)
    return page("catalog.html", **context)


def _page_link(request: web.Request) -> Any:
    def link(number: int) -> str:
        params = [(k, v) for k, v in request.query.items() if k not in ("page", "partial")]
        params.append(("page", str(number)))
        return str(request.rel_url.with_query(params))

    return link


async def model_detail(request: web.Request) -> web.Response:
    catalog = request.app[CATALOG]
    model = catalog.get(request.match_info["model_id"])
    provider = catalog.provider(model.provider) if model else None
    if model is None or provider is None:
        return not_found(f"No model {request.match_info['model_id']!r} in this catalog.")
    snapshot = await request.app[ADOPTION].get()
    fees = FeePolicy.from_settings(request.app[SETTINGS])
    return page(
        "model.html",
        nav="models",
        title=f"{model.name} · {provider.name}",
        model=model,
        provider=provider,
        facts=model_page.static_parts(catalog, model, provider, fees, base_url(request)),
        adoption=model_page.adoption(model, snapshot),
        collections=model_page.collections(catalog, model, provider, snapshot),
    )


async def rankings_page(request: web.Request) -> web.Response:
    window = request.query.get("window", "week")
    window = window if window in WINDOW_IDS else "week"
    metric = request.query.get("by", "tokens")
    metric = metric if metric in dict(rankings.METRICS) else "tokens"
    snapshot = await request.app[ADOPTION].get()
    context = rankings.context(request.app[CATALOG], snapshot, window, metric)
    return page("rankings.html", nav="rankings", title="Rankings", **context)


def _chat_models(catalog: Catalog) -> list[Model]:
    return [m for m in catalog.models if m.modality == "text"]


async def playground_page(request: web.Request) -> web.Response:
    catalog = request.app[CATALOG]
    chosen = catalog.get(request.query.get("model", ""))
    if chosen is None or chosen.modality != "text":
        chosen = _default_models(catalog, 1)[0] if len(catalog) else None
    return page(
        "playground.html",
        nav="playground",
        title="Playground",
        models=_chat_models(catalog),
        chosen=chosen,
    )


def _default_models(catalog: Catalog, count: int) -> list[Model]:
    picked = [m for mid in COMPARE_DEFAULTS if (m := catalog.get(mid)) is not None]
    picked += [m for m in _chat_models(catalog) if m not in picked]
    return picked[:count]


def _spec_rows(models: list[Model], catalog: Catalog) -> list[tuple[str, list[str]]]:
    def provider_name(m: Model) -> str:
        p = catalog.provider(m.provider)
        return p.name if p else m.provider

    rows: list[tuple[str, list[str]]] = [
        ("Provider", [provider_name(m) for m in models]),
        ("Family", [m.family for m in models]),
        ("Input / 1M", [usd(m.price.input) for m in models]),
        ("Output / 1M", [usd(m.price.output) for m in models]),
        ("Context", [compact_tokens(m.context_window) for m in models]),
        ("Max output", [compact_tokens(m.max_output_tokens) for m in models]),
        ("Released", [m.released or "—" for m in models]),
    ]
    labels = [row.label for row in capability_rows(models[0])] if models else []
    held = [{row.label: row.supported for row in capability_rows(m)} for m in models]
    for label in labels:
        rows.append((label, ["yes" if h.get(label) else "no" for h in held]))
    rows.append(
        ("Reasoning effort", [", ".join(m.capabilities.reasoning_efforts) or "—" for m in models])
    )
    return rows


def _max_tokens_field(model: Model, catalog: Catalog) -> str:
    """The field the model takes its output limit in, as its schema example spells it."""
    provider = catalog.provider(model.provider)
    if provider is None:
        return "max_tokens"
    request = model_schema(model, provider, "")["request"]
    return "max_completion_tokens" if "max_completion_tokens" in request else "max_tokens"


async def compare_page(request: web.Request) -> web.Response:
    catalog = request.app[CATALOG]
    wanted = [v for v in request.query.getall("m", []) if v][:MAX_COMPARE]
    models = [m for mid in wanted if (m := catalog.get(mid)) is not None and m.modality == "text"]
    unknown = [mid for mid in wanted if catalog.get(mid) is None]
    if not wanted:
        models = _default_models(catalog, 2)
    return page(
        "compare.html",
        nav="compare",
        title="Compare",
        models=models,
        all_models=_chat_models(catalog),
        unknown=unknown,
        specs=_spec_rows(models, catalog),
        slots=max(2, len(models)),
        max_compare=MAX_COMPARE,
        max_fields={m.id: _max_tokens_field(m, catalog) for m in models},
    )


async def dashboard_page(request: web.Request) -> web.Response:
    fees = FeePolicy.from_settings(request.app[SETTINGS])
    return page("dashboard.html", nav="dashboard", title="Dashboard", fees=fees)
