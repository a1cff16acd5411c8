"""The hand-over of a long incident to a new run (continue-as-new): when, and how.

A history past ``HISTORY_LIMIT`` events (or once the server suggests it) continues as new
as soon as the scenario is parked (every task in a journaled wait); the new run is handed
the record, the journal and the loops (``Carried``), and older timeline entries go to the
incident's archive first.
"""

from __future__ import annotations

import asyncio
from typing import Any

from temporalio import workflow

from workflows import patches
from workflows.escalation import Escalation
from workflows.publish import document
from workflows.record import IncidentRecord
from workflows.run_state import IncidentInput
from workflows.vocabulary import Actor, EventKind

# Continue as new past this many events even if the server has not suggested it
# yet (it suggests at 4,096 events or 4 MB); the hard limit is 51,200.
HISTORY_LIMIT = 10_000


def should_continue(input: IncidentInput, esc: Escalation, scenario: asyncio.Future[Any] | None) -> bool:
    info = workflow.info()
    long = info.is_continue_as_new_suggested() or (
        info.get_current_history_length() >= (input.history_limit or HISTORY_LIMIT)
    )
    return long and not esc.resolved and esc.parked(scenario is None or scenario.done())


async def continue_as_new(input: IncidentInput, record: IncidentRecord, esc: Escalation) -> None:
    carried = await esc.quiesce()
    await workflow.wait_condition(workflow.all_handlers_finished)
    record.add(
        workflow.now(),
        EventKind.CONTINUED,
        Actor.RUNBOOK,
        f"history at {workflow.info().get_current_history_length()} events; continuing in a new run",
    )
    if patches.patched(patches.ARCHIVE):
        moved, start = record.compact()
        if moved:
            await document(record, archive=moved, archive_start=start)
    carried.view = record.view()
    workflow.continue_as_new(input.model_copy(update={"carried": carried}))
