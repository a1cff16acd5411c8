"""An incident opened during a maintenance window (time-skipping, real worker): it is created
and recorded at once, pages nobody until the window ends, then its runbook runs as usual;
resolved during the window, it never pages. (The first two open incidents the older way,
``held_until``, as incidents opened before pauses existed still run.)"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from conftest import update
from runbooks import REGISTRY
from services.opening import prepare, start
from worker import build_worker
from workflows.incident import IncidentWorkflow
from workflows.models import IncidentRequest, ResponderAction


async def held_incident(env, settings, directory, hours: float = 1.0):
    now = (await env.get_current_time()).astimezone(UTC)
    request = IncidentRequest(title="Disk full", severity="SEV2", service="storage", runbook="demo")
    data = prepare(request, REGISTRY, directory).model_copy(
        update={"held_until": now + timedelta(hours=hours), "held_by": "maintenance mw-1 (database upgrade)"}
    )
    return await start(env.client, data, settings.task_queue)


async def test_held_during_the_window_then_paged_when_it_ends(env, settings, directory):
    async with build_worker(env.client, settings):
        handle = await held_incident(env, settings, directory)
        await env.sleep(timedelta(minutes=59))
        view = await handle.query(IncidentWorkflow.incident)
        assert view.state == "triggered" and not view.paged
        [note] = [e.detail for e in view.timeline if e.kind == "maintenance"]
        assert note.startswith("maintenance mw-1 (database upgrade): nobody is paged until")
        await env.sleep(timedelta(minutes=2))
        view = await handle.query(IncidentWorkflow.incident)
        assert view.paged[0].person == "alice"  # then the demo's ladder, 10 s a tier
        waited = view.paged[0].at - view.timeline[0].at
        assert timedelta(hours=1) - timedelta(seconds=2) <= waited <= timedelta(hours=1, seconds=2)
        await handle.terminate("test finished")


async def test_resolved_during_the_window_it_never_pages(env, settings, directory):
    async with build_worker(env.client, settings):
        handle = await held_incident(env, settings, directory)
        await env.sleep(timedelta(minutes=20))
        await update(handle, IncidentWorkflow.resolve, ResponderAction(responder="alice"))
        view = await handle.result()
        assert view.state == "resolved" and not view.paged


async def test_an_incident_opened_through_the_api_in_a_window_is_recorded_but_pages_nobody(api):
    key = {"Authorization": "Bearer test-key"}
    now = datetime.now(UTC)
    window = {
        "services": ["storage"],
        "start": now.isoformat(),
        "end": (now + timedelta(hours=1)).isoformat(),
    }
    made = await api.post("/api/maintenance-windows", json=window | {"reason": "disk swap"}, headers=key)
    assert made.status_code == 201, made.text
    held = {"title": "Disk full", "severity": "SEV2", "service": "storage", "runbook": "demo"}
    other = held | {"service": "checkout"}
    held_id = (await api.post("/api/incidents", json=held, headers=key)).json()["id"]
    other_id = (await api.post("/api/incidents", json=other, headers=key)).json()["id"]
    await asyncio.sleep(3)
    in_window = (await api.get(f"/api/incidents/{held_id}", headers=key)).json()
    outside = (await api.get(f"/api/incidents/{other_id}", headers=key)).json()
    assert in_window["state"] == "triggered" and not in_window["paged"]
    assert any(e["kind"] == "paused" and made.json()["id"] in e["detail"] for e in in_window["timeline"])
    assert [p["key"] for p in in_window["pauses"]] == [f"maintenance:{made.json()['id']}"]
    assert [p["person"] for p in outside["paged"]] == ["alice"]  # out of scope: paged as usual


async def _incident(api, incident_id: str, key: dict) -> dict:
    return (await api.get(f"/api/incidents/{incident_id}", headers=key)).json()


async def test_a_suppress_all_window_pauses_open_incidents_and_its_early_end_pages_again(api):
    """Through the API on a real server: the window's creation pauses the incident already
    open (no tier 2 at +10 s), and ending it early pages the current tier again at once."""
    key = {"Authorization": "Bearer test-key"}
    opened = {"title": "Disk full", "severity": "SEV2", "service": "storage", "runbook": "demo"}
    incident_id = (await api.post("/api/incidents", json=opened, headers=key)).json()["id"]
    now = datetime.now(UTC)
    window = {
        "services": ["storage"],
        "start": now.isoformat(),
        "end": (now + timedelta(hours=1)).isoformat(),
    }
    made = await api.post(
        "/api/maintenance-windows", json=window | {"reason": "failover", "suppress_all": True}, headers=key
    )
    assert made.status_code == 201, made.text
    await asyncio.sleep(12)  # the demo's tier 2 was due at +10 s
    paused = await _incident(api, incident_id, key)
    assert [p["person"] for p in paused["paged"]] == ["alice"]
    assert [p["key"] for p in paused["pauses"]] == [f"maintenance:{made.json()['id']}"]
    assert (await api.delete(f"/api/maintenance-windows/{made.json()['id']}", headers=key)).status_code == 204
    await asyncio.sleep(2)
    resumed = await _incident(api, incident_id, key)
    assert [p["person"] for p in resumed["paged"]] == ["alice", "alice"] and resumed["pauses"] == []
    kinds = [e["kind"] for e in resumed["timeline"]]
    assert kinds.count("paused") == 1 and kinds.count("unpaused") == 1  # told twice, said once
