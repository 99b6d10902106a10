"""Load the built-in catalog and apply an operator's overrides on top of it.

The built-in data (``data/catalog.json``, written by ``scripts/build_catalog.py``) is parsed once
per process and cached; an operator file (TOML or JSON, ``[providers.<id>]`` and
``[models."<provider>/<model>"]`` tables) is merged field by field over it. Every entry is
validated the same way, so a bad one is refused at start-up with a ``ConfigError`` that names
the entry and the field.
"""

from __future__ import annotations

import functools
import re
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import fields
from pathlib import Path
from types import MappingProxyType
from typing import Any

import orjson

from aigw.catalog.fields import capabilities as _capabilities
from aigw.catalog.fields import choice as _choice
from aigw.catalog.fields import count as _count
from aigw.catalog.fields import date_field as _date
from aigw.catalog.fields import deployments as _deployments
from aigw.catalog.fields import media as _media
from aigw.catalog.fields import price as _price
from aigw.catalog.fields import str_field as _str
from aigw.catalog.fields import strings as _strings
from aigw.catalog.models import (
    MODALITIES,
    WIRE_FORMATS,
    Model,
    Provider,
    model_to_data,
    provider_to_data,
)
from aigw.catalog.naming import derive_family, derive_name, describe
from aigw.errors import ConfigError

BUILTIN_PATH = Path(__file__).parent / "data" / "catalog.json"

PROVIDER_RUNTIME_KEYS = frozenset(
    {"api_key", "headers", "timeout", "organization", "project", "api_version", "region"}
)
"""Keys a ``[providers.<id>]`` table may carry for the runtime (config.py), ignored here."""

_PROVIDER_FIELDS = frozenset(f.name for f in fields(Provider)) - {"id"}
_MODEL_FIELDS = frozenset(f.name for f in fields(Model)) - {"id"}
_PROVIDER_ID = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_MODEL_ID = re.compile(r"^[a-z0-9][a-z0-9_-]*/\S+$")


class Catalog:
    """Providers and models, immutable once built; look-ups are dict reads."""

    __slots__ = ("__weakref__", "_by_id", "_models", "_providers")

    def __init__(self, providers: Mapping[str, Provider], models: Iterable[Model]) -> None:
        self._providers: Mapping[str, Provider] = MappingProxyType(dict(providers))
        self._models = tuple(sorted(models, key=lambda m: m.id))
        self._by_id = {m.id: m for m in self._models}

    @property
    def models(self) -> tuple[Model, ...]:
        return self._models

    @property
    def providers(self) -> Mapping[str, Provider]:
        return self._providers

    def get(self, model_id: str) -> Model | None:
        return self._by_id.get(model_id)

    def provider(self, provider_id: str) -> Provider | None:
        return self._providers.get(provider_id)

    def filter(self, modality: str | None = None, provider: str | None = None) -> list[Model]:
        return [
            m
            for m in self._models
            if (modality is None or m.modality == modality)
            and (provider is None or m.provider == provider)
        ]

    def __len__(self) -> int:
        return len(self._models)

    def __iter__(self) -> Iterator[Model]:
        return iter(self._models)

    def __contains__(self, model_id: object) -> bool:
        return model_id in self._by_id


def load_catalog(extra: str | Path | None = None) -> Catalog:
    """The built-in catalog, with the operator's file (TOML or JSON) merged over it."""
    base = builtin_catalog()
    if extra is None:
        return base
    path = Path(extra)
    try:
        text = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"catalog file {path}: cannot read it ({exc.strerror})") from None
    try:
        data = orjson.loads(text) if path.suffix == ".json" else tomllib.loads(text.decode())
    except (orjson.JSONDecodeError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"catalog file {path} is not valid: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"catalog file {path}: expected a table at the top level")
    if isinstance(data.get("catalog"), dict):  # main config files may nest under [catalog]
        data = {**data, **data["catalog"]}
    return apply_overrides(base, data, source=str(path))


@functools.cache
def builtin_catalog() -> Catalog:
    """The packaged catalog, parsed once per process (start-up is the only caller that pays)."""
    return catalog_from_data(orjson.loads(BUILTIN_PATH.read_bytes()), source=BUILTIN_PATH.name)


def catalog_from_data(data: Mapping[str, Any], *, source: str) -> Catalog:
    """A catalog from ``{"providers": {...}, "models": {...}}`` with full validation."""
    return apply_overrides(Catalog({}, ()), data, source=source)


def apply_overrides(catalog: Catalog, data: Mapping[str, Any], *, source: str) -> Catalog:
    """A new catalog: ``data``'s providers and models merged field by field over ``catalog``."""
    providers = dict(catalog.providers)
    for pid, entry in _table(data, "providers", source).items():
        where = f"{source}: providers.{pid}"
        if not isinstance(entry, dict):
            raise ConfigError(f"{where}: expected a table")
        old = providers.get(pid)
        providers[pid] = parse_provider(pid, entry, where, provider_to_data(old) if old else {})
    models = {m.id: m for m in catalog.models}
    for mid, entry in _table(data, "models", source).items():
        where = f'{source}: models."{mid}"'
        if not isinstance(entry, dict):
            raise ConfigError(f"{where}: expected a table")
        entry = dict(entry)
        remove = entry.pop("remove", False)
        if not isinstance(remove, bool):
            raise ConfigError(f"{where}: field 'remove' must be true or false")
        if remove:
            models.pop(mid, None)
            continue
        old_model = models.get(mid)
        base = model_to_data(old_model) if old_model else {}
        models[mid] = parse_model(mid, entry, where, providers, base)
    return Catalog(providers, models.values())


def _table(data: Mapping[str, Any], key: str, source: str) -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise ConfigError(f"{source}: '{key}' must be a table")
    return value


# --- providers ------------------------------------------------------------------------------


def parse_provider(
    pid: str, entry: Mapping[str, Any], where: str, base: Mapping[str, Any]
) -> Provider:
    if not _PROVIDER_ID.match(pid):
        raise ConfigError(f"{where}: provider ids are lowercase letters, digits, '-' and '_'")
    for key in entry:
        if key not in _PROVIDER_FIELDS and key not in PROVIDER_RUNTIME_KEYS:
            raise ConfigError(f"{where}: unknown field '{key}'")
    d = {**base, **{k: v for k, v in entry.items() if k in _PROVIDER_FIELDS}}
    for required in ("wire_format", "base_url"):
        if required not in d:
            raise ConfigError(f"{where}: field '{required}' is required for a new provider")
    wire = _str(d["wire_format"], where, "wire_format")
    if wire not in WIRE_FORMATS:
        raise ConfigError(f"{where}: field 'wire_format' must be one of {', '.join(WIRE_FORMATS)}")
    default_env = pid.upper().replace("-", "_")
    key_env = d.get("api_key_env", f"{default_env}_API_KEY")
    key_env = (_str(key_env, where, "api_key_env") or None) if key_env is not None else None
    key_required = d.get("key_required", key_env is not None)
    if not isinstance(key_required, bool):
        raise ConfigError(f"{where}: field 'key_required' must be true or false")
    if key_required and key_env is None:
        raise ConfigError(f"{where}: field 'api_key_env' is required when key_required is true")
    docs = d.get("docs_url")
    return Provider(
        id=pid,
        name=_str(d.get("name", pid), where, "name"),
        wire_format=wire,
        base_url=_str(d["base_url"], where, "base_url").rstrip("/"),
        api_key_env=key_env,
        base_url_env=_str(d.get("base_url_env", f"{default_env}_BASE_URL"), where, "base_url_env"),
        key_required=key_required,
        docs_url=_str(docs, where, "docs_url") if docs is not None else None,
    )


# --- models ---------------------------------------------------------------------------------


def parse_model(
    mid: str,
    entry: Mapping[str, Any],
    where: str,
    providers: Mapping[str, Provider],
    base: Mapping[str, Any],
) -> Model:
    """Validate one model entry merged over ``base`` (empty for a new model)."""
    if not _MODEL_ID.match(mid) or mid.endswith("/schema"):
        raise ConfigError(f"{where}: model ids look like '<provider>/<model>' (no spaces)")
    for key in entry:
        if key not in _MODEL_FIELDS:
            raise ConfigError(f"{where}: unknown field '{key}'")
    pid = mid.split("/", 1)[0]
    if entry.get("provider", pid) != pid:
        raise ConfigError(f"{where}: field 'provider' must match the id's prefix '{pid}'")
    provider = providers.get(pid)
    if provider is None:
        raise ConfigError(f"{where}: unknown provider '{pid}' (add it under [providers.{pid}])")
    if not base and "price" not in entry and provider.key_required:
        raise ConfigError(f"{where}: field 'price' is required for a new model")
    d: dict[str, Any] = {**base, **entry}
    for nested in ("price", "capabilities"):
        if nested in entry:
            if not isinstance(entry[nested], dict):
                raise ConfigError(f"{where}: field '{nested}' must be a table")
            d[nested] = {**base.get(nested, {}), **entry[nested]}

    upstream = _str(d.get("upstream_id", mid.split("/", 1)[1]), where, "upstream_id")
    name = _str(d.get("name") or derive_name(upstream), where, "name")
    modality = _choice(d.get("modality", "text"), MODALITIES, where, "modality")
    inputs = _media(d.get("input_modalities", ["text"]), where, "input_modalities")
    outputs = _media(d.get("output_modalities", ["text"]), where, "output_modalities")
    context = _count(d.get("context_window"), where, "context_window")
    max_out = _count(d.get("max_output_tokens"), where, "max_output_tokens")
    caps = _capabilities({"streaming": modality == "text", **d.get("capabilities", {})}, where)
    description = d.get("description") or describe(
        name=name,
        provider_name=provider.name,
        modality=modality,
        input_modalities=inputs,
        output_modalities=outputs,
        context_window=context,
        max_output_tokens=max_out,
        capabilities=caps,
    )
    return Model(
        id=mid,
        provider=pid,
        upstream_id=upstream,
        name=name,
        family=_str(d.get("family") or derive_family(name), where, "family"),
        description=_str(description, where, "description"),
        modality=modality,
        input_modalities=inputs,
        output_modalities=outputs,
        context_window=context,
        max_output_tokens=max_out,
        price=_price(d.get("price", {"input": 0, "output": 0}), where),
        capabilities=caps,
        released=_date(d.get("released"), where),
        strengths=_strings(d.get("strengths", []), where, "strengths"),
        use_cases=_strings(d.get("use_cases", []), where, "use_cases"),
        deployments=_deployments(d.get("deployments", []), where, providers, upstream),
    )
