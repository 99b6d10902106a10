"""Charts drawn server-side as inline SVG: no chart library, no script, nothing fetched.

Geometry uses a fixed ``viewBox`` and scales with the page (``width: 100%`` in CSS), so one
drawing fits a phone and a desktop. Every text that comes from data is escaped.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

PALETTE = (
    "#3b82f6",
    "#f97316",
    "#10b981",
    "#a855f7",
    "#ef4444",
    "#eab308",
    "#06b6d4",
    "#64748b",
)
_W, _H = 720, 220
_LEFT, _RIGHT, _TOP, _BOTTOM = 56, 12, 12, 28


@dataclass(frozen=True, slots=True)
class Series:
    label: str
    values: Sequence[float]
    color: str


def series_colors(labels: Sequence[str]) -> list[str]:
    return [PALETTE[i % len(PALETTE)] for i in range(len(labels))]


def _nice_max(value: float) -> float:
    """The smallest 1/2/5 x 10^n at or above ``value`` (at least 1)."""
    if value <= 1:
        return 1.0
    scale = 1.0
    while scale * 10 <= value:
        scale *= 10
    for step in (1, 2, 5, 10):
        if step * scale >= value:
            return step * scale
    return 10 * scale


def line_chart(
    series: Sequence[Series],
    x_labels: Sequence[str],
    *,
    title: str,
    fmt: Callable[[float], str],
) -> Markup:
    """Lines over shared x buckets, with a y axis of four gridlines and sparse x labels."""
    points = max((len(s.values) for s in series), default=0)
    top = _nice_max(max((max(s.values, default=0) for s in series), default=0))
    plot_w, plot_h = _W - _LEFT - _RIGHT, _H - _TOP - _BOTTOM
    step = plot_w / max(1, points - 1)
    parts = [
        f'<svg class="chart" viewBox="0 0 {_W} {_H}" role="img" '
        f'aria-label="{escape(title)}" preserveAspectRatio="xMidYMid meet">',
        f"<title>{escape(title)}</title>",
    ]
    for i in range(5):
        y = _TOP + plot_h - plot_h * i / 4
        parts.append(
            f'<line x1="{_LEFT}" x2="{_W - _RIGHT}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
        )
        parts.append(
            f'<text x="{_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" class="axis">'
            f"{escape(fmt(top * i / 4))}</text>"
        )
    every = max(1, -(-points // 8))
    for i, label in enumerate(x_labels):
        if i % every == 0 or i == points - 1:
            x = _LEFT + step * i
            parts.append(
                f'<text x="{x:.1f}" y="{_H - 8}" text-anchor="middle" class="axis">'
                f"{escape(label)}</text>"
            )
    for s in series:
        coords = " ".join(
            f"{_LEFT + step * i:.1f},{_TOP + plot_h - plot_h * v / top:.1f}"
            for i, v in enumerate(s.values)
        )
        parts.append(
            f'<polyline points="{coords}" fill="none" stroke="{s.color}" stroke-width="2">'
            f"<title>{escape(s.label)}</title></polyline>"
        )
        if points == 1:
            parts.append(
                f'<circle cx="{_LEFT}" cy="{coords.split(",")[1]}" r="3" fill="{s.color}"/>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))
