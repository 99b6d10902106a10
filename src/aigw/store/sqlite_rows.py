"""Insert many rows on SQLite with few statement steps: ``VALUES`` of many rows at a time.

Python's ``sqlite3`` lets go of the GIL around every ``sqlite3_step``, and ``executemany``
steps once per row. When the batch runs in a thread while the event loop is busy, each of
those steps can hand the GIL between the two threads. A statement of ``CHUNK`` rows steps
once for all of them, so a batch of 500 rows lets go of the GIL 500 / ``CHUNK`` times
instead of 500. (Measured at concurrency 16: within this machine's noise, like session 6's
single ``json_each`` statement; kept because it costs nothing and hands off less.)

A statement is compiled once per number of rows and kept in the connection's statement
cache (sqlite3 keeps 128 per connection; its text is the same every time), so the compile
cost (up to a few hundred microseconds) is paid once per shape, not per batch: full chunks
of ``CHUNK`` rows, and one statement for the rows left over.
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Sequence
from itertools import chain
from typing import Any

CHUNK = 32  # rows per statement; 32 x 23 columns stays far under SQLite's 32766 variables


@functools.lru_cache(maxsize=256)
def chunked_sql(one_row_sql: str, rows: int) -> str:
    """``INSERT ... VALUES (?, ...) [ON CONFLICT ...]`` with its row group repeated ``rows``
    times. The one-row statement must have exactly one parenthesised ``VALUES`` group."""
    head, sep, tail = one_row_sql.partition(" VALUES ")
    if not sep or not tail.startswith("("):
        raise ValueError("not a one-row INSERT ... VALUES (...) statement")
    group_end = tail.index(")") + 1
    group, rest = tail[:group_end], tail[group_end:]
    return f"{head} VALUES {', '.join([group] * rows)}{rest}"


def insert_rows(conn: sqlite3.Connection, one_row_sql: str, rows: Sequence[Sequence[Any]]) -> None:
    """Insert ``rows`` with ``one_row_sql``, up to ``CHUNK`` rows per statement step."""
    full = len(rows) - len(rows) % CHUNK
    if full:
        sql = chunked_sql(one_row_sql, CHUNK)
        conn.executemany(
            sql,
            (list(chain.from_iterable(rows[at : at + CHUNK])) for at in range(0, full, CHUNK)),
        )
    left = len(rows) - full
    if left == 1:
        conn.execute(one_row_sql, rows[full])
    elif left:
        conn.execute(chunked_sql(one_row_sql, left), list(chain.from_iterable(rows[full:])))
