"""Reporting queries: usage from the request log, spend and top-ups from the ledger.

Usage (requests, tokens, cost) comes from ``request_log``, which also holds BYOK calls and
failures; money actually taken (spend against caps, balance reports) comes from the ledger,
the truth for money. Aggregation happens in SQL, grouped as finely as a report needs, and is
folded in Python (one query gives a summary, per-model and per-day totals).
"""

from __future__ import annotations

import calendar
import time
from dataclasses import dataclass, fields
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, and_, case, func, literal_column, or_, select

from aigw.store.db import Database
from aigw.store.request_log import RequestLogEntry
from aigw.store.tables import ledger_entries, request_log

DAY_MS = 86_400_000

_r = request_log.c
_TOTALS = (
    func.count(),
    func.sum(case((_r.status >= 400, 1), else_=0)),
    func.sum(_r.prompt_tokens),
    func.sum(_r.completion_tokens),
    func.sum(_r.cached_tokens),
    func.sum(_r.reasoning_tokens),
    func.sum(_r.cost_micro_cents),
    func.sum(_r.charged_micro_cents),
)
# Integer division by an inline constant: PostgreSQL only matches GROUP BY expressions whose
# bound parameters are the same ones, and ``/`` would divide as NUMERIC.
_DAY = (_r.created_at // literal_column(str(DAY_MS), BigInteger)).label("day")
_ENTRY_COLUMNS = tuple(_r[f.name] for f in fields(RequestLogEntry))


@dataclass(slots=True)
class Totals:
    requests: int = 0
    errors: int = 0  # status >= 400, client hang-ups (499) included
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    reasoning_tokens: int = 0
    cost_micro_cents: int = 0  # the provider's price at the catalog rate
    charged_micro_cents: int = 0  # what the wallet paid (0 for BYOK calls)

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def add(self, other: Totals) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))


def _totals(values: tuple[Any, ...]) -> Totals:
    return Totals(*(int(v or 0) for v in values))


@dataclass(frozen=True, slots=True)
class Breakdown:
    summary: Totals
    by_model: list[tuple[str | None, Totals]]  # dearest first
    by_day: list[tuple[str, Totals]]  # "YYYY-MM-DD" (UTC), oldest first, days with requests


def month_range_ms(month: str) -> tuple[int, int]:
    """[start, end) of ``month`` ("YYYY-MM", UTC) in unix ms."""
    year, mon = (int(part) for part in month.split("-"))
    start = calendar.timegm((year, mon, 1, 0, 0, 0))
    year, mon = (year + 1, 1) if mon == 12 else (year, mon + 1)
    return start * 1000, calendar.timegm((year, mon, 1, 0, 0, 0)) * 1000


def day_start_ms(now_ms: int) -> int:
    return now_ms - now_ms % DAY_MS


def _scope(
    account_id: str, since_ms: int, until_ms: int | None, sub_account_id: str | None
) -> list[ColumnElement[bool]]:
    where = [_r.account_id == account_id, _r.created_at >= since_ms]
    if until_ms is not None:
        where.append(_r.created_at < until_ms)
    if sub_account_id is not None:
        where.append(_r.sub_account_id == sub_account_id)
    return where


async def breakdown(
    db: Database, account_id: str, *, since_ms: int, sub_account_id: str | None = None
) -> Breakdown:
    """Totals since ``since_ms``, per model and per UTC day."""
    query = (
        select(_r.model, _DAY, *_TOTALS)
        .where(*_scope(account_id, since_ms, None, sub_account_id))
        .group_by(_r.model, _DAY)
    )
    async with db.engine.connect() as conn:
        rows = (await conn.execute(query)).all()
    summary = Totals()
    models: dict[str | None, Totals] = {}
    days: dict[int, Totals] = {}
    for model, day, *values in rows:
        totals = _totals(tuple(values))
        summary.add(totals)
        models.setdefault(model, Totals()).add(totals)
        days.setdefault(int(day), Totals()).add(totals)
    by_model = sorted(models.items(), key=lambda kv: (-kv[1].cost_micro_cents, kv[0] or ""))
    by_day = [
        (time.strftime("%Y-%m-%d", time.gmtime(day * DAY_MS // 1000)), days[day])
        for day in sorted(days)
    ]
    return Breakdown(summary, by_model, by_day)


async def by_tag(
    db: Database, account_id: str, month: str, *, sub_account_id: str | None = None
) -> list[tuple[str | None, Totals]]:
    """The month's totals per tag (None: untagged requests), dearest first."""
    start, end = month_range_ms(month)
    query = (
        select(_r.tag, *_TOTALS)
        .where(*_scope(account_id, start, end, sub_account_id))
        .group_by(_r.tag)
    )
    async with db.engine.connect() as conn:
        rows = [(r[0], _totals(tuple(r[1:]))) for r in await conn.execute(query)]
    return sorted(rows, key=lambda kv: (-kv[1].cost_micro_cents, kv[0] or ""))


async def by_sub_account(db: Database, account_id: str, month: str) -> list[tuple[str, Totals]]:
    """The month's totals per sub-account (the parent's own keys left out), dearest first."""
    start, end = month_range_ms(month)
    query = (
        select(_r.sub_account_id, *_TOTALS)
        .where(*_scope(account_id, start, end, None), _r.sub_account_id.is_not(None))
        .group_by(_r.sub_account_id)
    )
    async with db.engine.connect() as conn:
        rows = [(str(r[0]), _totals(tuple(r[1:]))) for r in await conn.execute(query)]
    return sorted(rows, key=lambda kv: (-kv[1].cost_micro_cents, kv[0]))


async def recent(
    db: Database, account_id: str, *, limit: int, sub_account_id: str | None = None
) -> list[RequestLogEntry]:
    """The newest request-log rows of the account (or of one of its sub-accounts)."""
    query = (
        select(*_ENTRY_COLUMNS)
        .where(*_scope(account_id, 0, None, sub_account_id))
        .order_by(_r.created_at.desc(), _r.id.desc())
        .limit(limit)
    )
    async with db.engine.connect() as conn:
        return [RequestLogEntry(*row) for row in await conn.execute(query)]


# -- the ledger ---------------------------------------------------------------------------

_l = ledger_entries.c

# What counts as spend: charges, less the refunds of charges (a failed job's refund carries
# the job's id, sub-account and tag). A manual refund (``aigw`` adjustments) has no request
# id: it is a credit to the wallet, not negative spend.
SPEND = or_(_l.kind == "charge", and_(_l.kind == "refund", _l.request_id.is_not(None)))


async def spent_since(
    db: Database, account_id: str, since_ms: int, *, sub_account_id: str | None = None
) -> int:
    """µ¢ charged to the account (or one sub-account) since ``since_ms``."""
    query = select(func.sum(_l.amount_micro_cents)).where(
        _l.account_id == account_id, SPEND, _l.created_at >= since_ms
    )
    if sub_account_id is not None:
        query = query.where(_l.sub_account_id == sub_account_id)
    async with db.engine.connect() as conn:
        return -int((await conn.execute(query)).scalar() or 0)


async def spent_by_tag(
    db: Database, account_id: str, since_ms: int, tags: list[str] | None = None
) -> dict[str, int]:
    """µ¢ charged per tag since ``since_ms`` (only ``tags`` when given)."""
    query = (
        select(_l.tag, func.sum(_l.amount_micro_cents))
        .where(_l.account_id == account_id, SPEND, _l.created_at >= since_ms)
        .where(_l.tag.is_not(None))
        .group_by(_l.tag)
    )
    if tags is not None:
        query = query.where(_l.tag.in_(tags))
    async with db.engine.connect() as conn:
        return {str(r[0]): -int(r[1] or 0) for r in await conn.execute(query)}


@dataclass(frozen=True, slots=True)
class TopUp:
    created_at: int  # unix ms
    paid_micro_cents: int  # what the customer paid, the fee included
    fee_micro_cents: int
    note: str | None

    @property
    def credits_micro_cents(self) -> int:
        return self.paid_micro_cents - self.fee_micro_cents


async def last_top_ups(db: Database, account_id: str, limit: int = 5) -> list[TopUp]:
    """The newest top-ups, each with its fee (both entries are written in one append, so
    they share ``created_at``)."""
    query = (
        select(_l.created_at, _l.amount_micro_cents, _l.note)
        .where(_l.account_id == account_id, _l.kind == "topup")
        .order_by(_l.created_at.desc(), _l.id.desc())
        .limit(limit)
    )
    async with db.engine.connect() as conn:
        found = (await conn.execute(query)).all()
        if not found:
            return []
        fee_rows = await conn.execute(
            select(_l.created_at, func.sum(_l.amount_micro_cents))
            .where(_l.account_id == account_id, _l.kind == "topup_fee")
            .where(_l.created_at.in_([int(r[0]) for r in found]))
            .group_by(_l.created_at)
        )
        fees = {int(r[0]): -int(r[1] or 0) for r in fee_rows}
    return [TopUp(int(r[0]), int(r[1]), fees.get(int(r[0]), 0), r[2]) for r in found]
