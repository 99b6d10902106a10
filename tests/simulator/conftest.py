"""One simulator per test module, on a background thread; state reset before each test."""

from __future__ import annotations

from collections.abc import Iterator

import openai
import pytest

from aigw.simulator import SimulatorThread


@pytest.fixture(scope="module")
def sim_thread() -> Iterator[SimulatorThread]:
    with SimulatorThread() as sim:
        yield sim


@pytest.fixture
def sim(sim_thread: SimulatorThread) -> SimulatorThread:
    sim_thread.reset()
    return sim_thread


@pytest.fixture
def client(sim: SimulatorThread) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=sim.base_url, api_key="sk-test-key-1234", max_retries=0) as c:
        yield c
