"""A refund gives spend back to a monthly cap held in Redis (shared by every replica)."""

from __future__ import annotations

import secrets

import pytest

from aigw.billing.ledger import WalletState
from aigw.billing.shared_wallet import SharedWallets
from aigw.billing.wallet import Cap
from aigw.errors import BudgetExceeded

pytestmark = pytest.mark.redis


async def test_refund_lowers_a_loaded_cap_spend_and_never_below_zero(redis_url: str) -> None:
    account = "acct_" + secrets.token_hex(6)
    cap = Cap("sub:sub_" + secrets.token_hex(6), "sub-account 'x'", limit=100)
    loads: list[str] = []

    async def load_balance(account_id: str) -> WalletState:
        return WalletState(account_id, 10_000, 1)

    async def load_spend(c: Cap) -> int:
        loads.append(c.key)
        return 0

    wallets = SharedWallets(
        redis_url, enforce=True, load_balance=load_balance, load_spend=load_spend
    )
    try:
        held = await wallets.reserve(account, 100, [cap])
        await wallets.settle(held, 100)
        await wallets.committed(held, 100, WalletState(account, 9_900, 2))
        with pytest.raises(BudgetExceeded):  # the cap is spent
            await wallets.reserve(account, 1, [cap])
        await wallets.refund_spend(cap.key, 60)
        again = await wallets.reserve(account, 60, [cap])  # 40 spent + 60 fits 100
        await wallets.release(again)
        await wallets.refund_spend(cap.key, 1_000)  # more than spent: floors at zero
        await wallets.release(await wallets.reserve(account, 100, [cap]))
        # A cap Redis does not hold yet is left alone: it loads from the ledger when used.
        await wallets.refund_spend("sub:never-loaded-" + secrets.token_hex(4), 5)
        assert loads == [cap.key]
    finally:
        await wallets.close()
