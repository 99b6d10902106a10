"""Catalog search, filters, sorting and collections: pure functions over the in-memory catalog.

Query parameters are forgiving (a page must not answer 400): unknown values are ignored and
the form shows what was applied. The search text of every model is built once per catalog.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from aigw.catalog.loader import Catalog
from aigw.catalog.models import MODALITIES, Model
from aigw.catalog.schema import capability_ids
from aigw.web.adoption import WindowStats

PAGE_SIZE = 100
FRONTIER_MIN_CONTEXT = 200_000
FRONTIER_MIN_OUTPUT_PRICE = Decimal(10)
FRONTIER_RULE = (
    "text models with tool calling, image input and reasoning, a context window of at least "
    f"{FRONTIER_MIN_CONTEXT:,} tokens and an output price of ${FRONTIER_MIN_OUTPUT_PRICE} "
    "per 1M tokens or more"
)
PRICE_CHOICES = (
    ("free", "Free"),
    ("0.5", "Input ≤ $0.50 / 1M"),
    ("1", "Input ≤ $1 / 1M"),
    ("5", "Input ≤ $5 / 1M"),
    ("15", "Input ≤ $15 / 1M"),
)
CONTEXT_CHOICES = (
    (8_000, "8K+"),
    (32_000, "32K+"),
    (128_000, "128K+"),
    (200_000, "200K+"),
    (1_000_000, "1M+"),
)
SORTS = (
    ("popular", "Most used (30 days)"),
    ("newest", "Newest"),
    ("name", "Name"),
    ("price", "Input price: low to high"),
    ("price-desc", "Input price: high to low"),
    ("output-price", "Output price: low to high"),
    ("context", "Context window: largest"),
)
COLLECTIONS = {"frontier": "Frontier models", "free": "Free models"}


def is_frontier(model: Model) -> bool:
    caps = model.capabilities
    return (
        model.modality == "text"
        and caps.tools
        and caps.vision
        and caps.reasoning
        and (model.context_window or 0) >= FRONTIER_MIN_CONTEXT
        and model.price.output >= FRONTIER_MIN_OUTPUT_PRICE
    )


def is_free(model: Model) -> bool:
    return model.price.is_free


@dataclass(frozen=True, slots=True)
class Query:
    q: str = ""
    providers: tuple[str, ...] = ()
    modality: str = ""
    caps: tuple[str, ...] = ()
    price: str = ""
    min_context: int = 0
    collection: str = ""
    sort: str = "popular"
    page: int = 1

    @property
    def filtered(self) -> bool:
        return bool(
            self.q
            or self.providers
            or self.modality
            or self.caps
            or self.price
            or self.min_context
            or self.collection
        )


def parse_query(params: Mapping[str, str], getall: Callable[[str], list[str]]) -> Query:
    """Read the catalog form's parameters, dropping values that mean nothing."""
    price = params.get("price", "")
    if price not in {c for c, _ in PRICE_CHOICES}:
        price = ""
    try:
        min_context = int(params.get("min_context", "0") or 0)
    except ValueError:
        min_context = 0
    try:
        page = max(1, int(params.get("page", "1") or 1))
    except ValueError:
        page = 1
    sort = params.get("sort", "popular")
    return Query(
        q=params.get("q", "").strip()[:200],
        providers=tuple(p for p in getall("provider") if p),
        modality=m if (m := params.get("modality", "")) in MODALITIES else "",
        caps=tuple(c for c in getall("cap") if c),
        price=price,
        min_context=max(0, min_context),
        collection=c if (c := params.get("collection", "")) in COLLECTIONS else "",
        sort=sort if sort in {s for s, _ in SORTS} else "popular",
        page=page,
    )


@dataclass(slots=True)
class _Index:
    text: dict[str, str] = field(default_factory=dict)
    caps: dict[str, frozenset[str]] = field(default_factory=dict)


_indexes: weakref.WeakKeyDictionary[Catalog, _Index] = weakref.WeakKeyDictionary()


def _index(catalog: Catalog) -> _Index:
    index = _indexes.get(catalog)
    if index is None:
        index = _Index()
        for m in catalog.models:
            provider = catalog.provider(m.provider)
            words = (m.id, m.name, m.family, provider.name if provider else "", m.description)
            index.text[m.id] = " ".join(words).lower()
            index.caps[m.id] = frozenset(capability_ids(m))
        _indexes[catalog] = index
    return index


def _max_price(price: str) -> Decimal | None:
    try:
        return Decimal(price)
    except InvalidOperation:
        return None


def matches(model: Model, query: Query, index: _Index) -> bool:
    if query.providers and model.provider not in query.providers:
        return False
    if query.modality and model.modality != query.modality:
        return False
    if query.caps and not index.caps[model.id].issuperset(query.caps):
        return False
    if query.price == "free" and not model.price.is_free:
        return False
    if query.price not in ("", "free"):
        limit = _max_price(query.price)
        if limit is not None and model.price.input > limit:
            return False
        if model.price.per_second is not None or model.price.per_item is not None:
            return False  # priced per second or item: no per-token price to compare
    if query.min_context and (model.context_window or 0) < query.min_context:
        return False
    if query.collection == "frontier" and not is_frontier(model):
        return False
    if query.collection == "free" and not model.price.is_free:
        return False
    if query.q:
        text = index.text[model.id]
        return all(word in text for word in query.q.lower().split())
    return True


def sort_key(sort: str, usage: WindowStats) -> Callable[[Model], tuple[object, ...]]:
    if sort == "name":
        return lambda m: (m.name.lower(), m.id)
    if sort == "newest":
        return lambda m: (m.released is None, _negate_date(m.released), m.name.lower())
    if sort == "price":
        return lambda m: (m.price.input, m.price.output, m.id)
    if sort == "price-desc":
        return lambda m: (-m.price.input, -m.price.output, m.id)
    if sort == "output-price":
        return lambda m: (m.price.output, m.price.input, m.id)
    if sort == "context":
        return lambda m: (-(m.context_window or 0), m.id)
    return lambda m: (-usage.usage(m.id).tokens, -usage.usage(m.id).requests, m.id)


def _negate_date(released: str | None) -> str:
    """A key that sorts ISO dates newest first."""
    if released is None:
        return ""
    return "".join(chr(0x7F - ord(c)) for c in released)


@dataclass(frozen=True, slots=True)
class Results:
    models: list[Model]  # the page
    total: int
    page: int
    pages: int


def search(catalog: Catalog, query: Query, usage: WindowStats) -> Results:
    index = _index(catalog)
    found = [m for m in catalog.models if matches(m, query, index)]
    found.sort(key=sort_key(query.sort, usage))
    pages = max(1, -(-len(found) // PAGE_SIZE))
    page = min(query.page, pages)
    start = (page - 1) * PAGE_SIZE
    return Results(found[start : start + PAGE_SIZE], len(found), page, pages)


def collection(
    catalog: Catalog,
    model: Model,
    keep: Callable[[Model], bool],
    usage: WindowStats,
    limit: int = 6,
) -> list[Model]:
    """Up to ``limit`` other models for which ``keep`` holds, most used first."""
    picked = [m for m in catalog.models if m.id != model.id and keep(m)]
    picked.sort(key=sort_key("popular", usage))
    return picked[:limit]
