"""A gateway in front of the simulator with three flat-priced simulator models (distinct
prices, so cost comparisons are exact), and helpers to steer the simulator's answers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from aigw.simulator import SimulatorThread
from tests.harness import http
from tests.server.conftest import Stack, catalog_stack

ALPHA, BETA, JUDGE = "simulator/alpha", "simulator/beta", "simulator/judge"

CATALOG = """
[models."simulator/alpha"]
name = "Alpha"
upstream_id = "alpha"
modality = "text"
max_output_tokens = 200
price = { input = 1, output = 100 }

[models."simulator/beta"]
name = "Beta"
upstream_id = "beta"
modality = "text"
max_output_tokens = 200
price = { input = 2, output = 300 }

[models."simulator/judge"]
name = "Judge"
upstream_id = "judge"
modality = "text"
max_output_tokens = 200
price = { input = 0, output = 10 }
"""


def replay_stack(
    database_url: str, sim: SimulatorThread, root: Any, **settings: Any
) -> Iterator[Stack]:
    yield from catalog_stack(database_url, sim, root, CATALOG, **settings)


def script(stack: Stack, *answers: dict[str, Any]) -> None:
    """Script the simulator: each ``{"contains", "text", "model"?}`` (upstream model id)."""
    status, _, body = http("POST", stack.sim.url + "/_sim/answers", json=list(answers))
    assert status == 200, body
