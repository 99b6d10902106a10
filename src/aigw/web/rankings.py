"""The rankings page: models and providers by tokens or requests over a window, with charts."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from aigw.catalog.loader import Catalog
from aigw.web.adoption import HOUR_MS, WINDOWS, Snapshot, Usage, WindowStats
from aigw.web.charts import PALETTE, Series, line_chart
from aigw.web.fmt import big

METRICS = (("tokens", "Tokens"), ("requests", "Requests"))
TOP_IN_CHART = 5
ROWS_SHOWN = 50


@dataclass(frozen=True, slots=True)
class Row:
    rank: int
    id: str
    name: str
    href: str | None
    usage: Usage
    share: float
    color: str | None


def x_labels(stats: WindowStats) -> list[str]:
    pattern = "%H:00" if stats.window.bucket_ms == HOUR_MS else "%b %d"
    return [time.strftime(pattern, time.gmtime(ms / 1000)) for ms in stats.starts]


def _rows(
    totals: dict[str, Usage],
    total: Usage,
    metric: str,
    names: dict[str, tuple[str, str | None]],
) -> list[Row]:
    ranked = sorted(totals.items(), key=lambda kv: (-getattr(kv[1], metric), kv[0]))
    whole = getattr(total, metric)
    rows = []
    for i, (key, usage) in enumerate(ranked[:ROWS_SHOWN]):
        name, href = names.get(key, (key, None))
        rows.append(
            Row(
                rank=i + 1,
                id=key,
                name=name,
                href=href,
                usage=usage,
                share=getattr(usage, metric) / whole if whole else 0.0,
                color=PALETTE[i] if i < TOP_IN_CHART else None,
            )
        )
    return rows


def _chart(
    rows: list[Row], series: dict[str, list[Usage]], stats: WindowStats, metric: str, what: str
) -> Markup | None:
    if not rows:
        return None
    lines = [
        Series(row.name, [getattr(u, metric) for u in series[row.id]], row.color or PALETTE[-1])
        for row in rows[:TOP_IN_CHART]
    ]
    return line_chart(
        lines,
        x_labels(stats),
        title=f"{metric.capitalize()} per bucket for the top {what}, {stats.window.label}",
        fmt=big,
    )


def context(catalog: Catalog, snapshot: Snapshot, window_id: str, metric: str) -> dict[str, Any]:
    stats = snapshot.window(window_id)
    model_names: dict[str, tuple[str, str | None]] = {}
    for model_id in stats.by_model:
        model = catalog.get(model_id)
        model_names[model_id] = (model.name, f"/models/{model.id}") if model else (model_id, None)
    provider_names: dict[str, tuple[str, str | None]] = {}
    provider_totals, provider_series = stats.providers()
    for pid in provider_totals:
        provider = catalog.provider(pid)
        provider_names[pid] = (
            (provider.name, f"/models?provider={pid}") if provider else (pid, None)
        )
    model_rows = _rows(stats.by_model, stats.total, metric, model_names)
    provider_rows = _rows(provider_totals, stats.total, metric, provider_names)
    total_chart = line_chart(
        [Series("All traffic", [getattr(u, metric) for u in stats.total_series], PALETTE[7])],
        x_labels(stats),
        title=f"All {metric} through this gateway, {stats.window.label}",
        fmt=big,
    )
    return {
        "windows": WINDOWS,
        "window": stats.window,
        "metrics": METRICS,
        "metric": metric,
        "total": stats.total,
        "model_rows": model_rows,
        "provider_rows": provider_rows,
        "model_chart": _chart(model_rows, stats.series, stats, metric, "models"),
        "provider_chart": _chart(provider_rows, provider_series, stats, metric, "providers"),
        "total_chart": total_chart,
        "taken_at": time.strftime(
            "%Y-%m-%d %H:%M:%S UTC", time.gmtime(snapshot.taken_at_ms / 1000)
        ),
    }
