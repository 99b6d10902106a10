"""The contract matrix runs on the server tests' stack: one gateway in front of one simulator
that speaks every provider's wire format (see tests/server/conftest.py)."""

from tests.server.conftest import module_stack, sim_server, stack

__all__ = ["module_stack", "sim_server", "stack"]
