"""The slow-provider row: page emails through SendGrid when SendGrid takes seconds per call.

A second worker and API (task queue ``bench-sendgrid``) send email through the real
``sendgrid`` library to the SendGrid HTTP double of the tests (``tests/sendgrid_double.py``),
which answers every request after ``delay`` seconds and counts deliveries per notification.
Quiet incidents are opened through that API at a steady rate; the row reports how long
after the POST each incident's first page reached SendGrid (the double accepts a message
when the request arrives, as SendGrid does; its ``delay`` comes on top for the answer) and
how many notifications were delivered more than once. It waits until SendGrid has been
quiet for ``quiet`` seconds, so that the duplicates of timed-out attempts are counted too.
"""

from __future__ import annotations

import asyncio
import importlib.util
import sys
import time
from pathlib import Path
from types import ModuleType

from bench.measure import steady
from bench.stack import Stack, api_sender, open_incident

DOUBLE = Path(__file__).resolve().parent.parent / "tests" / "sendgrid_double.py"


def _double_module() -> ModuleType:
    """The tests' SendGrid double (tests/ is not a package)."""
    spec = importlib.util.spec_from_file_location("sendgrid_double", DOUBLE)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("sendgrid_double", module)
    spec.loader.exec_module(module)
    return module


async def _delivered(double, wanted: set[str], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    last = -1
    while time.monotonic() < deadline:
        got = len(wanted & set(double.deliveries()))
        if got >= len(wanted):
            return
        if got != last:
            print(f"  ... {got}/{len(wanted)} emails at SendGrid", file=sys.stderr, flush=True)
            last = got
        await asyncio.sleep(0.5)
    raise TimeoutError(f"only {last} of {len(wanted)} emails reached SendGrid after {timeout:.0f} s")


async def _quiet(double, quiet: float, timeout: float) -> None:
    """Wait until no request has arrived for ``quiet`` seconds and none is in flight."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        last = max((r.arrived for r in double.requests), default=0.0)
        if double.in_flight == 0 and time.time() - last >= quiet:
            return
        await asyncio.sleep(0.5)


async def slow_provider(
    stack: Stack, count: int, rate: float, delay: float, quiet: float = 20.0
) -> tuple[list[float], int, int]:
    """Open ``count`` quiet incidents at ``rate``/s against a SendGrid answering after ``delay``
    seconds; the page-email lags (s), the duplicate deliveries and the most calls in flight."""
    double = _double_module().SendGridDouble(delay=delay).start()
    processes = []
    try:
        port, processes = stack.start_product(
            "sendgrid", "bench-sendgrid", SENDGRID_API_KEY="SG.bench", SENDGRID_HOST=double.url
        )
        async with api_sender(port) as http:
            warm = [await open_incident(http, f"slow provider warm-up {i}") for i in range(3)]
            await _delivered(double, {f"{i}-0001-alice" for i, _ in warm}, timeout=120)
            opened: list[tuple[str, float]] = []

            async def one(i: int) -> None:
                opened.append(await open_incident(http, f"slow provider {i}"))

            await steady(one, count, rate)
            wanted = {f"{i}-0001-alice": sent for i, sent in opened}
            await _delivered(double, set(wanted), timeout=600)
            await _quiet(double, quiet, timeout=600)
        first: dict[str, float] = {}
        for request in double.accepted():  # in arrival order
            first.setdefault(request.notification_id, request.arrived)
        lags = [first[note] - sent for note, sent in wanted.items()]
        return lags, double.duplicates(), double.max_in_flight
    finally:
        for process in processes:
            process.stop()
        double.stop()
