"""Billing as the request path sees it: reserve before the upstream call, charge after.

Holds the in-memory wallets, the definitions of sub-account caps and tag budgets, and the
charge writer (charges.py); keeps them fresh from the database on a timer (top-ups, new caps
and budgets made through other processes arrive within ``refresh_seconds``). The spend
controls' own reads are in controls.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from aigw.auth.keys import KeyInfo
from aigw.billing import controls, ledger
from aigw.billing.charges import ChargeWriter
from aigw.billing.controls import BudgetInfo, SubAccountInfo, sub_key, tag_key
from aigw.billing.estimate import max_output_tokens
from aigw.billing.ledger import Entry, fee_of
from aigw.billing.shared_wallet import SharedWallets
from aigw.billing.wallet import Cap, Reservation, Wallets, current_month
from aigw.errors import ServiceUnavailable
from aigw.store.db import Database
from aigw.store.tables import now_ms

if TYPE_CHECKING:
    from aigw.catalog.models import Model
    from aigw.config import Settings

log = logging.getLogger("aigw.billing")


class Billing:
    def __init__(
        self,
        db: Database,
        *,
        enabled: bool = True,
        fee_percent: Decimal = Decimal(5),
        fee_mode: str = "topup",
        byok_fee_per_1m: Decimal = Decimal(0),
        refresh_seconds: float = 2.0,
        redis_url: str | None = None,
        redis_timeout: float = 0.25,
        hold_ttl: float = 900.0,
        charge_journal: bool = True,
    ) -> None:
        self.db = db
        self.enabled = enabled
        self.fee_percent = fee_percent
        self.fee_mode = fee_mode
        self.byok_fee_per_1m = byok_fee_per_1m
        self.wallets = Wallets(enforce=enabled)  # caps' definitions; balances when local
        self.shared: SharedWallets | None = None
        if redis_url:
            self.shared = SharedWallets(
                redis_url,
                enforce=enabled,
                load_balance=self._balance_of,
                load_spend=self._spend_of,
                hold_ttl=hold_ttl,
                timeout=redis_timeout,
            )
        self.charges = ChargeWriter(db, self._committed, journal=charge_journal)
        # Reservations held by requests in flight (reserved, not yet settled or released):
        # when none is left at a commit, the charge is written without waiting for a group.
        self.open_reservations = 0
        self.sub_accounts: dict[str, SubAccountInfo] = {}
        self.budgets: dict[tuple[str, str], BudgetInfo] = {}
        self._refresh_seconds = refresh_seconds
        self._task: asyncio.Task[None] | None = None
        self._seen_ms = 0
        # Spend controls this process changed itself (its API handlers write the row, then
        # tell this object), each with the running count of such changes: a refresh whose
        # read began before a change must not put its older row back over it. The next
        # refresh reads the row again.
        self._local_changes = 0
        self._changed: dict[tuple[str, ...], int] = {}
        # Told the account id whenever a wallet moves (webhooks/alerts.py); must not do I/O.
        self.on_change: Callable[[str], None] | None = None

    # -- lifecycle ----------------------------------------------------------------------

    async def start(self) -> None:
        await self.charges.recover()  # a crashed process's journaled charges, before balances
        await self.reload()
        await self.charges.start()
        self._task = asyncio.create_task(self._run(), name="aigw-billing-refresh")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.charges.close()
        if self.shared is not None:
            await self.shared.close()

    async def reload(self) -> None:
        started = now_ms()
        mark = self._local_changes
        for state in await ledger.wallet_states(self.db):
            await self._apply(state)
        await self._load_controls(0, mark)
        await self._load_month_spend()
        self._seen_ms = started

    async def refresh(self) -> None:
        await self.charges.recover()  # a sibling process that died: its wallet rows move now
        started = now_ms()
        mark = self._local_changes  # changes after this are newer than what is read below
        since = self._seen_ms - 5000  # overlap: clocks and commit order are not exact
        for state in await ledger.wallet_states(self.db, since):
            await self._apply(state)
        await self._load_controls(since, mark)
        await self._drop_deleted_budgets()
        self._changed = {k: n for k, n in self._changed.items() if n > mark}
        self._seen_ms = started

    def _touch(self, key: tuple[str, ...]) -> None:
        self._local_changes += 1
        self._changed[key] = self._local_changes

    def _newer_here(self, key: tuple[str, ...], mark: int) -> bool:
        """Changed by this process after a read that began at ``mark``."""
        return self._changed.get(key, 0) > mark

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._refresh_seconds)
            try:
                await self.refresh()
            except Exception:
                log.exception("billing refresh failed; retrying next tick")

    async def _load_controls(self, since_ms: int, mark: int) -> None:
        changed = await controls.changed_since(self.db, since_ms)
        for sub_id, sub in changed.sub_accounts.items():
            if self._newer_here(("sub", sub_id), mark):
                continue
            if sub is None:
                self._forget_sub_account(sub_id)
            else:
                self._remember_sub_account(sub)
        for (account_id, tag), budget in changed.budgets.items():
            if not self._newer_here(("budget", account_id, tag), mark):
                self._remember_budget(budget)

    async def _load_month_spend(self) -> None:
        month = current_month()
        for cap_key, spent in (await controls.month_spend(self.db, month)).items():
            self.wallets.load_spend(cap_key, month, spent)

    # -- spend controls -------------------------------------------------------------------

    # The public four are what this process's own changes call (API handlers, after writing
    # the row); refreshes use the private ones and skip what changed here meanwhile.

    def remember_sub_account(self, sub: SubAccountInfo) -> None:
        self._touch(("sub", sub.id))
        self._remember_sub_account(sub)

    def forget_sub_account(self, sub_id: str) -> None:
        self._touch(("sub", sub_id))
        self._forget_sub_account(sub_id)

    def remember_budget(self, budget: BudgetInfo) -> None:
        self._touch(("budget", budget.account_id, budget.tag))
        self._remember_budget(budget)

    def forget_budget(self, account_id: str, tag: str) -> None:
        self._touch(("budget", account_id, tag))
        self._forget_budget(account_id, tag)

    def _remember_sub_account(self, sub: SubAccountInfo) -> None:
        self.sub_accounts[sub.id] = sub
        self.wallets.cap(sub_key(sub.id), f"sub-account {sub.name!r}", sub.spend_cap_cents)

    def _forget_sub_account(self, sub_id: str) -> None:
        self.sub_accounts.pop(sub_id, None)

    def _remember_budget(self, budget: BudgetInfo) -> None:
        self.budgets[(budget.account_id, budget.tag)] = budget
        self.wallets.cap(
            tag_key(budget.account_id, budget.tag), f"tag {budget.tag!r}", budget.monthly_cap_cents
        )

    def _forget_budget(self, account_id: str, tag: str) -> None:
        self.budgets.pop((account_id, tag), None)
        self.wallets.cap(tag_key(account_id, tag), f"tag {tag!r}", None)

    async def adopt_budget(self, budget: BudgetInfo) -> None:
        """Remember a budget; when it is new here, count this month's earlier spend on its tag
        (charges made before the budget existed moved no cap in this process)."""
        if (budget.account_id, budget.tag) not in self.budgets:
            month = current_month()
            cap_key = tag_key(budget.account_id, budget.tag)
            self.wallets.load_spend(cap_key, month, await self._cap_spend(cap_key, month))
        self.remember_budget(budget)

    async def _drop_deleted_budgets(self) -> None:
        """Budgets are deleted outright (no tombstone to follow), so compare the small set of
        ids that still exist; one changed meanwhile (a new object, or gone) is left alone."""
        known = dict(self.budgets)
        if not known:
            return
        ids = await controls.budget_ids(self.db)
        for key, budget in known.items():
            if budget.id not in ids and self.budgets.get(key) is budget:
                self._forget_budget(*key)

    def sub_rpm(self, key: KeyInfo) -> int | None:
        """The requests-per-minute limit of the key's sub-account, if any."""
        sub = self.sub_accounts.get(key.sub_account_id) if key.sub_account_id else None
        return sub.rate_limit_rpm if sub else None

    def default_tag(self, key: KeyInfo) -> str | None:
        sub = self.sub_accounts.get(key.sub_account_id) if key.sub_account_id else None
        return sub.default_tag if sub else None

    # -- the shared store -------------------------------------------------------------------

    async def _apply(self, state: ledger.WalletState) -> None:
        self.wallets.apply(state)
        if self.on_change is not None:
            self.on_change(state.account_id)
        if self.shared is not None:
            try:
                await self.shared.apply(state)
            except ServiceUnavailable:
                log.error("could not mirror the balance of %s to Redis", state.account_id)

    async def _balance_of(self, account_id: str) -> ledger.WalletState:
        await self.charges.drain()  # this process's journaled charges first
        found = await ledger.wallet_states(self.db, account_id=account_id)
        return found[0] if found else ledger.WalletState(account_id, 0, 0)

    async def _spend_of(self, cap: Cap) -> int:
        """This month's committed charges under a cap, less their refunds, from the ledger."""
        return await self._cap_spend(cap.key, current_month())

    async def _cap_spend(self, cap_key: str, month: str) -> int:
        await self.charges.drain()  # this process's journaled charges first
        return await controls.cap_spend(self.db, cap_key, month)

    async def _committed(
        self, entry: Entry, reservation: Reservation | None, state: ledger.WalletState
    ) -> None:
        charged = -entry.amount_micro_cents
        if self.on_change is not None:
            self.on_change(entry.account_id)
        if self.shared is not None and reservation is not None:
            await self.shared.committed(reservation, charged, state)
            self.wallets.apply(state)
        else:
            self.wallets.committed(entry.account_id, charged, state)

    async def balance_view(self, account_id: str) -> tuple[int, int, int]:
        """(committed balance, settled but uncommitted, reserved) for reports."""
        if self.shared is not None:
            committed, held = await self.shared.view(account_id)
            return committed, 0, held
        return self.wallets.view(account_id)

    # -- the request path -----------------------------------------------------------------

    async def reserve(self, key: KeyInfo, amount: int, tag: str | None) -> Reservation | None:
        """Hold the request's maximum cost; raises 402. None when billing is off."""
        if not self.enabled:
            return None
        caps: list[Cap] = []
        if key.sub_account_id and key.sub_account_id in self.sub_accounts:
            sub = self.sub_accounts[key.sub_account_id]
            caps.append(
                self.wallets.cap(sub_key(sub.id), f"sub-account {sub.name!r}", sub.spend_cap_cents)
            )
        if tag is not None and (key.account_id, tag) in self.budgets:
            budget = self.budgets[(key.account_id, tag)]
            caps.append(
                self.wallets.cap(
                    tag_key(key.account_id, tag), f"tag {tag!r}", budget.monthly_cap_cents
                )
            )
        if self.shared is not None:
            held = await self.shared.reserve(key.account_id, amount, tuple(caps))
        else:
            held = self.wallets.reserve(key.account_id, amount, tuple(caps))
        self.open_reservations += 1
        return held

    def charge_for(self, cost: int, *, byok: bool, total_tokens: int) -> tuple[int, int]:
        """(amount the wallet pays, platform fee inside it) for a call that cost ``cost``."""
        if byok:
            # $ per 1M tokens is 100 µ¢ per token per dollar.
            fee = int((total_tokens * self.byok_fee_per_1m * 100).to_integral_value(ROUND_HALF_UP))
            return fee, fee
        fee = fee_of(cost, self.fee_percent) if self.fee_mode == "per_call" else 0
        return cost + fee, fee

    def byok_ceiling(
        self, model: Model, body: dict[str, Any], prompt_tokens: int, settings: Settings
    ) -> int:
        """Most a BYOK call can cost from the wallet: only the BYOK fee, if any."""
        if not self.byok_fee_per_1m:
            return 0
        tokens = prompt_tokens + max_output_tokens(model, body, settings)
        return self.charge_for(0, byok=True, total_tokens=tokens)[0]

    async def settle(
        self,
        reservation: Reservation | None,
        key: KeyInfo,
        *,
        request_id: str,
        charged: int,
        fee: int,
        tag: str | None,
    ) -> Entry | None:
        """Settle in memory; the returned entry must then be passed to ``commit``."""
        if reservation is None:
            return None
        self.open_reservations -= 1
        if self.shared is not None:
            if charged == 0:
                await self.shared.release(reservation)
                return None
            await self.shared.settle(reservation, charged)
        else:
            self.wallets.settle(reservation, charged)
        if charged == 0:
            return None
        return Entry(
            key.account_id,
            "charge",
            -charged,
            fee_micro_cents=fee,
            request_id=request_id,
            sub_account_id=key.sub_account_id,
            tag=tag,
        )

    async def release(self, reservation: Reservation | None) -> None:
        if reservation is None:
            return
        self.open_reservations -= 1
        if self.shared is not None:
            await self.shared.release(reservation)
        else:
            self.wallets.release(reservation)

    async def commit(self, entry: Entry | None, reservation: Reservation | None = None) -> None:
        if entry is not None:
            # Nobody else holds a reservation: no group commit is coming to join.
            alone = self.open_reservations <= 0
            await self.charges.commit(entry, reservation, alone=alone)

    def commit_soon(self, entry: Entry | None, reservation: Reservation | None = None) -> None:
        """``commit`` without the wait: for answers that must not wait on the database (cache
        hits). The charge is already in the live balance; the ledger row follows."""
        if entry is not None:
            self.charges.submit(entry, reservation)

    async def committed_elsewhere(
        self, entry: Entry, reservation: Reservation | None, state: ledger.WalletState
    ) -> None:
        """A settled charge the caller appended in its own transaction (a job with its
        charge); ``state`` is the wallet row after it."""
        await self._committed(entry, reservation, state)

    async def credited(self, state: ledger.WalletState, refund: Entry | None = None) -> None:
        """A credit appended elsewhere: show the new balance now. A refund of a charge made
        under a sub-account or tag (a failed job's) also gives that spend back to its caps."""
        await self._apply(state)
        if refund is None or refund.kind != "refund":
            return
        keys = []
        if refund.sub_account_id:
            keys.append(sub_key(refund.sub_account_id))
        if refund.tag:
            keys.append(tag_key(refund.account_id, refund.tag))
        for cap_key in keys:
            self.wallets.refund_spend(cap_key, refund.amount_micro_cents)
            if self.shared is not None:
                try:
                    await self.shared.refund_spend(cap_key, refund.amount_micro_cents)
                except ServiceUnavailable:
                    log.error("could not give a refund back to cap %s in Redis", cap_key)
