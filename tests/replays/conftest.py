"""One gateway (with the replay test catalog) in front of one simulator per module."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from aigw.simulator import SimConfig, SimulatorThread
from tests.replays.kit import replay_stack
from tests.server.conftest import AWS_SECRET_ACCESS_KEY, Stack


@pytest.fixture(scope="module")
def sim_server() -> Iterator[SimulatorThread]:
    with SimulatorThread(SimConfig(aws_secret_access_key=AWS_SECRET_ACCESS_KEY)) as sim:
        yield sim


@pytest.fixture(scope="module")
def module_stack(
    sim_server: SimulatorThread, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    root = tmp_path_factory.mktemp("replays")
    yield from replay_stack(f"sqlite:///{root / 'aigw.db'}", sim_server, root)


@pytest.fixture
def stack(module_stack: Stack) -> Stack:
    module_stack.sim.reset()
    return module_stack


@pytest.fixture(scope="module")
def module_pg_stack(
    sim_server: SimulatorThread, pg_database_factory: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    root = tmp_path_factory.mktemp("replays_pg")
    yield from replay_stack(pg_database_factory(), sim_server, root)


@pytest.fixture
def pg_stack(module_pg_stack: Stack) -> Stack:
    module_pg_stack.sim.reset()
    return module_pg_stack
