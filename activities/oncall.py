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
from datetime import datetime, timedelta

from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError
from temporalio import activity

from schedules.models import Schedule
from schedules.oncall import oncall
from store.db import transaction
from store.people import is_empty, list_people
from store.schedules import has_schedules, schedule_for
from workflows import contract
from workflows.activity_models import NextShift, NextShiftQuestion, OnCallAnswer, OnCallQuestion
from workflows.models import Person

log = logging.getLogger(__name__)
SHIFT_HORIZON = timedelta(days=35)  # how far ahead the next hand-off is looked for


class OnCallResolver:
    """Holds the database, the seed schedules and the directory file's people (a callable:
    the file may be edited while the worker runs)."""

    def __init__(
        self,
        engine: Engine | None,
        seed: list[Schedule],
        directory: Callable[[], list[Person]],
        shift_notices: timedelta | None = None,
    ) -> None:
        self.engine = engine
        self.seed = seed
        self.directory = directory
        self.shift_notices = shift_notices  # how long ahead to remind; None: notices are off

    @activity.defn(name=contract.RESOLVE_ONCALL)
    async def resolve_oncall(self, question: OnCallQuestion) -> list[OnCallAnswer]:
        return await asyncio.to_thread(self.resolve, question)

    def resolve(self, question: OnCallQuestion) -> list[OnCallAnswer]:
        """Each schedule's answer, in the order asked (without a database: the seed's)."""
        if self.engine is None:
            return self._from_files(question)
        try:
            with transaction(self.engine) as conn:
                source = "" if has_schedules(conn) else "from the seed file"
                found = {s: schedule_for(conn, self.seed, s, question.at) for s in question.schedules}
                people = self._people(conn)
        except SQLAlchemyError as err:
            log.warning("schedules read from the seed file: the database failed (%s)", type(err).__name__)
            return self._from_files(
                question, f"from the seed file: the database failed ({type(err).__name__})"
            )
        return [_answer(s, found[s], people, question, source) for s in question.schedules]

    @activity.defn(name=contract.NEXT_SHIFT)
    async def next_shift(self, question: NextShiftQuestion) -> NextShift:
        return await asyncio.to_thread(self.upcoming, question)

    def upcoming(self, question: NextShiftQuestion) -> NextShift:
        """The first hand-off after ``question.after`` that puts someone new on call."""
        if self.shift_notices is None:
            return NextShift(schedule=question.schedule, off=True)
        people = self._directory_now()
        schedule = self._schedule(question.schedule, question.after)
        if schedule is None:
            return NextShift(schedule=question.schedule, gone=True)
        found = NextShift(schedule=schedule.id, schedule_name=schedule.name, remind_before=self.shift_notices)
        before = oncall(schedule, question.after)
        at = before.valid_until
        while at is not None and at - question.after <= SHIFT_HORIZON:
            if schedule.superseded_at is not None and at >= schedule.superseded_at:
                schedule = self._schedule(question.schedule, at) or schedule  # an edit made for then
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

    def _schedule(self, schedule_id: str, at: datetime) -> Schedule | None:
        """The schedule as it stands at ``at`` (the database's, else the seed's)."""
        if self.engine is None:
            return next((s for s in self.seed if s.id == schedule_id), None)
        with transaction(self.engine) as conn:
            return schedule_for(conn, self.seed, schedule_id, at)

    def _directory_now(self) -> dict[str, Person]:
        if self.engine is None:
            return {p.id: p for p in self.directory()}
        with transaction(self.engine) as conn:
            return self._people(conn)

    def _from_files(self, question: OnCallQuestion, source: str = "from the seed file") -> list[OnCallAnswer]:
        seed = {s.id: s for s in self.seed}
        people = {p.id: p for p in self.directory()}
        return [_answer(s, seed.get(s), people, question, source) for s in question.schedules]

    def _people(self, conn: Connection) -> dict[str, Person]:
        if is_empty(conn):  # the directory file answers until the database has a directory
            return {p.id: p for p in self.directory()}
        return {
            r.id: Person(id=r.id, name=r.name, email=r.email, timezone=r.timezone) for r in list_people(conn)
        }


def _answer(
    schedule_id: str,
    schedule: Schedule | None,
    people: dict[str, Person],
    question: OnCallQuestion,
    source: str = "",
) -> OnCallAnswer:
    """One schedule's answer; a schedule that fails to compute fails alone (the tier's other
    schedules still answer)."""
    if schedule is None:
        return OnCallAnswer(schedule=schedule_id, found=False)
    try:
        answer = oncall(schedule, question.at)
    except (ValueError, OverflowError) as err:
        return OnCallAnswer(schedule=schedule_id, revision=schedule.revision, error=str(err)[:300])
    return OnCallAnswer(
        source=source,
        schedule=schedule_id,
        people=[people[p] for p in answer.people if p in people],
        layer=answer.layer,
        overrides=answer.overrides,
        revision=answer.revision,
        valid_until=answer.valid_until,
        missing=[p for p in answer.people if p not in people],
    )
