"""A tier that pages a schedule keeps paging at hand-offs after its run continued as new
in the middle of the tier (a busy incident): the continued run asks the schedule again
when it resumes the tier's wait. In a module of its own: a time-skipping server of its own."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import oncall_runbooks
import pytest
from test_oncall_paging import kinds, paged_at, paging, view_after  # noqa: F401 - the fixture

from services.opening import prepare, start
from workflows.incident import IncidentWorkflow
from workflows.models import IncidentRequest, Note


@pytest.mark.usefixtures("paging")  # the schedules and the worker
async def test_a_hand_off_still_pages_after_the_run_continued_as_new_during_the_tier(
    env, settings, directory
):
    request = IncidentRequest(title="Disk full", severity="SEV2", service="storage", runbook="rota")
    data = prepare(request, oncall_runbooks.REGISTRY, directory).model_copy(update={"history_limit": 100})
    handle = await start(env.client, data, settings.task_queue)
    first = (await handle.describe()).run_id
    for number in range(40):  # a busy incident: its history outgrows the limit during tier 1
        await handle.signal(IncidentWorkflow.add_note, Note(author="alice", text=f"note {number}"))
    # The run continues as new while it handles the notes: wait for that in real time (no
    # time skipping while the new run starts: the test server's skipping can stall then).
    latest = env.client.get_workflow_handle_for(IncidentWorkflow.run, handle.id)
    with env.auto_time_skipping_disabled():
        for _ in range(300):
            if (await latest.describe()).run_id != first:
                break
            await asyncio.sleep(0.1)
    for _ in range(6):  # then on, two minutes at a time
        view = await view_after(env, latest, timedelta(minutes=2))
    assert (await latest.describe()).run_id != first and kinds(view, "continued")
    at = paged_at(view)
    assert timedelta(minutes=3) - timedelta(seconds=3) <= at["dave"] <= timedelta(minutes=3, seconds=2)
    assert kinds(view, "handoff") == ["tier 1 (primary): Dave Okafor"]
    await latest.terminate("test finished")
