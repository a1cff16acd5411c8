"""Telling the incidents already open about a maintenance window: one that pauses them
(``suppress_all``, in force now or to come) or one ended early (lift its pause).

Each running incident workflow of the window's services (all of them, for a window scoped
by labels only) is signalled; the workflow itself decides whether the window's scope
covers it (``workflows/pausing.py``). A signal is idempotent: telling twice changes
nothing. The list comes from Temporal's visibility store, which lags a new incident by
about a second, so the service tells them a second time shortly after.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from temporalio.client import Client

from services.temporal import temporal_calls
from workflows import contract
from workflows.pauses import MaintenanceNotice

log = logging.getLogger("escalate.maintenance")
AT_ONCE = 50  # signals in flight at once
AGAIN_AFTER = 3.0  # seconds: the incidents opened just before, once visible
Tell = Callable[[MaintenanceNotice], Awaitable[int]]


def running_query(services: list[str]) -> str:
    """The open incidents of ``services`` (every open incident when none are named).
    Services are slugs: nothing can escape the quotes."""
    query = f"WorkflowType = '{contract.WORKFLOW_NAME}' AND ExecutionStatus = 'Running'"
    if services:
        names = ", ".join(f"'{name}'" for name in services)
        query += f" AND {contract.SERVICE.name} IN ({names})"
    return query


def incident_teller(client: Callable[[], Awaitable[Client]]) -> Tell:
    """``tell(notice)``: signal every open incident the window may cover; returns how many."""

    async def tell(notice: MaintenanceNotice) -> int:
        connected = await client()
        gate = asyncio.Semaphore(AT_ONCE)

        async def signal(workflow_id: str) -> None:
            async with gate:
                try:
                    await connected.get_workflow_handle(workflow_id).signal(contract.MAINTENANCE, notice)
                except Exception as err:  # resolved meanwhile, say: the others are still told
                    log.info("maintenance %s: incident %s not told: %s", notice.window, workflow_id, err)

        with temporal_calls():
            ids = [w.id async for w in connected.list_workflows(running_query(notice.services))]
            await asyncio.gather(*(signal(i) for i in ids))
        return len(ids)

    return tell
