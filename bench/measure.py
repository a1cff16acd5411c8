"""Small measuring tools for the benchmark: pacing, waiting for files, percentiles, sampling."""

from __future__ import annotations

import asyncio
import math
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    rank = max(0, math.ceil(pct / 100 * len(ordered)) - 1)
    return ordered[rank]


async def steady(action: Callable[[int], Awaitable[None]], count: int, rate: float) -> None:
    """Call ``action(i)`` ``count`` times at ``rate`` per second, not waiting for each."""
    began = time.monotonic()
    tasks = []
    for i in range(count):
        delay = began + i / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.ensure_future(action(i)))
    await asyncio.gather(*tasks)


async def wait_for_files(
    folder: Path, pattern: str, count: int, timeout: float, among: set[str] | None = None
) -> None:
    """Wait until ``count`` files match (only those whose name starts with an id in ``among``)."""
    deadline = time.monotonic() + timeout
    last = -1
    while time.monotonic() < deadline:
        names = [p.name for p in folder.glob(pattern)] if folder.exists() else []
        if among is not None:
            names = [n for n in names if n.split("-", 1)[0].split(".", 1)[0] in among]
        if len(names) >= count:
            return
        if len(names) != last:
            print(f"  ... {len(names)}/{count} {pattern}", file=sys.stderr, flush=True)
            last = len(names)
        await asyncio.sleep(0.5)
    raise TimeoutError(f"only {last} of {count} {pattern} after {timeout:.0f} s")


class Sampler:
    """Samples ``probe()`` every half second in the background; keeps the peak."""

    def __init__(self, probe: Callable[[], float]) -> None:
        self.probe, self.peak = probe, 0.0
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        async def loop() -> None:
            while True:
                self.peak = max(self.peak, self.probe())
                await asyncio.sleep(0.5)

        self._task = asyncio.ensure_future(loop())

    def stop(self) -> None:
        if self._task:
            self._task.cancel()
