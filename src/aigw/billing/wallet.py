"""Balances, reservations and monthly caps held in memory: the hot path's view of money.

Reserving and settling are synchronous (no ``await``), so on one event loop they are atomic:
concurrent requests can never reserve the same credits twice. The database ledger stays the
truth; this view is loaded from it at start-up, moved by this process's own charges as they
are committed, and refreshed from the wallet rows (ordered by version) so top-ups made by
other processes arrive within seconds.

    available = committed balance − settled-but-uncommitted charges − open reservations
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from aigw.billing.ledger import WalletState
from aigw.billing.pricing import MICRO_CENTS_PER_CENT
from aigw.errors import BudgetExceeded, InsufficientCredits


def current_month() -> str:
    return time.strftime("%Y-%m", time.gmtime())


def usd(micro_cents: int) -> str:
    return f"${micro_cents / 100_000_000:,.2f}"


@dataclass(slots=True)
class _Balance:
    committed: int = 0
    version: int = 0
    uncommitted: int = 0
    reserved: int = 0

    @property
    def available(self) -> int:
        return self.committed - self.uncommitted - self.reserved


@dataclass(slots=True)
class Cap:
    """A monthly spend cap: a sub-account's, or a tag budget's."""

    key: str
    label: str  # how the 402 message names it
    limit: int | None  # micro-cents; None = no cap
    month: str = field(default_factory=current_month)
    spent: int = 0
    reserved: int = 0

    def roll(self) -> None:
        month = current_month()
        if month != self.month:
            self.month, self.spent = month, 0


@dataclass(slots=True)
class Reservation:
    account_id: str
    amount: int
    caps: tuple[Cap, ...] = ()
    open: bool = True
    hold: str = ""  # the shared store's id for this reservation (SharedWallets only)


class Wallets:
    def __init__(self, *, enforce: bool = True) -> None:
        self.enforce = enforce
        self._balances: dict[str, _Balance] = {}
        self._caps: dict[str, Cap] = {}

    def _balance(self, account_id: str) -> _Balance:
        """The account's live balance, made on first use (``setdefault`` would build a
        throwaway ``_Balance`` on each of the four calls a request makes)."""
        found = self._balances.get(account_id)
        if found is None:
            found = self._balances[account_id] = _Balance()
        return found

    # -- the hot path -------------------------------------------------------------------

    def reserve(self, account_id: str, amount: int, caps: tuple[Cap, ...] = ()) -> Reservation:
        """Hold ``amount`` against the balance and every cap, or raise 402."""
        balance = self._balance(account_id)
        if self.enforce and amount > 0 and balance.available < amount:
            raise InsufficientCredits(
                f"Insufficient credits: this request may cost up to {usd(amount)} and the "
                f"balance available is {usd(max(0, balance.available))}. Top up to continue."
            )
        for cap in caps:
            cap.roll()
            if cap.limit is not None and cap.spent + cap.reserved + amount > cap.limit:
                raise BudgetExceeded(
                    f"Monthly spend cap of {usd(cap.limit)} for {cap.label} reached "
                    f"(spent {usd(cap.spent)})."
                )
        balance.reserved += amount
        for cap in caps:
            cap.reserved += amount
        return Reservation(account_id, amount, caps)

    def settle(self, reservation: Reservation, charged: int) -> None:
        """Turn a reservation into a charge awaiting its commit (``committed`` below)."""
        if not reservation.open:
            return
        self.release(reservation)
        self._balance(reservation.account_id).uncommitted += charged
        for cap in reservation.caps:
            cap.spent += charged

    def release(self, reservation: Reservation) -> None:
        if not reservation.open:
            return
        reservation.open = False
        balance = self._balance(reservation.account_id)
        balance.reserved -= reservation.amount
        for cap in reservation.caps:
            cap.reserved -= reservation.amount

    # -- keeping the view true ------------------------------------------------------------

    def committed(self, account_id: str, charged: int, state: WalletState) -> None:
        """This process's charge reached the database; ``state`` is the wallet row after it."""
        balance = self._balance(account_id)
        balance.uncommitted -= charged
        self.apply(state)

    def apply(self, state: WalletState) -> None:
        """A wallet row read from the database; older versions than known are ignored."""
        balance = self._balance(state.account_id)
        if state.version > balance.version:
            balance.committed, balance.version = state.balance_micro_cents, state.version

    def cap(self, key: str, label: str, limit_cents: int | None) -> Cap:
        """The live cap for ``key`` with its limit updated (spend survives limit changes)."""
        found = self._caps.get(key)
        limit = None if limit_cents is None else limit_cents * MICRO_CENTS_PER_CENT
        if found is None:
            found = self._caps[key] = Cap(key, label, limit)
        found.label, found.limit = label, limit
        return found

    def load_spend(self, key: str, month: str, spent: int) -> None:
        cap = self._caps.setdefault(key, Cap(key, key, None))
        cap.month, cap.spent = month, spent

    def refund_spend(self, key: str, amount: int) -> None:
        """A refund of spend counted under a cap this month (a failed job's charge)."""
        cap = self._caps.get(key)
        if cap is not None:
            cap.roll()
            cap.spent = max(0, cap.spent - amount)

    def drop_cap(self, key: str) -> None:
        self._caps.pop(key, None)

    # -- reporting ----------------------------------------------------------------------

    def view(self, account_id: str) -> tuple[int, int, int]:
        """(committed balance, uncommitted charges, reserved) for one account."""
        b = self._balances.get(account_id) or _Balance()
        return b.committed, b.uncommitted, b.reserved
