"""Field parsers for catalog entries: each checks one value and names the entry and field
on error, so a bad operator file is refused at start-up with a message that says where."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from aigw.catalog.models import (
    CAP_FLAGS,
    MEDIA,
    REASONING_EFFORTS,
    UNIT_PRICE_FIELDS,
    Capabilities,
    Deployment,
    Price,
    PriceTier,
    Provider,
)
from aigw.errors import ConfigError

_PRICE_FIELDS = frozenset(
    {"input", "output", "cached_input", "reasoning", "tiers", *UNIT_PRICE_FIELDS}
)
_TIER_FIELDS = frozenset({"above_tokens", "input", "output", "cached_input"})
_DEPLOYMENT_FIELDS = frozenset({"provider", "upstream_id", "weight", "price"})
MAX_WEIGHT = 1_000_000


def str_field(value: Any, where: str, name: str) -> str:
    if not isinstance(value, str):
        raise ConfigError(f"{where}: field '{name}' must be a string")
    return value


def choice(value: Any, allowed: tuple[str, ...], where: str, name: str) -> str:
    if value not in allowed:
        raise ConfigError(f"{where}: field '{name}' must be one of {', '.join(allowed)}")
    return str(value)


def strings(value: Any, where: str, name: str) -> tuple[str, ...]:
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: field '{name}' must be a list of strings")
    return tuple(value)


def media(value: Any, where: str, name: str) -> tuple[str, ...]:
    items = strings(value, where, name)
    for item in items:
        if item not in MEDIA:
            raise ConfigError(f"{where}: field '{name}' has '{item}', not one of {MEDIA}")
    if not items:
        raise ConfigError(f"{where}: field '{name}' must not be empty")
    return items


def count(value: Any, where: str, name: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ConfigError(f"{where}: field '{name}' must be a positive integer")
    return value


def _money(value: Any, where: str, name: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise ConfigError(f"{where}: field '{name}' must be a number (USD per 1M tokens)")
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise ConfigError(f"{where}: field '{name}' must be a number (USD per 1M tokens)") from None
    if not amount.is_finite() or amount < 0:
        raise ConfigError(f"{where}: field '{name}' must be a finite number >= 0")
    return amount


def _optional_money(value: Any, where: str, name: str) -> Decimal | None:
    return None if value is None else _money(value, where, name)


def price(value: Any, where: str) -> Price:
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: field 'price' must be a table")
    for key in value:
        if key not in _PRICE_FIELDS:
            raise ConfigError(f"{where}: unknown field 'price.{key}'")
    for key in ("input", "output"):
        if key not in value:
            raise ConfigError(f"{where}: field 'price.{key}' is required")
    tiers_raw = value.get("tiers", [])
    if not isinstance(tiers_raw, list):
        raise ConfigError(f"{where}: field 'price.tiers' must be a list of tables")
    tiers = []
    for i, tier in enumerate(tiers_raw):
        name = f"price.tiers[{i}]"
        if not isinstance(tier, dict):
            raise ConfigError(f"{where}: field '{name}' must be a table")
        for key in tier:
            if key not in _TIER_FIELDS:
                raise ConfigError(f"{where}: unknown field '{name}.{key}'")
        above = count(tier.get("above_tokens"), where, f"{name}.above_tokens")
        if above is None:
            raise ConfigError(f"{where}: field '{name}.above_tokens' is required")
        tiers.append(
            PriceTier(
                above_tokens=above,
                input=_money(tier.get("input"), where, f"{name}.input"),
                output=_money(tier.get("output"), where, f"{name}.output"),
                cached_input=_optional_money(
                    tier.get("cached_input"), where, f"{name}.cached_input"
                ),
            )
        )
    tiers.sort(key=lambda t: t.above_tokens)
    if len({t.above_tokens for t in tiers}) != len(tiers):
        raise ConfigError(f"{where}: field 'price.tiers' repeats an above_tokens value")
    units = {n: _optional_money(value.get(n), where, f"price.{n}") for n in UNIT_PRICE_FIELDS}
    if units["per_second"] is not None and units["per_item"] is not None:
        raise ConfigError(f"{where}: set one of 'price.per_second' and 'price.per_item'")
    if units["per_second"] is None and (units["default_seconds"] or units["max_seconds"]):
        raise ConfigError(f"{where}: 'price.default_seconds/max_seconds' need 'price.per_second'")
    default, most = units["default_seconds"], units["max_seconds"]
    if default is not None and most is not None and not 0 < default <= most:
        raise ConfigError(f"{where}: need 0 < 'price.default_seconds' <= 'price.max_seconds'")
    return Price(
        input=_money(value["input"], where, "price.input"),
        output=_money(value["output"], where, "price.output"),
        cached_input=_optional_money(value.get("cached_input"), where, "price.cached_input"),
        reasoning=_optional_money(value.get("reasoning"), where, "price.reasoning"),
        tiers=tuple(tiers),
        **units,
    )


def capabilities(value: Any, where: str) -> Capabilities:
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: field 'capabilities' must be a table")
    flags: dict[str, bool] = {}
    for key, flag in value.items():
        if key == "reasoning_efforts":
            continue
        if key not in CAP_FLAGS:
            raise ConfigError(f"{where}: unknown field 'capabilities.{key}'")
        if not isinstance(flag, bool):
            raise ConfigError(f"{where}: field 'capabilities.{key}' must be true or false")
        flags[key] = flag
    efforts = strings(value.get("reasoning_efforts", []), where, "capabilities.reasoning_efforts")
    for effort in efforts:
        if effort not in REASONING_EFFORTS:
            raise ConfigError(
                f"{where}: field 'capabilities.reasoning_efforts' has '{effort}', "
                f"not one of {', '.join(REASONING_EFFORTS)}"
            )
    if efforts and not flags.get("reasoning", False):
        raise ConfigError(f"{where}: field 'capabilities.reasoning_efforts' needs reasoning = true")
    ordered = tuple(e for e in REASONING_EFFORTS if e in efforts)
    return Capabilities(**flags, reasoning_efforts=ordered)


def date_field(value: Any, where: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, date):  # TOML reads a bare 2026-05-22 as a date
        return value.isoformat()
    try:
        return date.fromisoformat(str_field(value, where, "released")).isoformat()
    except ValueError:
        raise ConfigError(f"{where}: field 'released' must be a date like 2026-05-22") from None


def deployments(
    value: Any, where: str, providers: Mapping[str, Provider], upstream_id: str
) -> tuple[Deployment, ...]:
    """``[{provider, upstream_id?, weight?, price?}, ...]``: where a model is served."""
    if not isinstance(value, list | tuple):
        raise ConfigError(f"{where}: field 'deployments' must be a list of tables")
    out: list[Deployment] = []
    for i, entry in enumerate(value):
        name = f"deployments[{i}]"
        if not isinstance(entry, dict):
            raise ConfigError(f"{where}: field '{name}' must be a table")
        for key in entry:
            if key not in _DEPLOYMENT_FIELDS:
                raise ConfigError(f"{where}: unknown field '{name}.{key}'")
        pid = str_field(entry.get("provider"), where, f"{name}.provider")
        if pid not in providers:
            raise ConfigError(f"{where}: field '{name}.provider' names unknown provider '{pid}'")
        weight = entry.get("weight", 1)
        if isinstance(weight, bool) or not isinstance(weight, int) or not 0 < weight <= MAX_WEIGHT:
            raise ConfigError(f"{where}: field '{name}.weight' must be an integer from 1")
        raw_price = entry.get("price")
        upstream = str_field(entry.get("upstream_id", upstream_id), where, f"{name}.upstream_id")
        deployment = Deployment(
            provider=pid,
            upstream_id=upstream,
            weight=weight,
            price=None if raw_price is None else price(raw_price, f"{where} ({name})"),
        )
        if any((d.provider, d.upstream_id) == (pid, deployment.upstream_id) for d in out):
            raise ConfigError(f"{where}: field '{name}' repeats a deployment")
        out.append(deployment)
    return tuple(out)
