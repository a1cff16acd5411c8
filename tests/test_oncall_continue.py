"""A tier that pages a schedule keeps paging at hand-offs after its run continued as new
in the middle of the tier (a busy incident): the continued run asks the schedule again
when it resumes the tier's wait.

On the dev server in real time, with a hand-off a few seconds after the start: the
time-skipping server can stall when it skips time across a continue-as-new."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import oncall_runbooks
from test_oncall_paging import kinds, paged_at, rotation

from services.database import open_database
from services.opening import prepare, start
from store import schedules as stored
from worker import build_worker
from workflows.incident import IncidentWorkflow
from workflows.models import IncidentRequest, IncidentView, Note
from workflows.scenario_registry import registry_on

HAND_OFF = timedelta(seconds=15)


async def test_a_hand_off_still_pages_after_the_run_continued_as_new_during_the_tier(
    dev_env, settings, directory
):
    client = dev_env.client
    engine = open_database(settings)
    now = datetime.now(UTC)
    # alice until HAND_OFF from now, then dave (a daily rotation handing off then)
    stored.create(
        engine, "rota", rotation("Rota", ["alice", "dave"], now + HAND_OFF - timedelta(days=1)), "t"
    )
    request = IncidentRequest(title="Disk full", severity="SEV2", service="storage", runbook="rota")
    data = prepare(request, oncall_runbooks.REGISTRY, directory).model_copy(update={"history_limit": 100})
    with registry_on(settings.task_queue, oncall_runbooks.MODULE):
        async with build_worker(client, settings):
            handle = await start(client, data, settings.task_queue)
            first = (await handle.describe()).run_id
            for number in range(40):  # a busy incident: its history outgrows the limit in tier 1
                await handle.signal(IncidentWorkflow.add_note, Note(author="alice", text=f"note {number}"))
            latest = client.get_workflow_handle_for(IncidentWorkflow.run, handle.id)
            try:
                view = await _until_dave_is_paged(latest)
                assert (await latest.describe()).run_id != first and kinds(view, "continued")
                at = paged_at(view)
                assert at["alice"] < timedelta(seconds=5)
                assert HAND_OFF - timedelta(seconds=1) <= at["dave"] <= HAND_OFF + timedelta(seconds=10)
                assert kinds(view, "handoff") == ["tier 1 (primary): Dave Okafor"]
            finally:
                await latest.terminate("test finished")


async def _until_dave_is_paged(handle) -> IncidentView:
    """The incident once Dave is paged, waiting at most a minute past the hand-off."""
    deadline = asyncio.get_running_loop().time() + (HAND_OFF + timedelta(minutes=1)).total_seconds()
    while True:
        view: IncidentView = await handle.query(IncidentWorkflow.incident)
        if "dave" in paged_at(view) or asyncio.get_running_loop().time() > deadline:
            return view
        await asyncio.sleep(0.5)
