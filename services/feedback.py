"""Feedback on a resolved incident from the people it paged or notified.

Each person answers through a signed link of their own (``/f/<token>``, made with
``security.links.FeedbackLinks``): a rating from 1 to 5, a comment, and whether to stay
anonymous. One answer per person and incident; a second one replaces the first. Whoever
reads the answers (the API, the review) gets an anonymous one without its person.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy.engine import Engine

from services.database import Database
from services.record import recorded
from store import feedback as rows
from store.feedback import FeedbackAnswer, FeedbackRecord
from store.models import IncidentSummary
from workflows.errors import UnknownResponder
from workflows.models import Person, clean_text

T = TypeVar("T")


class FeedbackEntry(BaseModel):
    """One answer as it is read: ``person_id`` is None when it was sent anonymously."""

    person_id: str | None
    rating: int
    comment: str
    anonymous: bool
    created_at: datetime
    updated_at: datetime


class IncidentFeedback(BaseModel):
    """Every answer on an incident, oldest first, and their average rating (None: none yet)."""

    incident_id: str
    responses: int
    average: float | None
    answers: list[FeedbackEntry]


def summarize(incident_id: str, records: list[FeedbackRecord]) -> IncidentFeedback:
    """The answers as they are shown: never the person behind an anonymous one."""
    answers = [
        FeedbackEntry(
            person_id=None if r.anonymous else r.person_id,
            rating=r.rating,
            comment=r.comment,
            anonymous=r.anonymous,
            created_at=r.created_at,
            updated_at=r.updated_at,
        )
        for r in records
    ]
    average = round(sum(a.rating for a in answers) / len(answers), 2) if answers else None
    return IncidentFeedback(incident_id=incident_id, responses=len(answers), average=average, answers=answers)


@dataclass(frozen=True)
class Asked:
    """What a feedback link shows: the incident, the person asked and their own answer."""

    incident: IncidentSummary
    person: Person
    answer: FeedbackRecord | None


class FeedbackService:
    def __init__(self, database: Database, people: Any) -> None:
        self._database = database
        self._people = people  # anything with person(id) -> Person | None (the directory)

    async def asked(self, incident_id: str, person_id: str) -> Asked:
        """The incident and the person's earlier answer, if any. Changes nothing.

        Raises:
            UnknownResponder: the person is no longer in the directory.
            NoSuchRecord: the incident is not in the record (404).
            Unavailable: the database cannot be reached.
        """
        person = self._person(person_id)

        def read(engine: Engine) -> Asked:
            return Asked(recorded(engine, incident_id), person, rows.get(engine, incident_id, person_id))

        return await self._run(read)

    async def answer(self, incident_id: str, person_id: str, answer: FeedbackAnswer) -> Asked:
        """Store the person's answer, replacing an earlier one; the same errors as ``asked``."""
        person = self._person(person_id)
        cleaned = answer.model_copy(update={"comment": str(clean_text(answer.comment)).strip()})

        def write(engine: Engine) -> Asked:
            incident = recorded(engine, incident_id)
            return Asked(incident, person, rows.save(engine, incident_id, person_id, cleaned))

        return await self._run(write)

    async def of(self, incident_id: str) -> IncidentFeedback:
        """Every answer on the incident. Raises NoSuchRecord (404) or Unavailable."""

        def read(engine: Engine) -> IncidentFeedback:
            recorded(engine, incident_id)
            return summarize(incident_id, rows.answers(engine, incident_id))

        return await self._run(read)

    def _person(self, person_id: str) -> Person:
        person: Person | None = self._people().person(person_id)
        if person is None:
            raise UnknownResponder(f"{person_id!r} is no longer in the directory")
        return person

    async def _run(self, work: Callable[[Engine], T]) -> T:
        """``work`` on the engine in a thread; a database that fails is ``Unavailable``."""
        return await self._database.run(work)
