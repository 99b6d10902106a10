"""Unique ids for hot-path rows (request ids, ledger entries) without a syscall each.

``secrets.token_hex`` reads ``os.urandom`` on every call: a syscall per id, measurable on a
path that makes two of them per request. These ids only need to be unique, not secret, so
each process draws a 64-bit random prefix once and appends a 32-bit counter: the same 24 hex
digits as ``token_hex(12)``. The prefix is drawn again when the counter wraps and in a forked
child, so two processes (or one process twice) never share a prefix by construction.

An id is one C-level step: ``next`` on a ``map`` of ``(prefix + "%08x").__mod__`` over the
range of the prefix's 2**32 counter values; no Python frame runs per id beyond this module's
function, and under the GIL two threads never get the same one.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator

_COUNTER_LIMIT = 1 << 32

_ids: Iterator[str] = iter(())


def _reseed() -> None:
    """A new random prefix and a counter from 0 (at import, on wrap, in a forked child)."""
    global _ids
    _ids = map((secrets.token_hex(8) + "%08x").__mod__, range(_COUNTER_LIMIT))


_reseed()
os.register_at_fork(after_in_child=_reseed)


def unique_hex24() -> str:
    """24 lowercase hex digits, unique across processes and calls (not unpredictable)."""
    try:
        return next(_ids)
    except StopIteration:  # this prefix's 2**32 ids are used up
        _reseed()
        return next(_ids)
