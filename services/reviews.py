"""Post-incident reviews: what the record says, and what the team writes about it.

A draft is stored when an incident is resolved (``activities/record.py``). Reading a
review joins the facts of the record (impact, timeline, responders, times to acknowledge
and resolve), which nobody edits, to the sections people write: summary, contributing
factors, what went well, what went wrong, where we got lucky, action items with owners;
and to the responders' feedback (``services/feedback.py``), anonymous answers without
their person.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy.engine import Engine

from services.database import Database
from services.feedback import IncidentFeedback, summarize
from services.record import recorded
from store import reviews as rows
from store.feedback import answers
from store.incidents import events_of
from store.models import PAGE_EVENT
from store.reviews import ReviewSections
from workflows.errors import ActionRejected, UnknownResponder
from workflows.vocabulary import SYSTEM_ACTORS, Actor

NOT_PEOPLE = SYSTEM_ACTORS | {Actor.RUNBOOK.value, Actor.EMAIL.value, "api"}


class ReviewEntry(BaseModel):
    at: datetime
    kind: str
    actor: str
    detail: str


class Review(BaseModel):
    """The review as it is read: the record's facts and the team's sections."""

    incident_id: str
    title: str
    severity: str
    service: str
    runbook: str | None
    triggered_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    resolved_at: datetime | None
    resolved_by: str | None
    duration_seconds: float | None
    mtta_seconds: float | None
    mttr_seconds: float | None
    tiers_reached: list[int]
    responders: list[str]
    timeline: list[ReviewEntry]
    sections: ReviewSections
    updated_at: datetime
    updated_by: str | None
    feedback: IncidentFeedback  # the responders' answers: anonymous ones without their person


class NotResolvedYet(ActionRejected):
    code = "not-resolved"


class ReviewService:
    def __init__(self, database: Database, people: Any) -> None:
        self._database = database
        self._people = people  # anything with person(id) -> Person | None (the directory)

    async def get(self, incident_id: str) -> Review:
        """The review. Raises NoSuchRecord (404) or NotResolvedYet (409)."""
        return await self._database.run(self._get, incident_id)

    async def put(self, incident_id: str, sections: ReviewSections, by: str) -> Review:
        """Replace the sections. Raises UnknownResponder (422) for an owner who is not a person."""
        for item in sections.action_items:
            if self._people().person(item.owner) is None:
                raise UnknownResponder(f"action item owner {item.owner!r} is not in the directory")
        return await self._database.run(self._put, incident_id, sections, by)

    def _get(self, engine: Engine, incident_id: str) -> Review:
        incident = recorded(engine, incident_id)
        stored = rows.get_review(engine, incident_id)
        if stored is None:
            raise NotResolvedYet("the review opens once the incident is resolved")
        events = events_of(engine, incident_id)
        entries = [e for e in events if e.kind != PAGE_EVENT]
        pages = [e for e in events if e.kind == PAGE_EVENT]
        people = [e.actor for e in pages] + [e.actor for e in entries if e.actor not in NOT_PEOPLE]
        start = incident.triggered_at

        def seconds(at: datetime | None) -> float | None:
            return (at - start).total_seconds() if at else None

        return Review(
            incident_id=incident.id,
            title=incident.title,
            severity=incident.severity,
            service=incident.service,
            runbook=incident.runbook,
            triggered_at=start,
            acknowledged_at=incident.acknowledged_at,
            acknowledged_by=incident.acknowledged_by,
            resolved_at=incident.resolved_at,
            resolved_by=incident.resolved_by,
            duration_seconds=seconds(incident.resolved_at),
            mtta_seconds=seconds(incident.acknowledged_at),
            mttr_seconds=seconds(incident.resolved_at),
            tiers_reached=sorted({e.tier for e in pages if e.tier is not None}),
            responders=list(dict.fromkeys(people)),
            timeline=[ReviewEntry(at=e.at, kind=e.kind, actor=e.actor, detail=e.detail) for e in entries],
            sections=ReviewSections.model_validate(stored.body),
            updated_at=stored.updated_at,
            updated_by=stored.updated_by,
            feedback=summarize(incident.id, answers(engine, incident_id)),
        )

    def _put(self, engine: Engine, incident_id: str, sections: ReviewSections, by: str) -> Review:
        self._get(engine, incident_id)  # the same 404 / 409 as reading
        rows.save_review(engine, incident_id, sections.model_dump(), by)
        return self._get(engine, incident_id)
