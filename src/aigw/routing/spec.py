"""What a request asks of routing: a model or an ordered list of models, and ``routing``.

``{"model": ["a/x", "b/y"], "routing": {"policy": "lowest_latency", "providers": ["groq"],
"allow_fallback": true, "max_cost_per_1m_input": 0.5}}``. Checked here so a mistake is a 400
naming the field, never an ignored preference.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from aigw.errors import InvalidRequest

POLICIES = ("weighted", "lowest_latency", "lowest_cost", "highest_throughput", "pinned")
MAX_MODELS = 10
_FIELDS = ("policy", "providers", "allow_fallback", "max_cost_per_1m_input")


@dataclass(frozen=True, slots=True)
class RouteSpec:
    names: tuple[str, ...]
    policy: str
    providers: tuple[str, ...] = ()
    allow_fallback: bool = True
    max_cost_per_1m_input: Decimal | None = None


def model_names(model: Any) -> tuple[str, ...]:
    """``model`` as a tuple of names: one string, or a list tried in order."""
    if isinstance(model, str) and model:
        return (model,)
    if not isinstance(model, list) or not model:
        raise InvalidRequest(
            "'model' must be a model name or a non-empty array of them.", param="model"
        )
    if len(model) > MAX_MODELS:
        raise InvalidRequest(f"'model' may list at most {MAX_MODELS} models.", param="model")
    for i, name in enumerate(model):
        if not isinstance(name, str) or not name:
            raise InvalidRequest(f"'model[{i}]' must be a model name.", param=f"model[{i}]")
    return tuple(dict.fromkeys(model))


def parse_spec(model: Any, routing: Any, default_policy: str) -> RouteSpec:
    names = model_names(model)
    if routing is None:
        return RouteSpec(names, default_policy)
    if not isinstance(routing, dict):
        raise InvalidRequest("'routing' must be an object.", param="routing")
    for key in routing:
        if key not in _FIELDS:
            raise InvalidRequest(
                f"Unknown field 'routing.{key}' (known: {', '.join(_FIELDS)}).",
                param=f"routing.{key}",
            )
    policy = routing.get("policy", default_policy)
    if policy not in POLICIES:
        raise InvalidRequest(
            f"'routing.policy' must be one of {', '.join(POLICIES)}.", param="routing.policy"
        )
    providers = routing.get("providers", [])
    if not isinstance(providers, list) or not all(isinstance(p, str) and p for p in providers):
        raise InvalidRequest(
            "'routing.providers' must be an array of provider ids.", param="routing.providers"
        )
    if policy == "pinned" and not providers:
        raise InvalidRequest(
            "The 'pinned' policy needs 'routing.providers': the providers to use, in order.",
            param="routing.providers",
        )
    allow = routing.get("allow_fallback", True)
    if not isinstance(allow, bool):
        raise InvalidRequest(
            "'routing.allow_fallback' must be a boolean.", param="routing.allow_fallback"
        )
    return RouteSpec(
        names,
        policy,
        tuple(dict.fromkeys(providers)),
        allow,
        _max_cost(routing.get("max_cost_per_1m_input")),
    )


def _max_cost(value: Any) -> Decimal | None:
    if value is None:
        return None
    param = "routing.max_cost_per_1m_input"
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise InvalidRequest(f"'{param}' must be a number (USD per 1M input tokens).", param=param)
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise InvalidRequest(f"'{param}' must be a number.", param=param) from None
    if not amount.is_finite() or amount < 0:
        raise InvalidRequest(f"'{param}' must be a number >= 0.", param=param)
    return amount
