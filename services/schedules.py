"""On-call schedules: stored, checked against the directory, and asked who is on call.

The database holds the schedules once anyone has written one; until then the seed file
(``SCHEDULES_FILE``) answers every read, and the first write loads that file into the
database before it applies (as the directory does). Every participant and every person an
override adds or removes must be in the directory (422 naming them). Every edit is a new
revision, so "who was on call at T" is answered with the revision in effect at T.

Paging asks the ``resolve_oncall`` activity (``activities/oncall.py``), which reads the
store itself.
"""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from pydantic import ValidationError
from sqlalchemy.engine import Engine

from runbooks.directory import Directory
from runbooks.schedule_seed import load_schedules
from schedules.models import Coverage, OnCall, Override, OverrideSpec, Schedule, ScheduleSpec, ShiftSpan
from schedules.oncall import oncall, shifts
from services.database import Database
from store import schedules as rows
from workflows.errors import ActionRejected, NotFound, UnknownResponder

T = TypeVar("T")
DEFAULT_PERIOD = timedelta(days=14)
MAX_PERIOD = timedelta(days=92)
PREVIEW_ID = "preview"


class UnknownSchedule(NotFound):
    """No schedule (or no override of it) has this id (404)."""

    code = "unknown-schedule"


class ScheduleConflict(ActionRejected):
    """The id is taken, or the same override is already in force (409)."""

    code = "schedule-conflict"


class UnknownParticipant(UnknownResponder):
    """A schedule or an override names someone who is not in the directory (422)."""

    code = "unknown-participant"


class InvalidSchedule(ValueError):
    """A request the schedule rules refuse (422): a bad period, a revision in the past,
    too many pending overrides, a change that leaves an invalid schedule."""


def period(
    since: datetime | None, until: datetime | None, now: datetime | None = None
) -> tuple[datetime, datetime]:
    """``[since, until)``, by default from now for 14 days. Raises :class:`InvalidSchedule`."""
    for value, name in ((since, "since"), (until, "until")):
        if value is not None and value.utcoffset() is None:
            raise InvalidSchedule(f"{name} needs a time zone offset (e.g. 2026-01-05T09:00:00Z)")
    start = since or (until - DEFAULT_PERIOD if until else now or datetime.now(UTC))
    end = until or start + DEFAULT_PERIOD
    if end <= start:
        raise InvalidSchedule("until must be after since")
    if end - start > MAX_PERIOD:
        raise InvalidSchedule(f"a period is at most {MAX_PERIOD.days} days")
    return start, end


def _reason(exc: ValidationError) -> str:
    return "; ".join(str(e["msg"]).removeprefix("Value error, ") for e in exc.errors())


def preview(spec: ScheduleSpec) -> Schedule:
    """An unsaved schedule, to ask who would be on call."""
    return Schedule.model_validate({**spec.model_dump(include=rows.SPEC_FIELDS), "id": PREVIEW_ID})


def coverage(schedule: Schedule, since: datetime, until: datetime) -> Coverage:
    try:
        return shifts(schedule, since, until)
    except ValueError as exc:
        raise InvalidSchedule(str(exc)) from None


class ScheduleService:
    def __init__(
        self,
        database: Database,
        people: Callable[[], Directory],
        seed_file: Path,
        on_change: Callable[[str], Awaitable[object]] | None = None,
    ) -> None:
        self._database = database
        self._on_change = on_change  # told of every schedule written (its shift watch)
        self._people = people  # the directory as it stands (DirectoryService.current)
        self._seed = load_schedules(seed_file)
        self._lock = threading.Lock()

    # -- reading: the database once it has a schedule, the seed file until then ----

    async def _read(self, work: Callable[..., T], *args: object) -> T:
        if not self._database.present():  # nothing written yet: do not create the database
            return work(None, *args)
        return await self._database.run(lambda engine, *a: work(self._stored(engine), *a), *args)

    def _stored(self, engine: Engine | None) -> Engine | None:
        return engine if engine is not None and rows.has_schedules(engine) else None

    def _list(self, engine: Engine | None, at: datetime | None) -> list[Schedule]:
        return (
            rows.list_schedules(engine, at) if engine is not None else sorted(self._seed, key=lambda s: s.id)
        )

    def _get(self, engine: Engine | None, schedule_id: str, at: datetime | None) -> Schedule:
        if engine is None:
            found = next((s for s in self._seed if s.id == schedule_id), None)
        else:
            found = rows.get(engine, schedule_id, at)
        if found is None:
            raise UnknownSchedule(f"no schedule {schedule_id!r}")
        return found

    async def list_schedules(self, at: datetime | None = None) -> list[Schedule]:
        return await self._read(self._list, at)

    async def get(self, schedule_id: str, at: datetime | None = None) -> Schedule:
        """The schedule as it stood at ``at`` (default now). Raises UnknownSchedule."""
        return await self._read(self._get, schedule_id, at)

    async def oncall(self, schedule_id: str, at: datetime | None = None) -> OnCall:
        at = at or datetime.now(UTC)
        return oncall(await self.get(schedule_id, at), at)

    async def shifts(self, schedule_id: str, since: datetime | None, until: datetime | None) -> Coverage:
        """Final and per-layer shifts and gaps over ``[since, until)`` (default: 14 days from
        now, at most 92), with the revision in effect at ``since``."""
        start, end = period(since, until)
        return coverage(await self.get(schedule_id, start), start, end)

    async def board(self, at: datetime | None = None) -> list[tuple[Schedule, OnCall]]:
        """Every schedule and who is on call in it at ``at`` (default now)."""
        at = at or datetime.now(UTC)
        return [(schedule, oncall(schedule, at)) for schedule in await self.list_schedules(at)]

    async def feed(
        self, person_id: str | None, schedule_id: str | None, days: int = 60
    ) -> list[tuple[Schedule, ShiftSpan]]:
        """``(schedule, final shift)`` pairs of the next ``days`` days, of one schedule or
        of every schedule for one person. Each shift keeps its own start (computed from up
        to 30 days back), so a calendar sees the same event at every refresh."""
        now = datetime.now(UTC)
        chosen = [await self.get(schedule_id, now)] if schedule_id else await self.list_schedules(now)
        found = []
        for schedule in chosen:
            for span in coverage(schedule, now - timedelta(days=30), now + timedelta(days=days)).final:
                if span.end > now and (person_id is None or person_id in span.people):
                    found.append((schedule, span))
        return sorted(found, key=lambda pair: (pair[1].start, pair[0].id))

    # -- writing (the first write loads the seed file first) ------------------------

    def _check_people(self, ids: Iterable[str | None]) -> None:
        directory = self._people()
        unknown = sorted({i for i in ids if i and directory.person(i) is None})
        if unknown:
            raise UnknownParticipant(f"not in the directory: {', '.join(unknown)}")

    def _check_spec(self, spec: ScheduleSpec) -> None:
        self._check_people(p for layer in spec.layers for p in layer.rotation.participants)

    async def _write(self, work: Callable[..., T], *args: object) -> T:
        def seeded(engine: Engine, *rest: object) -> T:
            with self._lock:
                if not rows.has_schedules(engine):
                    rows.import_schedules(engine, self._seed, by="seed")
            return work(engine, *rest)

        done = await self._database.run(seeded, *args)
        if self._on_change is not None:
            await self._on_change(str(args[0]))  # every write names its schedule first
        return done

    async def create(self, schedule_id: str, spec: ScheduleSpec, by: str) -> Schedule:
        """A new schedule at revision 1. Raises ScheduleConflict (id taken), UnknownParticipant."""
        self._check_spec(spec)
        return await self._write(self._create, schedule_id, spec, by)

    def _create(self, engine: Engine, schedule_id: str, spec: ScheduleSpec, by: str) -> Schedule:
        try:
            return rows.create(engine, schedule_id, spec, by)
        except rows.ScheduleExists as exc:
            raise ScheduleConflict(str(exc)) from None

    async def update(
        self, schedule_id: str, changes: dict[str, Any], by: str, effective_from: datetime | None = None
    ) -> Schedule:
        """A new revision: ``changes`` (name, time_zone, layers) over the revision in effect
        at ``effective_from`` (default now). Raises UnknownSchedule, UnknownParticipant,
        InvalidSchedule."""
        return await self._write(self._update, schedule_id, changes, by, effective_from)

    def _update(
        self, engine: Engine, schedule_id: str, changes: dict[str, Any], by: str, effective: datetime | None
    ) -> Schedule:
        current = self._get(engine, schedule_id, effective)
        try:
            spec = ScheduleSpec.model_validate({**current.model_dump(include=rows.SPEC_FIELDS), **changes})
        except ValidationError as exc:
            raise InvalidSchedule(_reason(exc)) from None
        self._check_spec(spec)
        try:
            return rows.update(engine, schedule_id, spec, by, effective)
        except rows.PastRevision as exc:
            raise InvalidSchedule(str(exc)) from None
        except rows.NoSuchSchedule as exc:
            raise UnknownSchedule(str(exc)) from None

    async def delete(self, schedule_id: str) -> None:
        """Delete a schedule (its history stays answerable). Raises UnknownSchedule."""
        if not await self._write(rows.delete, schedule_id):
            raise UnknownSchedule(f"no schedule {schedule_id!r}")

    async def add_override(self, schedule_id: str, spec: OverrideSpec, by: str) -> Override:
        """Raises UnknownSchedule, UnknownParticipant, ScheduleConflict (the same override
        is in force), InvalidSchedule (too many pending overrides, or a window already over:
        who was on call in the past does not change)."""
        if spec.end <= datetime.now(UTC):
            raise InvalidSchedule("the override's window is over: who was on call then does not change")
        self._check_people([spec.add, spec.remove])
        return await self._write(self._add_override, schedule_id, spec, by)

    def _add_override(self, engine: Engine, schedule_id: str, spec: OverrideSpec, by: str) -> Override:
        try:
            return rows.add_override(engine, schedule_id, spec, by)
        except rows.NoSuchSchedule as exc:
            raise UnknownSchedule(str(exc)) from None
        except rows.DuplicateOverride as exc:
            raise ScheduleConflict(str(exc)) from None
        except rows.TooManyOverrides as exc:
            raise InvalidSchedule(str(exc)) from None

    async def delete_override(self, schedule_id: str, override_id: str) -> None:
        """Raises UnknownSchedule when the schedule has no such override in force."""
        if not await self._write(rows.delete_override, schedule_id, override_id):
            raise UnknownSchedule(f"schedule {schedule_id!r} has no override {override_id!r}")

    # -- unsaved schedules --------------------------------------------------------

    def preview_oncall(self, spec: ScheduleSpec, at: datetime | None) -> OnCall:
        self._check_spec(spec)
        return oncall(preview(spec), at or datetime.now(UTC))

    def preview_shifts(self, spec: ScheduleSpec, since: datetime | None, until: datetime | None) -> Coverage:
        self._check_spec(spec)
        start, end = period(since, until)
        return coverage(preview(spec), start, end)
