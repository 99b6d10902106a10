"""Helpers shared by the account-facing JSON routes: bodies, field checks, who may call.

Every check names the offending field in ``param``. Unknown body fields are refused rather
than ignored: a misspelt ``spend_cap_cents`` silently dropped would leave a customer uncapped.
"""

from __future__ import annotations

import re
import time
from collections.abc import Collection
from typing import Any

import orjson
from aiohttp import web

from aigw.auth.keys import KeyInfo
from aigw.billing.pricing import MICRO_CENTS_PER_CENT
from aigw.errors import InvalidRequest, PermissionDenied
from aigw.server.appkeys import BILLING
from aigw.store.usage import Breakdown, Totals

# Caps and limits are stored as BIGINT / INTEGER; anything bigger is certainly a mistake.
MAX_CENTS = 10**13  # $100 billion
MAX_INT32 = 2**31 - 1

_MONTH_RE = re.compile(r"\d{4}-(0[1-9]|1[0-2])")


async def ledger_settled(app: web.Application) -> None:
    """Before a report reads the ledger: the rows of charges whose answers are already out
    (a lone charge is journaled and its row follows its answer) are written first."""
    await app[BILLING].charges.drain()


def json_response(data: Any, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(data), status=status, content_type="application/json")


async def read_object(request: web.Request, allowed: Collection[str]) -> dict[str, Any]:
    """The JSON object body; 400 for bad JSON, a non-object or a field not in ``allowed``."""
    raw = await request.read()
    try:
        data = orjson.loads(raw or b"{}")
    except orjson.JSONDecodeError:
        raise InvalidRequest("Request body is not valid JSON.", param="body") from None
    if not isinstance(data, dict):
        raise InvalidRequest("Request body must be a JSON object.", param="body")
    for name in data:
        if name not in allowed:
            known = ", ".join(sorted(allowed))
            raise InvalidRequest(f"Unknown field '{name}' (known: {known}).", param=name)
    return data


def text_field(
    data: dict[str, Any], name: str, *, max_len: int, required: bool = False
) -> str | None:
    """A non-empty printable string of at most ``max_len`` characters (None when absent)."""
    value = data.get(name)
    if value is None:
        if required:
            raise InvalidRequest(f"'{name}' is required.", param=name)
        return None
    if not isinstance(value, str) or not value.strip():
        raise InvalidRequest(f"'{name}' must be a non-empty string.", param=name)
    if value != value.strip():
        # A tag with outer spaces could never match an (always stripped) header value.
        raise InvalidRequest(f"'{name}' must not start or end with spaces.", param=name)
    if len(value) > max_len or not value.isprintable():
        raise InvalidRequest(
            f"'{name}' must be at most {max_len} printable characters.", param=name
        )
    return value


def count_field(
    data: dict[str, Any], name: str, *, maximum: int, required: bool = False
) -> int | None:
    """A non-negative integer up to ``maximum`` (None when absent or null)."""
    value = data.get(name)
    if value is None:
        if required:
            raise InvalidRequest(f"'{name}' is required.", param=name)
        return None
    # bool is an int in Python, and 1.0 is not an integer in this API.
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidRequest(f"'{name}' must be an integer.", param=name)
    if not 0 <= value <= maximum:
        raise InvalidRequest(f"'{name}' must be between 0 and {maximum}.", param=name)
    return value


def query_limit(request: web.Request, *, default: int, maximum: int) -> int:
    raw = request.query.get("limit")
    if raw is None:
        return default
    try:
        limit = int(raw)
    except ValueError:
        raise InvalidRequest("'limit' must be an integer.", param="limit") from None
    if not 1 <= limit <= maximum:
        raise InvalidRequest(f"'limit' must be between 1 and {maximum}.", param="limit")
    return limit


def query_month(request: web.Request) -> str:
    """``?month=YYYY-MM`` (UTC), this month when absent."""
    return check_month(request.query.get("month"))


def check_month(month: str | None) -> str:
    """A ``YYYY-MM`` month (UTC), this month when absent or empty."""
    if month is None or month == "":
        return time.strftime("%Y-%m", time.gmtime())
    if not _MONTH_RE.fullmatch(month):
        raise InvalidRequest("'month' must look like 2026-04 (YYYY-MM).", param="month")
    return month


def require_parent(key: KeyInfo, what: str) -> None:
    """Sub-account keys belong to a customer of the account: they may not act for it."""
    if key.sub_account_id is not None:
        raise PermissionDenied(
            f"A sub-account key cannot {what}; use a key of the parent account.",
            param="authorization",
        )


def cents(micro_cents: int) -> float:
    """Money for JSON in cents, exact to the micro-cent (6 decimals)."""
    return micro_cents / MICRO_CENTS_PER_CENT


def seconds(ms: int | None) -> int | None:
    """Stored unix milliseconds as the API's unix seconds."""
    return None if ms is None else ms // 1000


def totals_view(t: Totals) -> dict[str, Any]:
    return {
        "requests": t.requests,
        "errors": t.errors,
        "prompt_tokens": t.prompt_tokens,
        "completion_tokens": t.completion_tokens,
        "cached_tokens": t.cached_tokens,
        "reasoning_tokens": t.reasoning_tokens,
        "total_tokens": t.total_tokens,
        "cost_cents": cents(t.cost_micro_cents),
        "charged_cents": cents(t.charged_micro_cents),
    }


def breakdown_view(found: Breakdown) -> dict[str, Any]:
    """A usage window's totals, per model and per UTC day (sub-account and account usage)."""
    return {
        "summary": totals_view(found.summary),
        "by_model": [{"model": m, **totals_view(t)} for m, t in found.by_model],
        "by_day": [{"date": d, **totals_view(t)} for d, t in found.by_day],
    }
