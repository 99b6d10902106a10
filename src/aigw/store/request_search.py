"""One account's request log with filters, one request in detail, and its ledger entries.

Always scoped to an account (and, for a sub-account key, to that sub-account): the request id
alone never finds another account's request. Pages are cursor-based (``before`` = the last
id seen), which stays correct while new requests arrive.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from sqlalchemy import ColumnElement, and_, or_, select

from aigw.store.db import Database
from aigw.store.request_log import RequestLogEntry
from aigw.store.tables import ledger_entries, request_log

_r = request_log.c
_l = ledger_entries.c
_COLUMNS = tuple(_r[f.name] for f in fields(RequestLogEntry))


@dataclass(frozen=True, slots=True)
class StatusFilter:
    """``exact`` status, or only errors (>= 400) / only successes (< 400)."""

    exact: int | None = None
    errors: bool | None = None


def _scope(account_id: str, sub_account_id: str | None) -> list[ColumnElement[bool]]:
    where = [_r.account_id == account_id]
    if sub_account_id is not None:
        where.append(_r.sub_account_id == sub_account_id)
    return where


async def search(
    db: Database,
    account_id: str,
    *,
    sub_account_id: str | None = None,
    model: str | None = None,
    status: StatusFilter | None = None,
    tag: str | None = None,
    before: str | None = None,
    limit: int = 50,
) -> list[RequestLogEntry]:
    """Newest first, filtered; ``before`` continues after the row with that id."""
    where = _scope(account_id, sub_account_id)
    if model is not None:
        where.append(_r.model == model)
    if tag is not None:
        where.append(_r.tag == tag)
    if status is not None and status.exact is not None:
        where.append(_r.status == status.exact)
    elif status is not None and status.errors is not None:
        where.append(_r.status >= 400 if status.errors else _r.status < 400)
    if before is not None:
        anchor = select(_r.created_at).where(_r.id == before, *_scope(account_id, sub_account_id))
        at = anchor.scalar_subquery()
        where.append(or_(_r.created_at < at, and_(_r.created_at == at, _r.id < before)))
    query = (
        select(*_COLUMNS).where(*where).order_by(_r.created_at.desc(), _r.id.desc()).limit(limit)
    )
    async with db.engine.connect() as conn:
        return [RequestLogEntry(*row) for row in await conn.execute(query)]


async def get(
    db: Database, account_id: str, request_id: str, *, sub_account_id: str | None = None
) -> RequestLogEntry | None:
    query = select(*_COLUMNS).where(_r.id == request_id, *_scope(account_id, sub_account_id))
    async with db.engine.connect() as conn:
        row = (await conn.execute(query)).first()
    return RequestLogEntry(*row) if row is not None else None


@dataclass(frozen=True, slots=True)
class LedgerLine:
    kind: str
    amount_micro_cents: int
    fee_micro_cents: int
    created_at: int
    tag: str | None
    note: str | None


async def ledger_for_request(db: Database, account_id: str, request_id: str) -> list[LedgerLine]:
    """The wallet entries a request caused (its charge; refunds or adjustments naming it)."""
    query = (
        select(_l.kind, _l.amount_micro_cents, _l.fee_micro_cents, _l.created_at, _l.tag, _l.note)
        .where(_l.account_id == account_id, _l.request_id == request_id)
        .order_by(_l.created_at, _l.id)
    )
    async with db.engine.connect() as conn:
        return [LedgerLine(*row) for row in await conn.execute(query)]
