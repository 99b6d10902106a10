"""A provider simulator for tests, demos and load tests.

``aigw simulate`` serves it from the command line; ``start_simulator`` and
``SimulatorThread`` embed it in tests. Content generation (``content``, ``answer``,
``schema``) and faults are format-independent; ``openai_format``, ``anthropic_format``,
``gemini_format``, ``bedrock_format`` and ``cohere_format`` (Cohere and Azure) render them at
each provider's own paths (``routes``).
"""

from aigw.simulator.app import make_app
from aigw.simulator.config import SimConfig
from aigw.simulator.faults import FAULT_NAMES
from aigw.simulator.replay import load_recording
from aigw.simulator.runner import RunningSimulator, SimulatorThread, start_simulator
from aigw.simulator.state import SIM_STATE

__all__ = [
    "FAULT_NAMES",
    "SIM_STATE",
    "RunningSimulator",
    "SimConfig",
    "SimulatorThread",
    "load_recording",
    "make_app",
    "start_simulator",
]
