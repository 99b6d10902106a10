"""How raw setting values (TOML, environment strings, flags) become typed ones: ``coerce``
by the field's type, and ``Secret``, the type of every secret setting."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from aigw.errors import ConfigError


class Secret:
    """A string that never prints itself."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def last4(self) -> str:
        return self._value[-4:]

    def __repr__(self) -> str:
        return "Secret('****')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __bool__(self) -> bool:
        return bool(self._value)


def coerce(name: str, raw: Any, target: Any) -> Any:
    """Convert a file or environment value to the field's type, naming the field on error."""
    kind = str(target)
    try:
        if raw is None:
            return None
        if "Secret" in kind:
            return raw if isinstance(raw, Secret) else Secret(str(raw))
        if kind == "int":
            return int(raw)
        if kind == "float":
            return float(raw)
        if kind == "Decimal":
            value = Decimal(str(raw))
            if not value.is_finite() or value < 0:
                raise ValueError(raw)
            return value
        if kind == "bool":
            if isinstance(raw, bool):
                return raw
            text = str(raw).strip().lower()
            if text in ("1", "true", "yes", "on"):
                return True
            if text in ("0", "false", "no", "off"):
                return False
            raise ValueError(raw)
        if "Mapping" in kind:
            if not isinstance(raw, Mapping):
                raise ValueError(raw)
            return dict(raw)
        return str(raw)
    except (TypeError, ValueError, ArithmeticError):
        raise ConfigError(f"setting {name!r} has an invalid value: {raw!r}") from None
