"""Non-token units of one call (images, characters, seconds, search queries), normalised across
providers like ``Usage`` (no I/O)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

_ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class Units:
    """The non-token units of one call, as the upstream reported them (or as counted)."""

    images: int = 0
    characters: int = 0
    seconds: Decimal = _ZERO
    queries: int = 0

    def as_dict(self) -> dict[str, int | float]:
        """The units that were used, for the response's ``usage`` and the request log."""
        out: dict[str, int | float] = {}
        if self.images:
            out["images"] = self.images
        if self.characters:
            out["characters"] = self.characters
        if self.seconds:
            out["seconds"] = float(self.seconds)
        if self.queries:
            out["search_units"] = self.queries
        return out
