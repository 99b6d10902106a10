from __future__ import annotations

import asyncio
import calendar
from decimal import Decimal
from typing import Any

from aigw.billing import ledger
from aigw.billing.ledger import Entry
from aigw.store import usage
from aigw.store.accounts import create_account
from aigw.store.db import Database
from aigw.store.request_log import RequestLogEntry
from aigw.store.tables import request_log


def _ms(text: str) -> int:
    """'2026-04-01 00:00:00.000' (UTC) as unix ms."""
    stamp, _, millis = text.partition(".")
    date, time_of_day = stamp.split()
    parts = [int(p) for p in date.split("-") + time_of_day.split(":")]
    return calendar.timegm((*parts,)) * 1000 + int(millis or 0)


def _row(rid: str, at: str, **values: Any) -> dict[str, Any]:
    entry = RequestLogEntry(
        id=rid,
        created_at=_ms(at),
        account_id=values.pop("account_id", "acct_a"),
        key_id="key_1",
        tag=values.pop("tag", None),
        model=values.pop("model", "m1"),
        provider="sim",
        status=values.pop("status", 200),
        prompt_tokens=10,
        completion_tokens=20,
        cached_tokens=1,
        reasoning_tokens=2,
        latency_ms=1.0,
        **values,
    )
    return {f: getattr(entry, f) for f in entry.__dataclass_fields__}


ROWS = [
    _row("r1", "2026-03-31 23:59:59.999", tag="t1", sub_account_id="s1", cost_micro_cents=100),
    _row("r2", "2026-04-01 00:00:00.000", tag="t1", sub_account_id="s1", cost_micro_cents=200),
    _row("r3", "2026-04-15 12:00:00.000", model="m2", cost_micro_cents=50, byok=True),
    _row("r4", "2026-04-30 23:59:59.999", model="m2", tag="t2", sub_account_id="s2", status=500),
    _row("r5", "2026-05-01 00:00:00.000", tag="t1", sub_account_id="s1", cost_micro_cents=1000),
    _row("b1", "2026-04-10 00:00:00.000", account_id="acct_b", tag="t1", cost_micro_cents=999),
]


async def _seed(db: Database) -> None:
    for row in ROWS:  # what the wallet paid: the price, except for BYOK calls
        row["charged_micro_cents"] = 0 if row["byok"] else row["cost_micro_cents"]
    async with db.engine.begin() as conn:
        await conn.execute(request_log.insert(), ROWS)


def test_month_range_covers_exactly_the_month() -> None:
    assert usage.month_range_ms("2026-04") == (_ms("2026-04-01 00:00:00"), _ms("2026-05-01 0:0:0"))
    assert usage.month_range_ms("2026-12") == (_ms("2026-12-01 00:00:00"), _ms("2027-01-01 0:0:0"))
    assert usage.day_start_ms(_ms("2026-04-15 12:34:56.789")) == _ms("2026-04-15 00:00:00")


async def test_by_tag_and_by_sub_account_take_the_calendar_month(database: Database) -> None:
    await _seed(database)
    tags = await usage.by_tag(database, "acct_a", "2026-04")
    assert [(t, x.requests, x.cost_micro_cents, x.errors) for t, x in tags] == [
        ("t1", 1, 200, 0),
        (None, 1, 50, 0),
        ("t2", 1, 0, 1),
    ]
    (untagged,) = [x for t, x in tags if t is None]
    assert untagged.charged_micro_cents == 0, "BYOK: logged with its cost, not charged"
    assert (untagged.prompt_tokens, untagged.total_tokens, untagged.reasoning_tokens) == (10, 30, 2)
    only_s1 = await usage.by_tag(database, "acct_a", "2026-04", sub_account_id="s1")
    assert [(t, x.requests) for t, x in only_s1] == [("t1", 1)]
    subs = await usage.by_sub_account(database, "acct_a", "2026-04")
    assert [(s, x.requests, x.cost_micro_cents) for s, x in subs] == [("s1", 1, 200), ("s2", 1, 0)]
    assert await usage.by_tag(database, "acct_a", "2026-02") == []


async def test_breakdown_folds_models_and_days(database: Database) -> None:
    await _seed(database)
    found = await usage.breakdown(database, "acct_a", since_ms=_ms("2026-04-01 00:00:00"))
    assert found.summary.requests == 4 and found.summary.errors == 1
    assert found.summary.cost_micro_cents == 200 + 50 + 1000
    assert found.summary.completion_tokens == 80
    assert [(m, x.requests, x.cost_micro_cents) for m, x in found.by_model] == [
        ("m1", 2, 1200),
        ("m2", 2, 50),
    ]
    assert [(d, x.requests) for d, x in found.by_day] == [
        ("2026-04-01", 1),
        ("2026-04-15", 1),
        ("2026-04-30", 1),
        ("2026-05-01", 1),
    ]
    s1 = await usage.breakdown(database, "acct_a", since_ms=0, sub_account_id="s1")
    assert [d for d, _ in s1.by_day] == ["2026-03-31", "2026-04-01", "2026-05-01"]
    assert s1.summary.cost_micro_cents == 1300
    empty = await usage.breakdown(database, "acct_nobody", since_ms=0)
    assert empty.summary == usage.Totals() and empty.by_model == [] and empty.by_day == []


async def test_recent_is_newest_first_and_scoped(database: Database) -> None:
    await _seed(database)
    assert [e.id for e in await usage.recent(database, "acct_a", limit=2)] == ["r5", "r4"]
    only = await usage.recent(database, "acct_a", limit=10, sub_account_id="s2")
    assert [(e.id, e.status, e.model) for e in only] == [("r4", 500, "m2")]
    assert [e.id for e in await usage.recent(database, "acct_b", limit=10)] == ["b1"]


async def test_spend_and_top_ups_come_from_the_ledger(database: Database) -> None:
    acme = await create_account(database, "acme")
    other = await create_account(database, "other")
    await ledger.top_up(database, "acme", 10_000, fee_percent=Decimal(5), fee_mode="topup")
    await asyncio.sleep(0.002)
    await ledger.top_up(database, "acme", 2_000, fee_percent=Decimal(5), fee_mode="topup")
    await ledger.top_up(database, "other", 7_000, fee_percent=Decimal(5), fee_mode="topup")
    charges = [
        Entry(acme.id, "charge", -30, sub_account_id="s1", tag="t1"),
        Entry(acme.id, "charge", -5, tag="t2"),
        Entry(acme.id, "charge", -7),
        Entry(other.id, "charge", -1000, tag="t1"),
    ]
    async with database.write() as conn:
        await ledger.append(conn, database, charges)

    assert await usage.spent_since(database, acme.id, 0) == 42
    assert await usage.spent_since(database, acme.id, 0, sub_account_id="s1") == 30
    assert await usage.spent_since(database, acme.id, 2**50) == 0
    assert await usage.spent_by_tag(database, acme.id, 0) == {"t1": 30, "t2": 5}
    assert await usage.spent_by_tag(database, acme.id, 0, ["t2", "t9"]) == {"t2": 5}

    top_ups = await usage.last_top_ups(database, acme.id)
    assert [(t.credits_micro_cents, t.fee_micro_cents, t.paid_micro_cents) for t in top_ups] == [
        (2_000, 100, 2_100),
        (10_000, 500, 10_500),
    ]
    assert len(await usage.last_top_ups(database, acme.id, 1)) == 1
    assert await usage.last_top_ups(database, "acct_nobody") == []
