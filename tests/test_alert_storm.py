"""An alert storm through the API, on a real Temporal dev server with the real worker.

Repeats of an incident known to be open are recorded in the database's intake log and
answered at once, then counted on their incident in batches (``services/intake.py``):
every alert is counted exactly once, each key opens exactly one incident and pages once,
and a repeat is never answered before its row is committed. A repeat that finds its
incident resolved meanwhile opens a new one, which pages; rows a dead API process left
in the log are taken over and counted.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import sqlalchemy as sa

from runbooks import REGISTRY
from services.opening import prepare
from store import intake as store
from store.db import engine_for, utcnow
from store.tables import intake
from workflows.models import IncidentRequest

QUIET = {"title": "Queue depth over 10k", "severity": "SEV4", "service": "queue", "runbook": "default"}


async def view_when(api, incident_id: str, done, seconds: float = 15.0) -> dict:
    """The incident's view once ``done(view)`` holds (or the last one read)."""
    view: dict = {}
    for _ in range(int(seconds * 10)):
        view = (await api.get(f"/api/incidents/{incident_id}")).json()
        if done(view):
            break
        await asyncio.sleep(0.1)
    return view


def backlog(api) -> int:
    return store.backlog(engine_for(None, api.settings.data_dir))


async def openings(api, base: str, count: int, seconds: float = 15.0) -> list[str]:
    """The ids of the incidents opened for the dedup id ``base``, once there are ``count``
    (visibility is eventually consistent), or the last ones listed."""
    ids: list[str] = []
    for _ in range(int(seconds * 10)):
        listed = await api.app.state.incidents.list(service=QUIET["service"], limit=50)
        ids = [r.id for r in listed if r.id.startswith(base)]
        if len(ids) >= count:
            break
        await asyncio.sleep(0.1)
    return ids


async def drained(api, seconds: float = 30.0) -> int:
    """The intake log's backlog, once it is empty (or the last one read)."""
    for _ in range(int(seconds * 10)):
        if (left := backlog(api)) == 0:
            break
        await asyncio.sleep(0.1)
    return left


def pages_for(api, incident_id: str) -> list[str]:
    return sorted(p.name for p in (api.settings.data_dir / "outbox").glob(f"{incident_id}-*.json"))


async def test_a_storm_is_counted_exactly_once_per_alert_and_pages_once_per_key(api):
    keys, per_key = 4, 60
    gate = asyncio.Semaphore(48)
    log, logged = api.app.state.incidents.intake, []
    record = log.record

    async def counting(data):
        logged.append(await record(data))
        return logged[-1]

    log.record = counting

    async def send(i: int):
        async with gate:
            return i % keys, await api.post(
                "/api/incidents", json={**QUIET, "dedup_key": f"storm-{i % keys}"}
            )

    answers = await asyncio.gather(*(send(i) for i in range(keys * per_key)))
    assert {r.status_code for _, r in answers} <= {200, 201}
    ids = {key: {r.json()["id"] for k, r in answers if k == key} for key in range(keys)}
    assert all(len(found) == 1 for found in ids.values()), ids
    assert sorted(k for k, r in answers if r.status_code == 201) == list(range(keys))
    assert logged and all(logged), "repeats of the open incidents went through the intake log"

    for key, (incident,) in ids.items():
        view = await view_when(api, incident, lambda v: v["repeats"] >= per_key - 1)
        assert view["repeats"] == per_key - 1, f"key {key}: {view['repeats'] + 1} of {per_key} counted"
        repeated = [e for e in view["timeline"] if e["kind"] == "repeated"]
        assert len(repeated) < per_key - 1, "repeats rode together in batches"
        assert [(p["person"], p["tier"]) for p in view["paged"]] == [("alice", 1), ("dave", 1)]
    assert backlog(api) == 0
    await asyncio.sleep(1)  # nothing counted twice, late
    for (incident,) in ids.values():
        assert (await view_when(api, incident, lambda v: True))["repeats"] == per_key - 1
        assert len(pages_for(api, incident)) == 2  # alice and dave, once each


async def test_a_repeat_after_a_resolution_opens_a_new_incident_that_pages(api):
    first = (await api.post("/api/incidents", json={**QUIET, "dedup_key": "flapping"})).json()
    logged = await api.post("/api/incidents", json={**QUIET, "dedup_key": "flapping"})
    assert logged.status_code == 200 and logged.json()["id"] == first["id"]
    await view_when(api, first["id"], lambda v: v["repeats"] == 1)  # counted, then resolved
    resolved = await api.post(f"/api/incidents/{first['id']}/resolve", json={"responder": "alice"})
    assert resolved.status_code == 200

    again = await api.post("/api/incidents", json={**QUIET, "dedup_key": "flapping"})
    assert again.status_code == 201, "resolved through this API: the key is asked of Temporal again"
    new = again.json()["id"]
    assert new != first["id"]
    view = await view_when(api, new, lambda v: len(v["paged"]) == 2)
    assert view["state"] == "triggered" and [p["person"] for p in view["paged"]] == ["alice", "dave"]


async def test_a_logged_repeat_whose_incident_closed_meanwhile_opens_a_new_one(api):
    """Resolved elsewhere (another API process, say) while this one still knows the key as
    open: the repeat is logged and answered 200, and its batch opens a new incident."""
    first = (await api.post("/api/incidents", json={**QUIET, "dedup_key": "elsewhere"})).json()
    service = api.app.state.incidents
    handle = await service.locate(first["id"])
    await handle.terminate("resolved elsewhere, for the test")  # the run is closed
    logged = await api.post("/api/incidents", json={**QUIET, "dedup_key": "elsewhere"})
    assert logged.status_code == 200

    ids = await openings(api, first["id"].split("-")[0], 2)
    [new] = [i for i in ids if i != first["id"]]
    view = await view_when(api, new, lambda v: len(v["paged"]) == 2)
    assert [p["person"] for p in view["paged"]] == ["alice", "dave"]
    assert backlog(api) == 0


async def test_repeats_a_dead_process_left_in_the_log_are_taken_over_and_counted(api, directory):
    rows = 3
    request = IncidentRequest(**QUIET, dedup_key="left-behind")
    data = prepare(request, REGISTRY, directory)
    engine = engine_for(None, api.settings.data_dir)
    store.append(engine, "dead-host-1", [(data.incident.id, data.model_dump(mode="json"))] * rows)
    with engine.begin() as conn:  # received long enough ago for another process to adopt
        conn.execute(sa.update(intake).values(received_at=utcnow() - timedelta(minutes=5)))

    await api.app.state.incidents.intake.adopt()  # as the forwarder does at start and every 15 s
    assert await drained(api) == 0
    [opened] = await openings(api, data.incident.id, 1)
    view = await view_when(api, opened, lambda v: len(v["paged"]) == 2)
    assert view["repeats"] == rows - 1
    assert [p["person"] for p in view["paged"]] == ["alice", "dave"]
