"""``aigw usage`` (spend per model, day or tag) and ``aigw tail`` (the live request log).

Both read the gateway's own reporting API with an account key: ``/v1/usage/summary`` (model,
day), ``/v1/usage/by-tag`` (tag, per month) and ``/v1/usage/requests`` (the request log,
newest first, paged with ``before``), which ``tail`` polls.
"""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

import click
import orjson

from aigw.clients.connect import Gateway, gateway_options, spinner, table

PAGE = 100
MAX_PAGES = 10  # catching up after a pause: at most this many pages back per poll


def dollars(cents: Any) -> str:
    """Cents from the API (a JSON number, exact to the micro-cent) as dollars for people."""
    amount = Decimal(str(cents or 0)) / 100
    return f"${amount:,.8f}".rstrip("0").rstrip(".") if amount else "$0"


def _count(value: Any) -> str:
    return f"{int(value or 0):,}"


@click.command()
@gateway_options
@click.option(
    "--by",
    "group",
    type=click.Choice(["model", "day", "tag"]),
    default="model",
    show_default=True,
    help="Group rows by model, UTC day, or cost-attribution tag.",
)
@click.option(
    "--window",
    default="30d",
    show_default=True,
    help="Period for --by model/day: 24h, 7d, 30d ... up to 400d.",
)
@click.option("--month", help="Month for --by tag, YYYY-MM (UTC; default this month).")
@click.option("--json", "as_json", is_flag=True, help="Print the API's JSON instead.")
def usage(url: str, key: str, group: str, window: str, month: str | None, as_json: bool) -> None:
    """Spend and usage of the key's account (or sub-account), as a table."""
    gateway = Gateway(url, key)
    with spinner("fetching usage"):
        if group == "tag":
            data = gateway.get("/v1/usage/by-tag", {"month": month})
        else:
            data = gateway.get("/v1/usage/summary", {"window": window})
    if as_json:
        click.echo(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode())
        return
    if group == "tag":
        rows_in = [(r["tag"] or "(untagged)", r) for r in data["data"]]
        label, period = "tag", f"month {data['month']}"
        total = _sum(r for _, r in rows_in)
    else:
        name = "by_model" if group == "model" else "by_day"
        field = "model" if group == "model" else "date"
        rows_in = [(r[field] or "(unknown)", r) for r in data[name]]
        label, period = group, f"last {data['window']}"
        total = data["summary"]
    headers = [label, "requests", "errors", "input tok", "output tok", "cost", "charged"]
    rows = [_row(group_name, r) for group_name, r in rows_in]
    rows.append(_row("total", total))
    click.echo(f"Usage by {group}, {period}")
    click.echo(table(headers, rows, right={1, 2, 3, 4, 5, 6}))


def _row(name: str, t: dict[str, Any]) -> list[str]:
    return [
        name,
        _count(t["requests"]),
        _count(t["errors"]),
        _count(t["prompt_tokens"]),
        _count(t["completion_tokens"]),
        dollars(t["cost_cents"]),
        dollars(t["charged_cents"]),
    ]


def _sum(rows: Any) -> dict[str, Any]:
    total: dict[str, Any] = {
        "requests": 0,
        "errors": 0,
        "prompt_tokens": 0,
        "completion_tokens": 0,
        "cost_cents": Decimal(0),
        "charged_cents": Decimal(0),
    }
    for r in rows:
        for name in total:
            value = r[name]
            total[name] += Decimal(str(value)) if name.endswith("cents") else int(value)
    return total


def line(entry: dict[str, Any]) -> str:
    """One request as a readable line."""
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(entry["created_at"]))
    status = str(entry["status"])
    if entry.get("error_type"):
        status += f" {entry['error_type']}"
    model = entry.get("model") or "-"
    if entry.get("provider"):
        model += f" ({entry['provider']})"
    parts = [
        when,
        entry["id"],
        status,
        model,
        f"{entry['prompt_tokens']}+{entry['completion_tokens']} tok",
        dollars(entry["charged_cents"]),
        f"{round(entry['latency_ms'] or 0)} ms",
    ]
    if entry.get("ttft_ms") is not None:
        parts.append(f"ttft {round(entry['ttft_ms'])} ms")
    if entry.get("streamed"):
        parts.append("stream")
    if entry.get("tag"):
        parts.append(f"tag={entry['tag']}")
    return "  ".join(parts)


class Follower:
    """Polls ``/v1/usage/requests`` and returns the entries it has not returned before."""

    def __init__(self, gateway: Gateway, filters: dict[str, Any]) -> None:
        self._gateway = gateway
        self._filters = filters
        self._seen: set[str] = set()

    def backlog(self, lines: int) -> list[dict[str, Any]]:
        """The newest ``lines`` entries, oldest first; everything older counts as seen
        (``new`` stops paging back at the first entry it has seen)."""
        page = self._page(None, max(lines, PAGE))
        for entry in page:
            self._seen.add(entry["id"])
        return list(reversed(page[:lines]))

    def new(self) -> list[dict[str, Any]]:
        """Entries logged since the last call, oldest first (pages back while all are new)."""
        fresh: list[dict[str, Any]] = []
        before = None
        for _ in range(MAX_PAGES):
            page = self._page(before, PAGE)
            unseen = [e for e in page if e["id"] not in self._seen]
            fresh += unseen
            if len(unseen) < len(page) or len(page) < PAGE:
                break
            before = page[-1]["id"]
        for entry in fresh:
            self._seen.add(entry["id"])
        return list(reversed(fresh))

    def _page(self, before: str | None, limit: int) -> list[dict[str, Any]]:
        query = {**self._filters, "limit": limit, "before": before}
        data: list[dict[str, Any]] = self._gateway.get("/v1/usage/requests", query)["data"]
        return data


@click.command()
@gateway_options
@click.option(
    "-n",
    "--lines",
    type=click.IntRange(0, 1000),
    default=10,
    show_default=True,
    help="Recent requests to show first.",
)
@click.option(
    "--interval",
    type=click.FloatRange(min=0.05),
    default=1.0,
    show_default=True,
    help="Seconds between polls.",
)
@click.option("--model", help="Only this model (catalog id).")
@click.option("--status", help="Only 'ok', 'error' or one HTTP status code.")
@click.option("--tag", help="Only this cost-attribution tag.")
@click.option(
    "--count",
    type=click.IntRange(min=0),
    default=0,
    help="Stop after printing this many requests (0: follow until Ctrl-C).",
)
def tail(
    url: str,
    key: str,
    lines: int,
    interval: float,
    model: str | None,
    status: str | None,
    tag: str | None,
    count: int,
) -> None:
    """Follow the request log: one line per request as it is logged."""
    follower = Follower(Gateway(url, key), {"model": model, "status": status, "tag": tag})
    printed = 0
    try:
        with spinner("connecting"):
            first = follower.backlog(lines)
        for entry in first:
            click.echo(line(entry))
            printed += 1
            if count and printed >= count:
                return
        while True:
            time.sleep(interval)
            for entry in follower.new():
                click.echo(line(entry))
                printed += 1
                if count and printed >= count:
                    return
    except KeyboardInterrupt:
        return
