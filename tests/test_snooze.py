"""Acknowledgement timeout and snooze (time-skipping, real worker): an acknowledged incident
not resolved within the runbook's ``ack_timeout`` goes back to triggered and pages the
acknowledger again, then the ladder goes on; a snooze until +2 h pages nobody until +2 h,
then the acknowledger; resolving during a snooze ends it; a snooze is refused unless the
incident is acknowledged, and beyond 24 hours."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import ack_runbooks
import pytest
from temporalio.client import WorkflowUpdateFailedError

from conftest import update
from services.opening import prepare, start
from worker import build_worker
from workflows.incident import IncidentWorkflow
from workflows.models import IncidentRequest, IncidentView, ResponderAction, Snooze
from workflows.scenario_registry import registry_on


@pytest.fixture
async def opened(env, settings, directory):
    handles = []

    async def open_incident(runbook: str, service: str = "storage", policies=None, **update):
        """An incident of ``runbook`` (held to ``policies``), ``update`` set on its input."""
        request = IncidentRequest(title="Disk full", severity="SEV2", service=service, runbook=runbook)
        data = prepare(request, ack_runbooks.REGISTRY, directory, policies=policies)
        handle = await start(env.client, data.model_copy(update=update), settings.task_queue)
        handles.append(handle)
        return handle

    with registry_on(settings.task_queue, ack_runbooks.MODULE):
        async with build_worker(env.client, settings):
            yield open_incident
            for handle in handles:
                if (await handle.describe()).status.name == "RUNNING":
                    await handle.terminate("test finished")


def pages(view: IncidentView) -> list[tuple[str, timedelta]]:
    start = view.timeline[0].at
    return [(p.person, p.at - start) for p in view.paged]


async def test_acknowledged_too_long_pages_the_acknowledger_again_then_goes_on(env, opened):
    handle = await opened("ack-timeout")
    await env.sleep(timedelta(minutes=1))
    await update(handle, IncidentWorkflow.acknowledge, ResponderAction(responder="alice"))
    await env.sleep(timedelta(minutes=29))
    assert [who for who, _ in pages(await handle.query(IncidentWorkflow.incident))] == ["alice"]
    await env.sleep(timedelta(minutes=2))
    view = await handle.query(IncidentWorkflow.incident)
    assert view.state == "triggered"
    (_, first), (again, at) = pages(view)
    assert again == "alice" and timedelta(minutes=31) <= at < timedelta(minutes=31, seconds=2)
    assert [e.kind for e in view.timeline if e.kind == "retriggered"] == ["retriggered"]
    await env.sleep(timedelta(minutes=10))  # nobody acknowledges again: the ladder goes on
    assert [who for who, _ in pages(await handle.query(IncidentWorkflow.incident))] == [
        "alice",
        "alice",
        "bob",
    ]


async def test_a_snooze_pages_nobody_until_it_ends_then_the_acknowledger(env, opened):
    handle = await opened("plain")
    await env.sleep(timedelta(minutes=1))
    await update(handle, IncidentWorkflow.acknowledge, ResponderAction(responder="alice"))
    now = (await env.get_current_time()).astimezone(UTC)
    snoozed = await update(
        handle, IncidentWorkflow.snooze, Snooze(responder="alice", until=now + timedelta(hours=2))
    )
    assert snoozed.snoozed_until is not None and snoozed.state == "acknowledged"
    await env.sleep(timedelta(hours=1, minutes=58))
    assert len((await handle.query(IncidentWorkflow.incident)).paged) == 1
    await env.sleep(timedelta(minutes=3))
    view = await handle.query(IncidentWorkflow.incident)
    (_, _), (again, at) = pages(view)
    assert again == "alice" and timedelta(hours=2) <= at < timedelta(hours=2, minutes=1, seconds=2)
    assert view.state == "triggered" and view.snoozed_until is None


async def test_resolving_during_a_snooze_ends_it_and_pages_nobody(env, opened):
    handle = await opened("plain")
    await env.sleep(timedelta(minutes=1))
    await update(handle, IncidentWorkflow.acknowledge, ResponderAction(responder="alice"))
    now = (await env.get_current_time()).astimezone(UTC)
    await update(handle, IncidentWorkflow.snooze, Snooze(responder="alice", until=now + timedelta(hours=2)))
    await env.sleep(timedelta(minutes=30))
    await update(handle, IncidentWorkflow.resolve, ResponderAction(responder="alice"))
    view = await handle.result()
    assert view.state == "resolved" and len(view.paged) == 1


async def test_a_snooze_needs_an_acknowledged_incident_and_at_most_24_hours(env, opened):
    handle = await opened("plain")
    now = (await env.get_current_time()).astimezone(UTC)
    with pytest.raises(WorkflowUpdateFailedError, match="update"):
        await update(
            handle, IncidentWorkflow.snooze, Snooze(responder="alice", until=now + timedelta(hours=1))
        )
    await update(handle, IncidentWorkflow.acknowledge, ResponderAction(responder="alice"))
    with pytest.raises(WorkflowUpdateFailedError):
        await update(
            handle, IncidentWorkflow.snooze, Snooze(responder="alice", until=now + timedelta(hours=25))
        )


async def test_snooze_through_the_api(api):
    key = {"Authorization": "Bearer test-key"}
    body = {"title": "Checkout is failing", "severity": "SEV3", "service": "checkout", "runbook": "demo"}
    created = (await api.post("/api/incidents", json=body, headers=key)).json()
    url = f"/api/incidents/{created['id']}"
    until = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
    early = await api.post(f"{url}/snooze", json={"responder": "alice", "until": until}, headers=key)
    assert early.status_code == 409 and "acknowledged" in early.text
    assert (await api.post(f"{url}/acknowledge", json={"responder": "alice"}, headers=key)).status_code == 200
    snoozed = await api.post(f"{url}/snooze", json={"responder": "alice", "until": until}, headers=key)
    assert snoozed.status_code == 200 and snoozed.json()["snoozed_until"] is not None
    assert any(e["kind"] == "snoozed" for e in snoozed.json()["timeline"])
    naive = await api.post(
        f"{url}/snooze", json={"responder": "alice", "until": "2026-01-01T00:00:00"}, headers=key
    )
    assert naive.status_code == 422
