"""Feedback on a resolved incident: one answer per person, a second one replaces the first.

An anonymous answer still stores its person (so that it stays one answer per person and
the reminder skips them); whoever reads answers hides the person (:func:`answers`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import sqlalchemy as sa
from pydantic import AwareDatetime, Field, StringConstraints
from sqlalchemy.engine import Connection, Engine

from store.db import transaction, utcnow
from store.models import Record
from store.tables import feedback
from store.upsert import insert

Comment = Annotated[str, StringConstraints(strip_whitespace=True, max_length=5_000)]


class FeedbackAnswer(Record):
    """What a person sends: a rating from 1 to 5, a comment, and whether to stay anonymous."""

    rating: int = Field(ge=1, le=5)
    comment: Comment = ""
    anonymous: bool = False


class FeedbackRecord(FeedbackAnswer):
    """An answer as stored; ``person_id`` is None when read back for display and anonymous."""

    incident_id: str
    person_id: str | None
    created_at: AwareDatetime
    updated_at: AwareDatetime


def save(
    bind: Engine | Connection,
    incident_id: str,
    person_id: str,
    answer: FeedbackAnswer,
    *,
    now: datetime | None = None,
) -> FeedbackRecord:
    """Store ``person_id``'s answer on ``incident_id``, replacing an earlier one."""
    now = now or utcnow()
    row = {"incident_id": incident_id, "person_id": person_id, **answer.model_dump()}
    with transaction(bind) as conn:
        statement = insert(conn, feedback).values(row | {"created_at": now, "updated_at": now})
        changes = {"rating": answer.rating, "comment": answer.comment, "anonymous": answer.anonymous}
        conn.execute(
            statement.on_conflict_do_update(
                index_elements=["incident_id", "person_id"], set_=changes | {"updated_at": now}
            )
        )
        stored = conn.execute(
            sa.select(feedback).where(
                feedback.c.incident_id == incident_id, feedback.c.person_id == person_id
            )
        ).one()
    return FeedbackRecord.model_validate(dict(stored._mapping))


def get(bind: Engine | Connection, incident_id: str, person_id: str) -> FeedbackRecord | None:
    """``person_id``'s own answer (person kept, even when anonymous: it is theirs)."""
    with transaction(bind) as conn:
        row = conn.execute(
            sa.select(feedback).where(
                feedback.c.incident_id == incident_id, feedback.c.person_id == person_id
            )
        ).first()
    return FeedbackRecord.model_validate(dict(row._mapping)) if row else None


def answers(bind: Engine | Connection, incident_id: str) -> list[FeedbackRecord]:
    """Every answer on ``incident_id``, oldest first, anonymous ones without their person."""
    with transaction(bind) as conn:
        rows = conn.execute(
            sa.select(feedback)
            .where(feedback.c.incident_id == incident_id)
            .order_by(feedback.c.created_at, feedback.c.person_id)
        ).all()
    found = [FeedbackRecord.model_validate(dict(row._mapping)) for row in rows]
    return [a.model_copy(update={"person_id": None}) if a.anonymous else a for a in found]


def answered(bind: Engine | Connection, incident_id: str) -> set[str]:
    """Who has answered on ``incident_id`` (anonymous or not): the reminder skips them."""
    with transaction(bind) as conn:
        return set(
            conn.execute(
                sa.select(feedback.c.person_id).where(feedback.c.incident_id == incident_id)
            ).scalars()
        )
