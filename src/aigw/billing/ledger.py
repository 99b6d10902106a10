"""The ledger: append-only entries and the wallet row that must always equal their sum.

Every change to money is one transaction that appends entries and moves the wallet balance
by exactly their sum, bumping the wallet's version so other processes apply changes in
order. ``verify`` re-adds every account's entries and compares.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from aigw.billing.pricing import MICRO_CENTS_PER_USD
from aigw.core.ids import unique_hex24
from aigw.errors import InvalidRequest
from aigw.store.accounts import require_account
from aigw.store.db import Database
from aigw.store.sqlite_rows import insert_rows
from aigw.store.tables import ledger_entries, now_ms, wallets

KINDS = ("topup", "topup_fee", "charge", "refund", "adjustment")
FEE_MODES = ("topup", "per_call")


@dataclass(frozen=True, slots=True)
class Entry:
    """One ledger line to append (amount signed: credits positive, debits negative)."""

    account_id: str
    kind: str
    amount_micro_cents: int
    fee_micro_cents: int = 0
    request_id: str | None = None
    sub_account_id: str | None = None
    tag: str | None = None
    note: str | None = None
    # Set when the entry is journaled before it is appended (billing/journal.py): the row
    # then keeps the id and time it was journaled with. None: given when appended.
    id: str | None = None
    created_at: int | None = None


@dataclass(frozen=True, slots=True)
class WalletState:
    account_id: str
    balance_micro_cents: int
    version: int


def new_entry_id() -> str:
    return "led_" + unique_hex24()  # unique per process and call; no syscall


def usd_to_micro_cents(amount: object, *, param: str = "amount") -> int:
    """Parse a USD amount ("100", "12.50", 7) exactly; floats go through their decimal text."""
    try:
        value = Decimal(str(amount).strip().lstrip("$"))
    except (InvalidOperation, ValueError):
        raise InvalidRequest(
            f"'{param}' must be an amount in USD, e.g. 100.00.", param=param
        ) from None
    if not value.is_finite() or value <= 0:
        raise InvalidRequest(f"'{param}' must be a positive amount in USD.", param=param)
    micro = (value * MICRO_CENTS_PER_USD).to_integral_value(rounding=ROUND_HALF_UP)
    if micro > 10**17:
        raise InvalidRequest(f"'{param}' is too large.", param=param)
    return int(micro)


def fee_of(amount_micro_cents: int, percent: Decimal) -> int:
    return int((Decimal(amount_micro_cents) * percent / 100).to_integral_value(ROUND_HALF_UP))


# One statement, compiled once (SQLAlchemy caches text(); a dialect INSERT .. ON CONFLICT with
# the amounts inlined was compiled again for every charge). Same SQL on SQLite and PostgreSQL.
_WALLET_UPSERT_SQL = (
    "INSERT INTO wallets (account_id, balance_micro_cents, version, updated_at) "
    "VALUES (:account_id, :delta, 1, :now) "
    "ON CONFLICT (account_id) DO UPDATE SET "
    "balance_micro_cents = wallets.balance_micro_cents + :delta, "
    "version = wallets.version + 1, updated_at = :now "
    "RETURNING balance_micro_cents, version"
)
_WALLET_UPSERT = text(_WALLET_UPSERT_SQL)
_ENTRY_COLUMNS = (
    "id, account_id, kind, amount_micro_cents, fee_micro_cents, request_id, sub_account_id, "
    "tag, note, created_at"
)
_ENTRY_INSERT_SQL = f"INSERT INTO ledger_entries ({_ENTRY_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?)"


async def append(
    conn: AsyncConnection, db: Database, entries: Sequence[Entry]
) -> list[WalletState]:
    """Append entries and move each wallet by their sum, in the caller's transaction."""
    now = now_ms()
    await conn.execute(
        ledger_entries.insert(),
        [
            {
                "id": e.id or new_entry_id(),
                "account_id": e.account_id,
                "kind": e.kind,
                "amount_micro_cents": e.amount_micro_cents,
                "fee_micro_cents": e.fee_micro_cents,
                "request_id": e.request_id,
                "sub_account_id": e.sub_account_id,
                "tag": e.tag,
                "note": e.note,
                "created_at": e.created_at or now,
            }
            for e in entries
        ],
    )
    states = []
    for account_id, delta in _deltas(entries):
        params = {"account_id": account_id, "delta": delta, "now": now}
        balance, version = (await conn.execute(_WALLET_UPSERT, params)).one()
        states.append(WalletState(account_id, int(balance), int(version)))
    return states


def _deltas(entries: Sequence[Entry]) -> list[tuple[str, int]]:
    deltas: dict[str, int] = {}
    for e in entries:
        deltas[e.account_id] = deltas.get(e.account_id, 0) + e.amount_micro_cents
    return sorted(deltas.items())


def append_direct(conn: sqlite3.Connection, entries: Sequence[Entry]) -> list[WalletState]:
    """``append`` for the SQLite one-hop writer (store/sqlite_writer.py): the same rows and
    the same wallet statement, run on a plain sqlite3 connection inside its transaction."""
    now = now_ms()
    insert_rows(conn, _ENTRY_INSERT_SQL, [_row(e, now) for e in entries])
    return _move_wallets(conn, _deltas(entries), now)


def append_once(conn: sqlite3.Connection, entries: Sequence[Entry]) -> list[WalletState]:
    """``append_direct`` for journaled entries (ids set), safe to run twice for the same
    entries: those already in the ledger (applied by a recovery that raced their owner) are
    skipped and move no wallet. Returns the state of every entry's wallet."""
    now = now_ms()
    ids = [e.id for e in entries]
    marks = ",".join("?" * len(ids))
    there = {
        r[0] for r in conn.execute(f"SELECT id FROM ledger_entries WHERE id IN ({marks})", ids)
    }
    fresh = [e for e in entries if e.id not in there]
    if fresh:
        insert_rows(conn, _ENTRY_INSERT_SQL, [_row(e, now) for e in fresh])
    states = _move_wallets(conn, _deltas(fresh), now)
    moved = {s.account_id for s in states}
    for account_id in sorted({e.account_id for e in entries} - moved):
        found = conn.execute(
            "SELECT balance_micro_cents, version FROM wallets WHERE account_id = ?", (account_id,)
        ).fetchone()
        balance, version = found if found is not None else (0, 0)
        states.append(WalletState(account_id, int(balance), int(version)))
    return states


def _row(e: Entry, now: int) -> tuple[object, ...]:
    return (
        e.id or new_entry_id(),
        e.account_id,
        e.kind,
        e.amount_micro_cents,
        e.fee_micro_cents,
        e.request_id,
        e.sub_account_id,
        e.tag,
        e.note,
        e.created_at or now,
    )


def _move_wallets(
    conn: sqlite3.Connection, deltas: list[tuple[str, int]], now: int
) -> list[WalletState]:
    states = []
    for account_id, delta in deltas:
        params = {"account_id": account_id, "delta": delta, "now": now}
        balance, version = conn.execute(_WALLET_UPSERT_SQL, params).fetchone()
        states.append(WalletState(account_id, int(balance), int(version)))
    return states


async def top_up(
    db: Database,
    account: str,
    amount_micro_cents: int,
    *,
    fee_percent: Decimal,
    fee_mode: str,
    note: str | None = None,
) -> tuple[WalletState, int]:
    """Credit ``amount`` of usable credits; in ``topup`` fee mode the customer paid amount +
    fee, recorded as a top-up of the whole payment and a fee entry taking the fee back."""
    found = await require_account(db, account)
    fee = fee_of(amount_micro_cents, fee_percent) if fee_mode == "topup" else 0
    entries = [Entry(found.id, "topup", amount_micro_cents + fee, note=note)]
    if fee:
        entries.append(Entry(found.id, "topup_fee", -fee, fee_micro_cents=fee, note=note))
    async with db.write() as conn:
        (state,) = await append(conn, db, entries)
    return state, fee


async def adjust(db: Database, account: str, amount_micro_cents: int, note: str) -> WalletState:
    """A signed manual correction (refunds and goodwill credits, chargebacks)."""
    found = await require_account(db, account)
    kind = "refund" if amount_micro_cents > 0 else "adjustment"
    async with db.write() as conn:
        (state,) = await append(conn, db, [Entry(found.id, kind, amount_micro_cents, note=note)])
    return state


async def wallet_states(
    db: Database, since_ms: int = 0, *, account_id: str | None = None
) -> list[WalletState]:
    query = select(wallets.c.account_id, wallets.c.balance_micro_cents, wallets.c.version).where(
        wallets.c.updated_at >= since_ms
    )
    if account_id is not None:
        query = query.where(wallets.c.account_id == account_id)
    async with db.engine.connect() as conn:
        rows = await conn.execute(query)
        return [WalletState(r[0], int(r[1]), int(r[2])) for r in rows]


@dataclass(frozen=True, slots=True)
class Mismatch:
    account_id: str
    wallet_balance: int
    ledger_sum: int


async def verify(db: Database) -> tuple[int, list[Mismatch]]:
    """(accounts checked, mismatches): every wallet must equal the sum of its entries."""
    async with db.engine.connect() as conn:
        summed = await conn.execute(
            select(
                ledger_entries.c.account_id, func.sum(ledger_entries.c.amount_micro_cents)
            ).group_by(ledger_entries.c.account_id)
        )
        sums: dict[str, int] = {row[0]: int(row[1] or 0) for row in summed}
        rows = await conn.execute(select(wallets.c.account_id, wallets.c.balance_micro_cents))
        balances: dict[str, int] = {row[0]: int(row[1]) for row in rows}
    mismatches = [
        Mismatch(account, balances.get(account, 0), sums.get(account, 0))
        for account in sorted(set(sums) | set(balances))
        if balances.get(account, 0) != sums.get(account, 0)
    ]
    return len(set(sums) | set(balances)), mismatches


async def entries_for(db: Database, account_id: str, kinds: Iterable[str] = KINDS) -> list[Entry]:
    async with db.engine.connect() as conn:
        rows = await conn.execute(
            select(ledger_entries)
            .where(ledger_entries.c.account_id == account_id)
            .where(ledger_entries.c.kind.in_(list(kinds)))
            .order_by(ledger_entries.c.created_at)
        )
        return [
            Entry(
                r.account_id,
                r.kind,
                int(r.amount_micro_cents),
                int(r.fee_micro_cents),
                r.request_id,
                r.sub_account_id,
                r.tag,
                r.note,
            )
            for r in rows
        ]
