"""The incident's memory in the database: a run leaves one summary row and its events,
each written once however often the workflow documents it, on SQLite and PostgreSQL; a
database that is down never delays a page, and once it is back nothing is missing."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

from pydantic import SecretStr
from sqlalchemy import func, select

from activities.record import IncidentRecorder, events_of, summary_of
from conftest import Incidents, update
from postgres import TEMPLATE
from services.settings import Settings
from store.db import engine_for
from store.incidents import events_of as stored_events
from store.incidents import get_incident
from store.tables import incident_events
from worker import build_worker
from workflows.incident import IncidentWorkflow
from workflows.models import IncidentView, Page, ResponderAction, Severity, State, TimelineEntry

T0 = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)


def view(entries: int, state: State = State.TRIGGERED, **fields) -> IncidentView:
    timeline = [
        TimelineEntry(at=T0 + timedelta(minutes=i), kind="paged", actor="runbook", detail=f"step {i}")
        for i in range(entries)
    ]
    return IncidentView(
        id="inc-1",
        title="Checkout is failing",
        severity=Severity.SEV2,
        service="checkout",
        runbook="demo",
        state=state,
        created_at=T0,
        timeline=timeline,
        paged=[Page(person="alice", tier=1, at=T0), Page(person="bob", tier=2, at=T0 + timedelta(minutes=5))],
        **fields,
    )


def count(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(incident_events)).scalar_one()


def test_each_event_is_written_once_however_often_it_is_recorded(database_url, tmp_path):
    engine = engine_for(database_url, tmp_path)
    recorder = IncidentRecorder(engine)
    assert recorder.record(view(3)) == 3 + 2  # three timeline entries, two pages
    assert recorder.record(view(3)) == 0  # a retried activity
    assert recorder.record(view(5)) == 2  # a later documentation adds only what is new
    assert count(engine) == 7
    assert [e.seq for e in stored_events(engine, "inc-1") if e.kind == "paged"] == [0, 1, 2, 3, 4]


def test_the_summary_says_who_acknowledged_at_which_tier_and_an_older_view_never_rolls_it_back(
    database_url, tmp_path
):
    engine = engine_for(database_url, tmp_path)
    recorder = IncidentRecorder(engine)
    acked = T0 + timedelta(minutes=7)
    resolved = view(
        6,
        State.RESOLVED,
        acknowledged_by="bob",
        acknowledged_at=acked,
        resolved_by="alertmanager",
        resolved_at=T0 + timedelta(minutes=30),
    )
    recorder.record(resolved)
    recorder.record(view(4, State.ACKNOWLEDGED, acknowledged_by="bob", acknowledged_at=acked))  # late
    row = get_incident(engine, "inc-1")
    assert row is not None
    assert (row.state, row.acknowledged_by, row.acknowledged_tier, row.max_tier) == ("resolved", "bob", 2, 2)
    assert row.acknowledged_at == acked and row.triggered_at == T0
    assert row.pages_sent == 2 and row.auto_resolved is True
    assert summary_of(resolved).resolved_at == row.resolved_at


def test_archived_entries_keep_their_place_in_the_whole_timeline():
    later = view(2).model_copy(update={"timeline_archived": 1000})
    archived = [TimelineEntry(at=T0, kind="note", actor="alice", detail="first")]
    events = events_of(later, archived, archive_start=0)
    ids = [e.event_id for e in events if e.kind != "page"]
    assert ids == ["incident-inc-1:0", "incident-inc-1:1000", "incident-inc-1:1001"]


def recording_to(url: str, tmp_path) -> Settings:
    """Settings for a worker of its own (its own task queue) that records into ``url``."""
    return Settings(data_dir=tmp_path, task_queue=f"record-{uuid.uuid4()}", database_url=SecretStr(url))


async def test_a_run_leaves_its_summary_and_timeline_in_the_database(env, directory, database_url, tmp_path):
    """End to end on the time-skipping server, with the worker writing to each backend."""
    recording = recording_to(database_url, tmp_path)
    incidents = Incidents(env, recording, directory)
    async with build_worker(env.client, recording):
        handle = await incidents.open(runbook="demo")
        await env.sleep(timedelta(seconds=12))  # tier 1 (alice) times out, tier 2 (bob) paged
        await update(handle, IncidentWorkflow.acknowledge, ResponderAction(responder="bob"))
        await update(handle, IncidentWorkflow.resolve, ResponderAction(responder="bob"))
        final = await handle.result()
    engine = engine_for(database_url, tmp_path)
    row = get_incident(engine, final.id)
    assert row is not None and row.state == "resolved" and row.resolved_by == "bob"
    assert row.acknowledged_by == "bob" and row.acknowledged_tier == 2 and row.max_tier == 2
    stored = [e for e in stored_events(engine, final.id) if e.kind != "page"]
    assert [(e.kind, e.actor) for e in stored] == [(e.kind, e.actor) for e in final.timeline]
    assert len({e.event_id for e in stored_events(engine, final.id)}) == count(engine)


async def test_a_database_outage_delays_no_page_and_loses_no_event(env, directory, postgres, tmp_path):
    url = postgres.url(postgres.create_database(TEMPLATE))
    recording = recording_to(url, tmp_path)
    incidents = Incidents(env, recording, directory)
    async with build_worker(env.client, recording):
        postgres.kill()  # down before the first acknowledgement is recorded
        try:
            handle = await incidents.open(runbook="demo")
            await env.sleep(timedelta(seconds=2))
            await update(handle, IncidentWorkflow.acknowledge, ResponderAction(responder="alice"))
            await update(handle, IncidentWorkflow.resolve, ResponderAction(responder="alice"))
            # The recording activity fails and is retried meanwhile, and nothing waits on it.
            assert await retrying(handle), "the record was not retried while the database was down"
            view_now = await handle.query(IncidentWorkflow.incident)
            assert [p.person for p in view_now.paged] == ["alice"]  # paged while the database was down
        finally:
            postgres.start()
        final = await handle.result()  # completes once the record has landed
    engine = engine_for(url, tmp_path)
    stored = [e for e in stored_events(engine, final.id) if e.kind != "page"]
    assert [(e.seq, e.kind) for e in stored] == [(i, e.kind) for i, e in enumerate(final.timeline)]
    assert get_incident(engine, final.id).state == "resolved"


async def retrying(handle) -> bool:
    """True once the document activity has failed at least once and is being retried."""
    for _ in range(100):
        pending = (await handle.describe()).raw_description.pending_activities
        if any(a.activity_type.name == "document_incident" and a.attempt >= 2 for a in pending):
            return True
        await asyncio.sleep(0.1)
    return False
