"""The incident's memory in the application database: its summary row and its events.

Called by the document activity each time the workflow documents the incident
(acknowledged, exhausted, archived, resolved). Every timeline entry becomes one event
with the id ``incident-<id>:<n>`` (``n`` its place in the whole timeline, archived
entries included) and every page one ``page`` event (``incident-<id>:page:<n>``) with
the person and tier, so a retried activity or a repeated call writes each once. A
database that is down makes the activity fail and Temporal retry it, while the
escalation goes on; when the database is back every event lands, once.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from store.db import transaction
from store.incidents import append_events, get_incident, upsert_incident
from store.incidents import events_of as stored_events
from store.models import PAGE_EVENT, IncidentEvent, IncidentSummary
from store.reviews import create_draft, draft
from store.tables import incident_events
from workflows.models import IncidentView, Page, State, TimelineEntry
from workflows.vocabulary import SYSTEM_ACTORS


def summary_of(view: IncidentView) -> IncidentSummary:
    """The incident's one row: where it stands, who acted, how far it went."""
    tiers = [page.tier for page in view.paged]
    acked = view.acknowledged_at
    acked_tier = max((p.tier for p in view.paged if acked and p.at <= acked), default=None)
    return IncidentSummary(
        id=view.id,
        service=view.service,
        severity=view.severity.value,
        runbook=view.runbook,
        title=view.title,
        state=view.state.value,
        triggered_at=view.created_at,
        acknowledged_at=acked,
        acknowledged_by=view.acknowledged_by,
        acknowledged_tier=acked_tier,
        resolved_at=view.resolved_at,
        resolved_by=view.resolved_by,
        max_tier=max(tiers, default=None),
        pages_sent=len(view.paged),
        auto_resolved=(view.resolved_by in SYSTEM_ACTORS) if view.resolved_by else None,
        sla_breached=view.sla.breached if view.sla is not None else None,
        drill=view.drill,
    )


def events_of(
    view: IncidentView, archive: Sequence[TimelineEntry] = (), archive_start: int = 0
) -> list[IncidentEvent]:
    """The view's timeline (and an archived batch of earlier entries) and its pages, as events."""
    events = [
        _event(view.id, seq, entry)
        for entries, first in ((archive, archive_start), (view.timeline, view.timeline_archived))
        for seq, entry in enumerate(entries, start=first)
    ]
    events += [
        IncidentEvent(
            event_id=f"{_prefix(view.id)}:page:{number}",
            incident_id=view.id,
            seq=number,
            kind=PAGE_EVENT,
            at=page.at,
            actor=page.person,
            tier=page.tier,
        )
        for number, page in enumerate(view.paged)
    ]
    return events


def _event(incident_id: str, seq: int, entry: TimelineEntry) -> IncidentEvent:
    return IncidentEvent(
        event_id=f"{_prefix(incident_id)}:{seq}",
        incident_id=incident_id,
        seq=seq,
        kind=entry.kind,
        at=entry.at,
        actor=entry.actor,
        detail=entry.detail,
    )


def _prefix(incident_id: str) -> str:
    return f"incident-{incident_id}"


class IncidentRecorder:
    """Writes what the workflow documents into the database (blocking: run it in a thread)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def record(
        self, view: IncidentView, archive: Sequence[TimelineEntry] = (), archive_start: int = 0
    ) -> int:
        """Store the summary and every event not stored yet; returns how many events were new.

        A view older than what is stored (a slow background call overtaken by a later one)
        adds its missing events but never rolls the summary back.
        """
        last = view.timeline_archived + len(view.timeline) - 1
        with transaction(self.engine) as conn:
            stored = conn.execute(
                sa.select(sa.func.max(incident_events.c.seq)).where(
                    incident_events.c.incident_id == view.id,
                    incident_events.c.kind != PAGE_EVENT,
                )
            ).scalar()
            if stored is None or stored <= last:
                upsert_incident(conn, summary_of(view))
            inserted = append_events(conn, events_of(view, archive, archive_start))
            if view.state is State.RESOLVED:  # the post-incident review's first draft
                create_draft(conn, view.id, draft(view.description or view.title))
            return inserted

    def recorded(self, view: IncidentView) -> IncidentView:
        """The incident as the record holds it, for the report: its row's times and people,
        its pages and its whole timeline (archived entries included) from the event log."""
        with transaction(self.engine) as conn:
            summary = get_incident(conn, view.id)
            events = stored_events(conn, view.id)
        if summary is None:
            return view
        return view.model_copy(
            update={
                "acknowledged_at": summary.acknowledged_at,
                "acknowledged_by": summary.acknowledged_by,
                "resolved_at": summary.resolved_at,
                "resolved_by": summary.resolved_by,
                "paged": [
                    Page(person=e.actor, tier=e.tier or 0, at=e.at) for e in events if e.kind == PAGE_EVENT
                ],
                "timeline": [
                    TimelineEntry(at=e.at, kind=e.kind, actor=e.actor, detail=e.detail)
                    for e in events
                    if e.kind != PAGE_EVENT
                ],
                "timeline_archived": 0,
            }
        )
