"""Number formatting for pages: prices, token counts, shares (also Jinja filters)."""

from __future__ import annotations

from decimal import Decimal


def usd(amount: Decimal | float | int | None) -> str:
    """A USD price as people write it: ``$1.25``, ``$0.075``, ``$15``; ``—`` when unknown."""
    if amount is None:
        return "—"
    value = Decimal(str(amount)).normalize()
    if value == value.to_integral_value():
        return f"${value:,.0f}"
    text = f"{value:f}"
    if len(text.split(".")[1]) < 2:
        text = f"{value:.2f}"
    return "$" + text


def compact_tokens(n: int | None) -> str:
    """``1,000,000`` -> ``1M``; ``4,096`` -> ``4K``; ``131,072`` -> ``131K``."""
    if n is None:
        return "—"
    if n >= 1_000_000:
        return f"{n / 1_000_000:.1f}".removesuffix(".0") + "M"
    if n >= 1_000:
        return f"{round(n / 1_000)}K"
    return str(n)


def big(n: float | int) -> str:
    """Counts for adoption figures: ``80.6B``, ``12.2M``, ``3.4K``, ``17``."""
    for limit, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K")):
        if n >= limit:
            return f"{n / limit:.1f}".removesuffix(".0") + suffix
    return f"{n:,.0f}"


def percent(share: float) -> str:
    """A share in [0, 1] as a percentage with sensible precision."""
    pct = share * 100
    if pct == 0:
        return "0%"
    if pct < 0.1:
        return "<0.1%"
    if pct >= 10:
        return f"{pct:.0f}%"
    return f"{pct:.1f}%"
