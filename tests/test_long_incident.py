"""An incident open for 30 days, with stakeholder updates every 15 minutes, keeps its
history bounded by continuing as new, and keeps its whole timeline across runs: the
latest entries in its state, the earlier ones archived beside its record.

It runs on a time-skipping server of its own (as every test module does)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import TypeAdapter

from conftest import update
from runbooks import REGISTRY
from services.opening import prepare, start
from workflows.incident import IncidentWorkflow
from workflows.models import IncidentRequest, ResponderAction, TimelineEntry
from workflows.record import TIMELINE_KEPT

pytestmark = pytest.mark.slow  # real servers or long runs: left out of make test-fast

HISTORY_LIMIT = 2_000
DAYS = 30
UPDATES = DAYS * 24 * 4  # every 15 minutes


@pytest.mark.timeout(900)
async def test_thirty_day_incident_continues_as_new_and_keeps_timeline(env, incidents, directory):
    request = IncidentRequest(title="Credential stuffing", severity="SEV1", service="security")
    data = prepare(request, REGISTRY, directory)
    # The plan is the incident's frozen policy: this one asks for updates every 15 min.
    plan = data.plan.model_copy(update={"stakeholder_interval": timedelta(minutes=15)})
    data = data.model_copy(update={"plan": plan, "history_limit": HISTORY_LIMIT})
    handle = await start(env.client, data, incidents.settings.task_queue)
    incidents.opened.append(handle)
    first_run = (await handle.describe()).run_id

    await env.sleep(timedelta(minutes=2))
    await update(handle, IncidentWorkflow.acknowledge, ResponderAction(responder="heidi"))
    for _ in range(DAYS):  # a day at a time: one long skip outlasts the RPC deadline
        await env.sleep(timedelta(days=1))
    await env.sleep(timedelta(minutes=1))

    view = await handle.query(IncidentWorkflow.incident)
    # The state stays small however long it runs: what one run adds, over what it kept.
    assert len(view.timeline) < TIMELINE_KEPT + HISTORY_LIMIT
    timeline = whole_timeline(incidents.settings, view)
    kinds = [e.kind for e in timeline]
    assert kinds[:4] == ["triggered", "paging", "paging", "paging"]
    assert kinds.count("paged") == 3  # each written once its email was delivered
    assert kinds.count("stakeholder_update") == UPDATES
    assert kinds.count("continued") >= 2
    assert view.state == "acknowledged" and view.acknowledged_by == "heidi"

    latest = env.client.get_workflow_handle_for(IncidentWorkflow.run, handle.id)
    assert (await latest.describe()).run_id != first_run
    history = await latest.fetch_history()
    assert len(history.events) < HISTORY_LIMIT + 200

    resolved = await update(latest, IncidentWorkflow.resolve, ResponderAction(responder="heidi"))
    assert resolved.state == "resolved"
    final = await latest.result()
    assert [e.kind for e in whole_timeline(incidents.settings, final)].count("stakeholder_update") == UPDATES
    report = (incidents.settings.reports / f"{final.id}.md").read_text()
    # The report is written from the database's event log: the whole timeline, archived part too.
    assert final.timeline_archived > 0 and "entries are in" not in report
    assert report.count("| stakeholder_update |") == UPDATES


def whole_timeline(settings, view) -> list[TimelineEntry]:
    """The archived entries, in order, then those the incident still holds."""
    archived: list[TimelineEntry] = []
    for part in sorted(settings.reports.glob(f"{view.id}.timeline-*.json")):
        archived += TypeAdapter(list[TimelineEntry]).validate_json(part.read_text())
    assert len(archived) == view.timeline_archived
    return archived + view.timeline
