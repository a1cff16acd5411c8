"""Post-incident reviews: one editable body per incident, drafted when it is resolved."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import sqlalchemy as sa
from pydantic import AwareDatetime, Field, StringConstraints
from sqlalchemy.engine import Connection, Engine

from store.db import transaction, utcnow
from store.models import Record
from store.tables import reviews
from store.upsert import insert, upsert
from workflows.models import Slug

Prose = Annotated[str, StringConstraints(max_length=20_000)]


class ActionItem(Record):
    text: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
    owner: Slug
    done: bool = False


class ReviewSections(Record):
    """What the team writes. ``PUT`` replaces all of it."""

    summary: Prose = ""
    contributing_factors: Prose = ""
    went_well: Prose = ""
    went_wrong: Prose = ""
    lucky: Prose = ""
    action_items: list[ActionItem] = Field(default_factory=list, max_length=100)


def draft(summary: str) -> dict[str, Any]:
    """The first body of a review: the incident's description as its summary, the rest empty."""
    return ReviewSections(summary=summary[:20_000]).model_dump()


class ReviewRecord(Record):
    incident_id: str
    body: dict[str, Any]
    updated_at: AwareDatetime
    updated_by: str | None = None


def get_review(bind: Engine | Connection, incident_id: str) -> ReviewRecord | None:
    with transaction(bind) as conn:
        row = conn.execute(sa.select(reviews).where(reviews.c.incident_id == incident_id)).first()
    return ReviewRecord.model_validate(dict(row._mapping)) if row else None


def create_draft(bind: Engine | Connection, incident_id: str, body: dict[str, Any]) -> bool:
    """Store the first draft; an existing review (a retried activity, an edited review) is
    kept as it is. True when this call created it."""
    row = {"incident_id": incident_id, "body": body, "updated_at": utcnow(), "updated_by": None}
    with transaction(bind) as conn:
        statement = insert(conn, reviews).values(row).on_conflict_do_nothing(index_elements=["incident_id"])
        return conn.execute(statement.returning(reviews.c.incident_id)).first() is not None


def save_review(
    bind: Engine | Connection, incident_id: str, body: dict[str, Any], by: str, at: datetime | None = None
) -> ReviewRecord:
    """Replace the review's body (``by``: who edited it)."""
    row = {"incident_id": incident_id, "body": body, "updated_at": at or utcnow(), "updated_by": by}
    with transaction(bind) as conn:
        upsert(conn, reviews, row, key=["incident_id"])
    return ReviewRecord.model_validate(row)
