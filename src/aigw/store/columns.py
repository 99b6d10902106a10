"""What every table shares: the one ``MetaData`` (with named constraints), id and text
sizes, and ``now_ms()``, the unit of every timestamp column. The tables themselves are in
``tables.py`` (accounts, keys, money, alerts), ``tables_async.py`` and ``tables_replays.py``.
"""

from __future__ import annotations

import time

from sqlalchemy import MetaData

# Named constraints keep later migrations (and SQLite batch mode) deterministic.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)

ID = 40  # length of prefixed ids ("acct_" + 24 hex)
TAG_MAX = 64
MODEL_MAX = 200
BODY_REF_MAX = 80  # "<segment name>:<offset>:<length>:<length>" (store/body_segments.py)
NAME_MAX = 64


def now_ms() -> int:
    """Current wall-clock time in unix milliseconds, the unit of every timestamp column."""
    return time.time_ns() // 1_000_000
