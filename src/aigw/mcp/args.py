"""Check a tool's arguments against its input schema before it runs, so a bad call is a tool
error naming the field (``param``), never a 500. Covers the subset of JSON Schema the tools
use: ``type``, ``enum``, ``minimum`` / ``maximum``, ``minLength`` / ``maxLength``,
``minItems`` / ``maxItems``, ``items``, ``required`` and ``additionalProperties: false``."""

from __future__ import annotations

import math
from typing import Any

from aigw.errors import InvalidRequest

_WHAT = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "array": "an array",
    "object": "an object",
}


def check_args(schema: dict[str, Any], args: dict[str, Any]) -> None:
    props: dict[str, Any] = schema.get("properties", {})
    for name in schema.get("required", []):
        if args.get(name) is None:
            raise InvalidRequest(f"'{name}' is required.", param=name)
    if schema.get("additionalProperties") is False:
        for name in args:
            if name not in props:
                known = ", ".join(sorted(props)) or "none"
                raise InvalidRequest(f"Unknown argument '{name}' (known: {known}).", param=name)
    for name, value in args.items():
        if name in props and value is not None:
            _check(props[name], value, name, name)


def _is(kind: str, value: Any) -> bool:
    if kind == "string":
        return isinstance(value, str)
    if kind == "boolean":
        return isinstance(value, bool)
    if isinstance(value, bool):
        return False
    if kind == "integer":
        return isinstance(value, int)
    if kind == "number":
        return isinstance(value, int | float) and math.isfinite(value)
    if kind == "array":
        return isinstance(value, list)
    return isinstance(value, dict)


def _check(spec: dict[str, Any], value: Any, where: str, param: str) -> None:
    kinds = spec.get("type")
    if isinstance(kinds, str):
        kinds = [kinds]
    if kinds and not any(_is(k, value) for k in kinds):
        what = " or ".join(_WHAT[k] for k in kinds)
        raise InvalidRequest(f"'{where}' must be {what}.", param=param)
    if "enum" in spec and value not in spec["enum"]:
        allowed = ", ".join(str(v) for v in spec["enum"])
        raise InvalidRequest(f"'{where}' must be one of {allowed}.", param=param)
    if isinstance(value, int | float) and not isinstance(value, bool):
        low, high = spec.get("minimum"), spec.get("maximum")
        if (low is not None and value < low) or (high is not None and value > high):
            bounds = f"from {low} to {high}" if high is not None else f"at least {low}"
            raise InvalidRequest(f"'{where}' must be {bounds}.", param=param)
    if isinstance(value, str):
        if len(value) < spec.get("minLength", 0):
            raise InvalidRequest(f"'{where}' must not be empty.", param=param)
        if "maxLength" in spec and len(value) > spec["maxLength"]:
            raise InvalidRequest(
                f"'{where}' must be at most {spec['maxLength']} characters.", param=param
            )
    if isinstance(value, list):
        if len(value) < spec.get("minItems", 0):
            raise InvalidRequest(
                f"'{where}' must hold at least {spec['minItems']} item(s).", param=param
            )
        if "maxItems" in spec and len(value) > spec["maxItems"]:
            raise InvalidRequest(
                f"'{where}' may hold at most {spec['maxItems']} items.", param=param
            )
        if isinstance(spec.get("items"), dict):
            for i, item in enumerate(value):
                _check(spec["items"], item, f"{where}[{i}]", param)
