"""Run the simulator on a real socket: in the caller's event loop, or in a background thread.

``start_simulator`` is for async code (gateway integration tests, benchmarks);
``SimulatorThread`` is for sync tests and the sync openai SDK, with its own loop and thread.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any, TypeVar

from aiohttp import web

from aigw.simulator.app import make_app
from aigw.simulator.config import SimConfig
from aigw.simulator.control import queue_fault, queue_replay
from aigw.simulator.state import SIM_STATE, SimState

T = TypeVar("T")


class RunningSimulator:
    """A simulator listening on ``host:port``; ``base_url`` ends in ``/v1`` like OpenAI's."""

    def __init__(self, runner: web.AppRunner, host: str, port: int) -> None:
        self._runner = runner
        self.host = host
        self.port = port
        self.url = f"http://{host}:{port}"
        self.base_url = f"{self.url}/v1"

    @property
    def state(self) -> SimState:
        return self._runner.app[SIM_STATE]

    @property
    def stats(self) -> dict[str, int]:
        return self.state.stats.as_dict()

    @property
    def requests(self) -> list[dict[str, Any]]:
        """The last received requests (credentials redacted), oldest first."""
        return list(self.state.log)

    def queue_fault(self, fault: str, count: int = 1, **options: Any) -> None:
        """Same as ``POST /_sim/faults``: options are status, retry_after, after_chunks..."""
        queue_fault(self.state, {"fault": fault, "count": count, **options})

    def queue_replay(self, spec: Mapping[str, Any]) -> None:
        """Same as ``POST /_sim/replay``."""
        queue_replay(self.state, spec)

    def reset(self) -> None:
        self.state.reset()

    def set_config(self, **changes: Any) -> None:
        """Change server settings while running (same as ``POST /_sim/config``)."""
        self.state.set_config(self.state.config.updated(changes))

    async def stop(self) -> None:
        self.state.closing.set()
        await self._runner.cleanup()


async def start_simulator(
    config: SimConfig | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    access_log: bool = False,
) -> RunningSimulator:
    """Start a simulator in the running loop; ``port=0`` picks a free port.

    Handlers are cancelled when their client disconnects, which is what lets the simulator
    count disconnects and stop pacing for a client that has gone.
    """
    options: dict[str, Any] = {} if access_log else {"access_log": None}
    runner = web.AppRunner(
        make_app(config), handler_cancellation=True, shutdown_timeout=1.0, **options
    )
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound = runner.addresses[0][1]
    return RunningSimulator(runner, host, int(bound))


class SimulatorThread:
    """A simulator on its own event loop in a daemon thread, as a context manager.

    ``with SimulatorThread() as sim: OpenAI(base_url=sim.base_url, ...)``. Methods that touch
    the simulator's state run on its loop, so they are safe to call from the test's thread.
    """

    def __init__(
        self, config: SimConfig | None = None, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self._config = config
        self._host = host
        self._port = port
        self._loop: asyncio.AbstractEventLoop | None = None
        self._sim: RunningSimulator | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    @property
    def sim(self) -> RunningSimulator:
        if self._sim is None:
            raise RuntimeError("simulator thread not started")
        return self._sim

    @property
    def base_url(self) -> str:
        return self.sim.base_url

    @property
    def url(self) -> str:
        return self.sim.url

    @property
    def stats(self) -> dict[str, int]:
        return self.call(lambda: self.sim.stats)

    @property
    def requests(self) -> list[dict[str, Any]]:
        return self.call(lambda: self.sim.requests)

    def queue_fault(self, fault: str, count: int = 1, **options: Any) -> None:
        self.call(lambda: self.sim.queue_fault(fault, count, **options))

    def queue_replay(self, spec: Mapping[str, Any]) -> None:
        self.call(lambda: self.sim.queue_replay(spec))

    def reset(self) -> None:
        self.call(self.sim.reset)

    def set_config(self, **changes: Any) -> None:
        self.call(lambda: self.sim.set_config(**changes))

    def call(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` on the simulator's loop and return its result."""
        if self._loop is None:
            raise RuntimeError("simulator thread not started")

        async def run() -> T:
            return fn()

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(timeout=10)

    def start(self) -> SimulatorThread:
        self._thread = threading.Thread(target=self._run, name="aigw-simulator", daemon=True)
        self._thread.start()
        self._ready.wait(timeout=10)
        if self._error is not None:
            raise RuntimeError("simulator failed to start") from self._error
        if self._sim is None:
            raise RuntimeError("simulator did not start within 10 s")
        return self

    def stop(self) -> None:
        if self._loop is not None and self._sim is not None:
            future = asyncio.run_coroutine_threadsafe(self._sim.stop(), self._loop)
            future.result(timeout=10)
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._sim = None

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            self._sim = loop.run_until_complete(
                start_simulator(self._config, self._host, self._port)
            )
        except BaseException as exc:  # reported to the starting thread
            self._error = exc
            self._ready.set()
            loop.close()
            return
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    def __enter__(self) -> SimulatorThread:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
