"""An incident opened during a maintenance window is created and recorded, but its scenario
waits for the window's end before it pages anyone; resolved meanwhile, it never pages.

The wait is the scenario's first step (journaled like any other), so a continued run picks
it up where it stood; the input carries the window's end (``IncidentInput.held_until``).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import Any

from temporalio import workflow

from workflows.vocabulary import EventKind

Scenario = Callable[[Any], Coroutine[Any, Any, None]]


def held(run: Scenario, until: datetime, why: str) -> Scenario:
    """``run``, once the maintenance window ``why`` has ended at ``until``."""

    async def scenario(esc: Any) -> None:
        esc.record(EventKind.MAINTENANCE, f"{why}: nobody is paged until {until:%Y-%m-%d %H:%M:%S} UTC")
        left = until - workflow.now()
        if left.total_seconds() > 0 and await esc.wait_resolved(
            left, summary="until the maintenance window ends"
        ):
            return  # resolved during the window: nobody was ever paged
        esc.record(EventKind.MAINTENANCE, "the maintenance window is over: the runbook takes over")
        await run(esc)

    return scenario
