"""Unique ids for hot-path rows (request ids, ledger entries) without a syscall each.

``secrets.token_hex`` reads ``os.urandom`` on every call: a syscall per id, measurable on a
path that makes two of them per request. These ids only need to be unique, not secret, so
each process draws a 64-bit random prefix once and appends a 32-bit counter: the same 24 hex
digits as ``token_hex(12)``. The prefix is drawn again when the counter wraps and in a forked
child, so two processes (or one process twice) never share a prefix by construction.
"""

from __future__ import annotations

import itertools
import os
import secrets

_COUNTER_LIMIT = 1 << 32


class _State:
    __slots__ = ("counter", "prefix")

    def __init__(self) -> None:
        self.prefix = ""
        self.counter: itertools.count[int] = itertools.count()
        self.reseed()

    def reseed(self) -> None:
        self.prefix = secrets.token_hex(8)
        self.counter = itertools.count()


_state = _State()
os.register_at_fork(after_in_child=_state.reseed)


def unique_hex24() -> str:
    """24 lowercase hex digits, unique across processes and calls (not unpredictable)."""
    n = next(_state.counter)
    if n >= _COUNTER_LIMIT:
        _state.reseed()
        n = next(_state.counter)
    return f"{_state.prefix}{n:08x}"
