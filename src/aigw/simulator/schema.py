"""Generate a JSON value that satisfies a JSON Schema (tool arguments, structured outputs).

Covers what function and response schemas use in practice: objects with required and optional
properties, arrays, enums, consts, ``anyOf``/``oneOf``/``allOf``, ``$ref`` into ``$defs`` and
numeric bounds. Values are chosen from the property name where it hints at a meaning, so
``{"city": ...}`` gets a city, which keeps demo output believable.
"""

from __future__ import annotations

import random
from typing import Any

from aigw.simulator import content, wordbank

_MAX_DEPTH = 8


def example(schema: Any, rng: random.Random, topics: list[str]) -> Any:
    """A value conforming to ``schema`` (a JSON Schema dict); deterministic for a given rng."""
    root = schema if isinstance(schema, dict) else {}
    return _Builder(root, rng, topics).value(root, "", 0)


class _Builder:
    def __init__(self, root: dict[str, Any], rng: random.Random, topics: list[str]) -> None:
        self.root = root
        self.rng = rng
        self.topics = topics

    def resolve(self, ref: str) -> dict[str, Any]:
        node: Any = self.root
        if ref.startswith("#"):
            for part in ref.lstrip("#").strip("/").split("/"):
                if part and isinstance(node, dict):
                    node = node.get(part.replace("~1", "/").replace("~0", "~"), {})
        return node if isinstance(node, dict) else {}

    def value(self, schema: dict[str, Any], name: str, depth: int) -> Any:
        if depth > _MAX_DEPTH:
            return None
        if "$ref" in schema:
            return self.value(self.resolve(str(schema["$ref"])), name, depth + 1)
        if "const" in schema:
            return schema["const"]
        enum = schema.get("enum")
        if isinstance(enum, list) and enum:
            return self.rng.choice(enum)
        for key in ("anyOf", "oneOf"):
            options = [o for o in schema.get(key, ()) if isinstance(o, dict)]
            if options:
                concrete = [o for o in options if o.get("type") != "null"] or options
                return self.value(concrete[0], name, depth + 1)
        if "allOf" in schema:
            merged: dict[str, Any] = {k: v for k, v in schema.items() if k != "allOf"}
            for part in schema["allOf"]:
                sub = self.resolve(part["$ref"]) if "$ref" in part else part
                props = {**merged.get("properties", {}), **sub.get("properties", {})}
                required = [*merged.get("required", []), *sub.get("required", [])]
                merged = {**merged, **sub, "properties": props, "required": required}
            return self.value(merged, name, depth + 1)
        kind = schema.get("type")
        if isinstance(kind, list):
            kind = next((k for k in kind if k != "null"), "null")
        if kind is None:
            kind = "object" if "properties" in schema else "array" if "items" in schema else ""
        if kind == "object":
            return self.object(schema, depth)
        if kind == "array":
            return self.array(schema, name, depth)
        if kind == "integer":
            return self.integer(schema, name)
        if kind == "number":
            lo, hi = _bounds(schema, 0.0, 100.0)
            return round(self.rng.uniform(lo, hi), 2)
        if kind == "boolean":
            return self.rng.random() < 0.5
        if kind == "null":
            return None
        return self.string(schema, name)

    def object(self, schema: dict[str, Any], depth: int) -> dict[str, Any]:
        props = schema.get("properties") or {}
        required = set(schema.get("required") or ())
        out: dict[str, Any] = {}
        for key, sub in props.items():
            if key in required or self.rng.random() < 0.5:
                out[key] = self.value(sub if isinstance(sub, dict) else {}, key, depth + 1)
        return out

    def array(self, schema: dict[str, Any], name: str, depth: int) -> list[Any]:
        low = int(schema.get("minItems", 1))
        high = int(schema.get("maxItems", max(low, 3)))
        count = self.rng.randint(low, max(low, min(high, low + 2)))
        items = schema.get("items")
        item_schema = items if isinstance(items, dict) else {}
        singular = name[:-1] if name.endswith("s") else name
        return [self.value(item_schema, singular, depth + 1) for _ in range(count)]

    def integer(self, schema: dict[str, Any], name: str) -> int:
        lower = name.lower()
        default = (18, 65) if "age" in lower else (2020, 2025) if "year" in lower else (1, 10)
        lo, hi = _bounds(schema, *default)
        return self.rng.randint(int(lo), max(int(lo), int(hi)))

    def string(self, schema: dict[str, Any], name: str) -> str:
        text = self.named_string(name.lower(), str(schema.get("format", "")))
        min_len = int(schema.get("minLength", 0))
        max_len = int(schema.get("maxLength", 0)) or None
        if len(text) < min_len:
            text = text.ljust(min_len, "x")
        return text[:max_len] if max_len else text

    def named_string(self, name: str, fmt: str) -> str:
        rng = self.rng
        by_format = {
            "date-time": "2025-05-13T14:30:00Z",
            "date": "2025-05-13",
            "time": "14:30:00",
            "email": "ada.lovelace@example.com",
            "uri": "https://example.com/docs",
            "url": "https://example.com/docs",
            "uuid": "3f2b8c1e-6d4a-4e5b-9a7c-1d2e3f4a5b6c",
        }
        if fmt in by_format:
            return by_format[fmt]
        city, country = rng.choice(wordbank.CITIES), rng.choice(wordbank.COUNTRIES)
        first, last = rng.choice(wordbank.FIRST_NAMES), rng.choice(wordbank.LAST_NAMES)
        hints: tuple[tuple[str, str], ...] = (
            ("email", f"{first.lower()}.{last.lower()}@example.com"),
            ("city", city),
            ("country", country),
            ("location", f"{city}, {country}"),
            ("address", f"12 Market Street, {city}"),
            ("first", first),
            ("last", last),
            ("name", f"{first} {last}"),
            ("date", "2025-05-13"),
            ("time", "14:30"),
            ("url", "https://example.com/docs"),
            ("unit", "celsius"),
            ("lang", "en"),
            ("currency", "USD"),
            ("color", "blue"),
            ("phone", "+1-555-0100"),
            ("query", " ".join(self.topics)),
            ("title", " ".join(t.capitalize() for t in self.topics)),
            ("topic", self.topics[0]),
        )
        for hint, value in hints:
            if hint in name:
                return value
        if name.endswith("id"):
            return f"id_{rng.getrandbits(48):012x}"
        return content.phrase(rng, self.topics)


def _bounds(schema: dict[str, Any], lo: float, hi: float) -> tuple[float, float]:
    if "minimum" in schema:
        lo = float(schema["minimum"])
    elif "exclusiveMinimum" in schema:
        lo = float(schema["exclusiveMinimum"]) + 1
    if "maximum" in schema:
        hi = float(schema["maximum"])
    elif "exclusiveMaximum" in schema:
        hi = float(schema["exclusiveMaximum"]) - 1
    return lo, max(lo, hi)
