"""What the router cannot tell about an operation: its summary and its request body.

Keyed by (method, path) as registered; an entry for a route that does not exist fails
``tests/jobs/test_apidocs.py``, so this table cannot drift from the code. The entries are
written by area in ``ops_*.py`` (with the schema pieces of ``schema_parts.py``) and merged
here.
"""

from __future__ import annotations

from aigw.apidocs.ops_async import ASYNC_OPERATIONS
from aigw.apidocs.ops_gateway import GATEWAY_OPERATIONS
from aigw.apidocs.ops_models import MODEL_OPERATIONS
from aigw.apidocs.ops_replays import REPLAY_OPERATIONS
from aigw.apidocs.schema_parts import BOOL, INT, NUM, STR, URL, S, obj

__all__ = ["BOOL", "INT", "NUM", "OPERATIONS", "STR", "URL", "S", "obj"]

OPERATIONS: dict[tuple[str, str], S] = {
    **MODEL_OPERATIONS,
    **ASYNC_OPERATIONS,
    **REPLAY_OPERATIONS,
    **GATEWAY_OPERATIONS,
}
