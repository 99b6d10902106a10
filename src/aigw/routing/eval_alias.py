"""``model: "eval:<run_id>"``: route to the winner of one of the account's eval runs.

A finished run never changes, so its winner is cached in memory after the first look-up;
runs still running (or unknown) are looked up again on every use. The look-up itself is
injected (evals/store.py), so routing does not depend on the store.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aigw.errors import Conflict, ModelNotFound


@dataclass(frozen=True, slots=True)
class RunInfo:
    account_id: str
    status: str  # running | completed | failed
    winner: str | None


Lookup = Callable[[str], Awaitable[RunInfo | None]]
MAX_CACHED = 10_000


class EvalAliases:
    def __init__(self, lookup: Lookup) -> None:
        self._lookup = lookup
        self._done: dict[str, RunInfo] = {}

    def remember(self, run_id: str, info: RunInfo) -> None:
        if info.status != "running":
            if len(self._done) >= MAX_CACHED:
                self._done.pop(next(iter(self._done)))
            self._done[run_id] = info

    async def resolve(self, run_id: str, account_id: str) -> str:
        """The winner's model id; 404 for an unknown run or another account's, 409 for a
        run without a winner (still running, or failed)."""
        info = self._done.get(run_id)
        if info is None:
            info = await self._lookup(run_id) if run_id else None
            if info is not None:
                self.remember(run_id, info)
        if info is None or info.account_id != account_id:
            raise ModelNotFound(f"No eval run {run_id!r} in this account.", param="model")
        if info.status == "running":
            raise Conflict(
                f"Eval run {run_id!r} is still running; it has no winner yet.", param="model"
            )
        if info.winner is None:
            raise Conflict(f"Eval run {run_id!r} {info.status} without a winner.", param="model")
        return info.winner
