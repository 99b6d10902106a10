"""The in-memory wallet: reservations are atomic, caps hold, settling moves money once."""

from __future__ import annotations

import pytest

from aigw.billing.ledger import WalletState
from aigw.billing.wallet import Wallets
from aigw.errors import BudgetExceeded, InsufficientCredits

USD = 100_000_000


def _wallets(balance: int) -> Wallets:
    wallets = Wallets()
    wallets.apply(WalletState("acct_a", balance, 1))
    return wallets


def test_reserve_until_the_balance_is_held_then_402() -> None:
    wallets = _wallets(10 * USD)
    held = [wallets.reserve("acct_a", 3 * USD) for _ in range(3)]
    with pytest.raises(InsufficientCredits) as info:
        wallets.reserve("acct_a", 2 * USD)
    assert info.value.status == 402 and info.value.retry_after is None
    assert "$1.00" in info.value.message  # what is still available
    wallets.release(held[0])
    wallets.reserve("acct_a", 2 * USD)


def test_settle_charges_the_actual_cost_and_releases_the_rest() -> None:
    wallets = _wallets(10 * USD)
    r = wallets.reserve("acct_a", 4 * USD)
    wallets.settle(r, 1 * USD)
    assert wallets.view("acct_a") == (10 * USD, 1 * USD, 0)
    wallets.settle(r, 1 * USD)  # twice is a no-op
    wallets.release(r)
    assert wallets.view("acct_a") == (10 * USD, 1 * USD, 0)
    wallets.committed("acct_a", 1 * USD, WalletState("acct_a", 9 * USD, 2))
    assert wallets.view("acct_a") == (9 * USD, 0, 0)


def test_older_wallet_versions_never_overwrite_newer() -> None:
    wallets = _wallets(10 * USD)
    wallets.apply(WalletState("acct_a", 20 * USD, 3))
    wallets.apply(WalletState("acct_a", 15 * USD, 2))
    assert wallets.view("acct_a")[0] == 20 * USD


def test_monthly_cap_gives_budget_exceeded_with_amounts() -> None:
    wallets = _wallets(1000 * USD)
    cap = wallets.cap("sub:1", "sub-account 'acme'", 500_00)  # $500.00 in cents
    r = wallets.reserve("acct_a", 400 * USD, (cap,))
    wallets.settle(r, 503 * USD + 12_000_000)
    with pytest.raises(BudgetExceeded) as info:
        wallets.reserve("acct_a", 1, (cap,))
    assert info.value.status == 402 and info.value.type == "budget_exceeded"
    assert "Monthly spend cap of $500.00" in info.value.message
    assert "(spent $503.12)" in info.value.message
    assert info.value.retry_after is None


def test_free_calls_fit_an_empty_wallet_and_enforce_off_never_refuses() -> None:
    wallets = _wallets(0)
    wallets.reserve("acct_a", 0)
    off = Wallets(enforce=False)
    off.reserve("acct_b", 10 * USD)
