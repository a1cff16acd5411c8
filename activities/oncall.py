"""The ``resolve_oncall`` activity: who a tier's schedules put on call at the workflow's time.

It reads each schedule as it stood at that instant (the revision then in effect, the
overrides then in force) from the application database, or from the seed file while the
database holds no schedule, and answers with people from the directory. A database that
cannot be read does not stop the page: the seed file and the directory file answer, and the
answer says so on the timeline (its revision is the seed's).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError
from temporalio import activity

from schedules.models import Schedule
from schedules.oncall import oncall
from store.db import transaction
from store.people import is_empty, list_people
from store.schedules import schedule_for
from workflows import contract
from workflows.activity_models import NextShift, NextShiftQuestion, OnCallAnswer, OnCallQuestion
from workflows.models import Person

log = logging.getLogger(__name__)
SHIFT_HORIZON = timedelta(days=35)  # how far ahead the next hand-off is looked for


class OnCallResolver:
    """Holds the database, the seed schedules and the directory file's people (a callable:
    the file may be edited while the worker runs)."""

    def __init__(
        self, engine: Engine | None, seed: list[Schedule], directory: Callable[[], list[Person]]
    ) -> None:
        self.engine = engine
        self.seed = seed
        self.directory = directory

    @activity.defn(name=contract.RESOLVE_ONCALL)
    async def resolve_oncall(self, question: OnCallQuestion) -> list[OnCallAnswer]:
        return await asyncio.to_thread(self.resolve, question)

    def resolve(self, question: OnCallQuestion) -> list[OnCallAnswer]:
        """Each schedule's answer, in the order asked (without a database: the seed's)."""
        if self.engine is None:
            return self._from_files(question)
        try:
            with transaction(self.engine) as conn:
                found = {s: schedule_for(conn, self.seed, s, question.at) for s in question.schedules}
                people = self._people(conn)
        except SQLAlchemyError as err:
            log.warning("schedules read from the seed file: the database failed (%s)", type(err).__name__)
            return self._from_files(question)
        return [
            _answer(schedule_id, found[schedule_id], people, question) for schedule_id in question.schedules
        ]

    @activity.defn(name=contract.NEXT_SHIFT)
    async def next_shift(self, question: NextShiftQuestion) -> NextShift:
        return await asyncio.to_thread(self.upcoming, question)

    def upcoming(self, question: NextShiftQuestion) -> NextShift:
        """The first hand-off after ``question.after`` that puts someone new on call."""
        people = self._directory_now()
        if self.engine is None:
            schedule = next((s for s in self.seed if s.id == question.schedule), None)
        else:
            with transaction(self.engine) as conn:
                schedule = schedule_for(conn, self.seed, question.schedule, question.after)
        if schedule is None:
            return NextShift(schedule=question.schedule, gone=True)
        found = NextShift(schedule=schedule.id, schedule_name=schedule.name)
        before = oncall(schedule, question.after)
        at = before.valid_until
        while at is not None and at - question.after <= SHIFT_HORIZON:
            now = oncall(schedule, at)
            incoming = [p for p in now.people if p not in before.people and p in people]
            if incoming:
                return found.model_copy(
                    update={
                        "starts_at": at,
                        "ends_at": now.valid_until,
                        "people": [people[p] for p in incoming],
                    }
                )
            before, at = now, now.valid_until
        return found

    def _directory_now(self) -> dict[str, Person]:
        if self.engine is None:
            return {p.id: p for p in self.directory()}
        with transaction(self.engine) as conn:
            return self._people(conn)

    def _from_files(self, question: OnCallQuestion) -> list[OnCallAnswer]:
        seed = {s.id: s for s in self.seed}
        people = {p.id: p for p in self.directory()}
        return [_answer(s, seed.get(s), people, question) for s in question.schedules]

    def _people(self, conn: Connection) -> dict[str, Person]:
        if is_empty(conn):  # the directory file answers until the database has a directory
            return {p.id: p for p in self.directory()}
        return {
            r.id: Person(id=r.id, name=r.name, email=r.email, timezone=r.timezone) for r in list_people(conn)
        }


def _answer(
    schedule_id: str, schedule: Schedule | None, people: dict[str, Person], question: OnCallQuestion
) -> OnCallAnswer:
    if schedule is None:
        return OnCallAnswer(schedule=schedule_id, found=False)
    answer = oncall(schedule, question.at)
    return OnCallAnswer(
        schedule=schedule_id,
        people=[people[p] for p in answer.people if p in people],
        layer=answer.layer,
        overrides=answer.overrides,
        revision=answer.revision,
        valid_until=answer.valid_until,
        missing=[p for p in answer.people if p not in people],
    )
