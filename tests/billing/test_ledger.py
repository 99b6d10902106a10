"""The ledger on SQLite and PostgreSQL: top-ups with the fee, adjustments, verification."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import update

from aigw.billing import ledger
from aigw.errors import InvalidRequest, NotFound
from aigw.store.accounts import create_account
from aigw.store.db import Database
from aigw.store.tables import wallets

USD = 100_000_000


async def test_top_up_records_payment_and_fee_and_credits_the_amount(database: Database) -> None:
    account = await create_account(database, "acme")
    state, fee = await ledger.top_up(
        database, "acme", 100 * USD, fee_percent=Decimal(5), fee_mode="topup"
    )
    assert fee == 5 * USD
    assert state.balance_micro_cents == 100 * USD
    entries = await ledger.entries_for(database, account.id)
    assert [(e.kind, e.amount_micro_cents) for e in entries] == [
        ("topup", 105 * USD),
        ("topup_fee", -5 * USD),
    ]
    assert await ledger.verify(database) == (1, [])


async def test_per_call_fee_mode_takes_no_fee_at_top_up(database: Database) -> None:
    await create_account(database, "acme")
    state, fee = await ledger.top_up(
        database, "acme", 10 * USD, fee_percent=Decimal(5), fee_mode="per_call"
    )
    assert fee == 0 and state.balance_micro_cents == 10 * USD


async def test_adjustments_and_versions(database: Database) -> None:
    await create_account(database, "acme")
    first, _ = await ledger.top_up(database, "acme", USD, fee_percent=Decimal(0), fee_mode="topup")
    second = await ledger.adjust(database, "acme", -USD // 4, "chargeback")
    assert second.balance_micro_cents == 3 * USD // 4
    assert second.version > first.version
    assert await ledger.verify(database) == (1, [])


async def test_verify_finds_a_tampered_wallet(database: Database) -> None:
    account = await create_account(database, "acme")
    await ledger.top_up(database, "acme", USD, fee_percent=Decimal(5), fee_mode="topup")
    async with database.engine.begin() as conn:
        await conn.execute(update(wallets).values(balance_micro_cents=2 * USD))
    checked, mismatches = await ledger.verify(database)
    assert checked == 1
    assert mismatches == [ledger.Mismatch(account.id, 2 * USD, USD)]


async def test_unknown_account(database: Database) -> None:
    with pytest.raises(NotFound):
        await ledger.top_up(database, "ghost", USD, fee_percent=Decimal(5), fee_mode="topup")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("100", 100 * USD), ("12.50", 1250 * 1_000_000), (7, 7 * USD), ("$0.000001", 100)],
)
def test_usd_amounts_parse_exactly(raw: object, expected: int) -> None:
    assert ledger.usd_to_micro_cents(raw) == expected


@pytest.mark.parametrize("raw", ["", "abc", "-5", "0", "nan", "inf", "1e30"])
def test_bad_amounts_name_the_field(raw: str) -> None:
    with pytest.raises(InvalidRequest) as info:
        ledger.usd_to_micro_cents(raw)
    assert info.value.param == "amount"
