"""Many rows per statement step (store/sqlite_rows.py): every row lands once, in order, with
the statement's own clauses (ON CONFLICT) kept."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from aigw.store.sqlite_rows import CHUNK, chunked_sql, insert_rows

ONE = "INSERT INTO t (id, name) VALUES (?, ?) ON CONFLICT (id) DO NOTHING"


def test_the_row_group_is_repeated_and_the_rest_kept() -> None:
    assert chunked_sql(ONE, 3) == (
        "INSERT INTO t (id, name) VALUES (?, ?), (?, ?), (?, ?) ON CONFLICT (id) DO NOTHING"
    )
    with pytest.raises(ValueError):
        chunked_sql("INSERT INTO t SELECT 1", 2)


@pytest.mark.parametrize("count", [0, 1, 2, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK + 5])
def test_every_row_lands_once_in_order(tmp_path: Path, count: int) -> None:
    conn = sqlite3.connect(tmp_path / "t.db", isolation_level=None)
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)")
    rows = [(i, f"n{i}") for i in range(count)]
    insert_rows(conn, ONE, rows)
    insert_rows(conn, ONE, [(i, "again") for i in range(count)])  # conflicts: skipped
    assert conn.execute("SELECT id, name FROM t ORDER BY rowid").fetchall() == rows
