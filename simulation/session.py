"""Simulations for callers without an event loop of their own (the ``simulate`` fixture).

:class:`SimulationSession` keeps one :class:`~simulation.engine.Simulator` (one time-skipping
test server) per registry module and world, all on one event loop in a background thread,
started on first use: a plain function can then simulate from a synchronous test or from
inside a running event loop alike (it blocks its caller; it never nests ``asyncio.run``).
"""

from __future__ import annotations

import asyncio
import threading
from typing import TYPE_CHECKING

# The engine is imported on the first simulation only: pytest imports this module (through
# the plugin) at every start-up.
if TYPE_CHECKING:
    from simulation.engine import Scenario, Simulator
    from simulation.timeline import Timeline
    from simulation.world import World

CLOSE_TIMEOUT = 60.0  # seconds the servers may take to stop


class SimulationSession:
    """The session's simulators: one per (registry module, world), all on one event loop
    in a background thread, started on first use; runs are made one at a time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._simulators: list[tuple[str, World, Simulator]] = []

    def run(self, module: str, world: World, scenario: Scenario) -> Timeline:
        """Simulate ``scenario`` with ``module``'s registry in ``world`` (blocks until done)."""
        with self._lock:
            future = asyncio.run_coroutine_threadsafe(self._run(module, world, scenario), self._started())
            try:
                return future.result()
            except BaseException:
                future.cancel()  # interrupted (a test's timeout): stop the run, not only the wait
                raise

    def close(self) -> None:
        """Stop every simulator and the loop's thread."""
        with self._lock:
            loop, thread = self._loop, self._thread
            if loop is None or thread is None:
                return
            self._loop = self._thread = None
            try:
                asyncio.run_coroutine_threadsafe(self._close_all(), loop).result(CLOSE_TIMEOUT)
            finally:
                loop.call_soon_threadsafe(loop.stop)
                thread.join(CLOSE_TIMEOUT)
                if not thread.is_alive():
                    loop.close()

    def _started(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            self._loop = asyncio.new_event_loop()
            self._thread = threading.Thread(target=self._loop.run_forever, name="simulate", daemon=True)
            self._thread.start()
        return self._loop

    async def _run(self, module: str, world: World, scenario: Scenario) -> Timeline:
        simulator = await self._simulator(module, world)
        try:
            return await simulator.run(scenario)
        except asyncio.CancelledError:  # left mid-run: the next run gets a fresh simulator
            self._simulators = [entry for entry in self._simulators if entry[2] is not simulator]
            await simulator.__aexit__(None, None, None)
            raise

    async def _simulator(self, module: str, world: World) -> Simulator:
        from simulation.engine import Simulator

        for known_module, known_world, simulator in self._simulators:
            if known_module == module and (known_world is world or known_world == world):
                return simulator
        simulator = Simulator(world, module=module)
        try:
            await simulator.__aenter__()
        except BaseException:
            await simulator.__aexit__(None, None, None)
            raise
        self._simulators.append((module, world, simulator))
        return simulator

    async def _close_all(self) -> None:
        simulators, self._simulators = self._simulators, []
        for _, _, simulator in reversed(simulators):
            await simulator.__aexit__(None, None, None)
        others = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        for task in others:
            task.cancel()
        await asyncio.gather(*others, return_exceptions=True)
