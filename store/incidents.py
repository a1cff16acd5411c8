"""Incident summaries (one row each) and their append-only timelines.

``append_events`` is safe to repeat: an event whose ``event_id`` is already stored is
skipped by the database itself (``INSERT ... ON CONFLICT DO NOTHING``), and the count it
returns is the number of rows this call really inserted, exact under concurrent retries
(the rows come back through ``RETURNING``), so it can drive counters.
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from store.db import transaction, utcnow
from store.models import IncidentEvent, IncidentSummary
from store.tables import incident_events, incidents
from store.upsert import insert, upsert

# Rows per INSERT statement (10 columns each: far below SQLite's variable limit).
BATCH = 500


def upsert_incident(bind: Engine | Connection, summary: IncidentSummary) -> None:
    """Insert the incident's summary row, or overwrite it with ``summary``."""
    row = summary.model_dump()
    row["updated_at"] = summary.updated_at or utcnow()
    with transaction(bind) as conn:
        upsert(conn, incidents, row, key=["id"])


def get_incident(bind: Engine | Connection, incident_id: str) -> IncidentSummary | None:
    with transaction(bind) as conn:
        row = conn.execute(sa.select(incidents).where(incidents.c.id == incident_id)).first()
    return IncidentSummary.model_validate(dict(row._mapping)) if row else None


def append_events(bind: Engine | Connection, events: Iterable[IncidentEvent]) -> int:
    """Store the events not stored yet; return how many rows were inserted.

    Events repeated within ``events`` count once. Several callers appending the same events
    at the same time insert each one once, and their counts add up to the distinct events.
    Rows go in ``event_id`` order; a caller that appends twice in one transaction of its own
    can still deadlock with another doing the same in the other order (PostgreSQL then
    aborts one of them: retry it).
    """
    unique = {event.event_id: event.model_dump() for event in events}
    # One global order: concurrent inserts of overlapping events then wait on each other
    # in the same order and never deadlock (PostgreSQL locks each new key until commit).
    rows = [unique[event_id] for event_id in sorted(unique)]
    inserted = 0
    with transaction(bind) as conn:
        for start in range(0, len(rows), BATCH):
            statement = (
                insert(conn, incident_events)
                .values(rows[start : start + BATCH])
                .on_conflict_do_nothing(index_elements=["event_id"])
                .returning(incident_events.c.event_id)
            )
            inserted += len(conn.execute(statement).all())
    return inserted


def events_of(bind: Engine | Connection, incident_id: str) -> list[IncidentEvent]:
    """The incident's timeline, in ``seq`` order (then in the order stored)."""
    columns = [incident_events.c[name] for name in IncidentEvent.model_fields]
    query = (
        sa.select(*columns)
        .where(incident_events.c.incident_id == incident_id)
        .order_by(incident_events.c.seq, incident_events.c.id)
    )
    with transaction(bind) as conn:
        return [IncidentEvent.model_validate(dict(row._mapping)) for row in conn.execute(query)]
