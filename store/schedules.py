"""On-call schedules in the database: every edit a new revision, overrides beside them.

A revision takes effect at ``effective_from`` (the moment it was written, by default) and
is never changed afterwards, so :func:`get` at a past instant answers with the schedule as
it stood then. Overrides are soft-deleted for the same reason. Until the database holds a
schedule, the seed file answers (:func:`schedule_for`, as the directory file does for
people); ``import_schedules`` loads it, writing a revision only where the body changed.

A worker activity resolves a schedule at the moment of paging with :func:`schedule_for`
(the seed list comes from ``runbooks.schedule_seed.load_schedules``) and ``schedules.oncall.oncall``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from pydantic import AwareDatetime
from sqlalchemy.engine import Connection

from schedules.models import Override, Schedule, ScheduleSpec
from store.db import transaction, utcnow
from store.models import Record
from store.overrides import (
    Bind,
    DuplicateOverride,
    NoSuchSchedule,
    TooManyOverrides,
    add_override,
    delete_override,
    live,
    locked,
    override_row,
    overrides_at,
)
from store.tables import schedule_overrides, schedule_revisions, schedules
from store.upsert import insert

SPEC_FIELDS = set(ScheduleSpec.model_fields)
# A revision "effective now" from a caller whose clock is a little behind is taken as now;
# anything earlier would rewrite who was on call in the past, and is refused.
CLOCK_SKEW = timedelta(minutes=1)
# Overrides live in ``store.overrides``; one import place for callers.
__all__ = [
    "DuplicateOverride",
    "NoSuchSchedule",
    "PastRevision",
    "RevisionRecord",
    "ScheduleExists",
    "TooManyOverrides",
    "add_override",
    "create",
    "delete",
    "delete_override",
    "get",
    "has_schedules",
    "import_schedules",
    "list_schedules",
    "revisions",
    "schedule_for",
    "update",
]


class ScheduleExists(ValueError):
    """A schedule with this id is already there (and not deleted)."""


class PastRevision(ValueError):
    """A revision made effective in the past: history is not rewritten."""


class RevisionRecord(Record):
    schedule_id: str
    revision: int
    effective_from: AwareDatetime
    created_at: AwareDatetime
    created_by: str
    spec: ScheduleSpec


def _body(spec: ScheduleSpec) -> dict[str, Any]:
    return spec.model_dump(mode="json", include=SPEC_FIELDS)


def _same(stored: dict[str, Any], spec: ScheduleSpec) -> bool:
    return _body(ScheduleSpec.model_validate(stored)) == _body(spec)


def _schedule(schedule_id: str, revision: int, body: dict[str, Any], overrides: list[Override]) -> Schedule:
    return Schedule.model_validate({**body, "id": schedule_id, "revision": revision, "overrides": overrides})


def _revision_at(conn: Connection, schedule_id: str, at: datetime) -> Any:
    """The revision in effect at ``at``; before the first one took effect, the first."""
    table = schedule_revisions
    query = sa.select(table).where(table.c.schedule_id == schedule_id)
    found = conn.execute(
        query.where(table.c.effective_from <= at)
        .order_by(table.c.effective_from.desc(), table.c.revision.desc())
        .limit(1)
    ).first()
    return found or conn.execute(query.order_by(table.c.revision).limit(1)).first()


def get(bind: Bind, schedule_id: str, at: datetime | None = None) -> Schedule | None:
    """The schedule as it stood at ``at`` (default now): the revision in effect then, with
    the overrides in force then (not deleted before ``at``, not ended by it). ``None``: no
    such schedule, or deleted by then."""
    at = at or utcnow()
    with transaction(bind) as conn:
        row = conn.execute(sa.select(schedules).where(schedules.c.id == schedule_id)).first()
        revision = _revision_at(conn, schedule_id, at) if live(row, at) else None
        if revision is None:
            return None
        overrides = overrides_at(conn, [schedule_id], at).get(schedule_id, [])
        later = conn.execute(
            sa.select(sa.func.min(schedule_revisions.c.effective_from)).where(
                schedule_revisions.c.schedule_id == schedule_id,
                schedule_revisions.c.effective_from > at,
                schedule_revisions.c.revision > revision.revision,
            )
        ).scalar()
    found = _schedule(schedule_id, revision.revision, revision.body, overrides)
    if later is None:
        return found
    return found.model_copy(update={"superseded_at": later if later.tzinfo else later.replace(tzinfo=UTC)})


def list_schedules(bind: Bind, at: datetime | None = None) -> list[Schedule]:
    """Every schedule not deleted, as it stands at ``at`` (default now), by id."""
    at = at or utcnow()
    with transaction(bind) as conn:
        rows = conn.execute(sa.select(schedules).order_by(schedules.c.id)).all()
        ids = [row.id for row in rows if live(row, at)]
        revisions = {schedule_id: _revision_at(conn, schedule_id, at) for schedule_id in ids}
        overrides = overrides_at(conn, ids, at)
    return [
        _schedule(i, r.revision, r.body, overrides.get(i, [])) for i, r in revisions.items() if r is not None
    ]


def revisions(bind: Bind, schedule_id: str) -> list[RevisionRecord]:
    """Every revision of a schedule, oldest first (empty: no such schedule)."""
    table = schedule_revisions
    with transaction(bind) as conn:
        rows = conn.execute(
            sa.select(table).where(table.c.schedule_id == schedule_id).order_by(table.c.revision)
        ).all()
    return [
        RevisionRecord(
            schedule_id=row.schedule_id,
            revision=row.revision,
            effective_from=row.effective_from,
            created_at=row.created_at,
            created_by=row.created_by,
            spec=ScheduleSpec.model_validate(row.body),
        )
        for row in rows
    ]


def has_schedules(bind: Bind) -> bool:
    """True once the database holds a schedule (deleted ones count: the seed no longer answers)."""
    with transaction(bind) as conn:
        return conn.execute(sa.select(schedules.c.id).limit(1)).first() is not None


def _claim_row(conn: Connection, schedule_id: str, spec: ScheduleSpec, now: datetime) -> tuple[Any, bool]:
    """The schedule's row, locked, inserted when new: (row as it was, created now)."""
    values = {"id": schedule_id, "name": spec.name, "time_zone": spec.time_zone}
    statement = insert(conn, schedules).values(values | {"created_at": now, "updated_at": now})
    created = conn.execute(statement.on_conflict_do_nothing(index_elements=["id"]).returning(schedules.c.id))
    return locked(conn, schedule_id), created.first() is not None


def _add_revision(
    conn: Connection, schedule_id: str, spec: ScheduleSpec, by: str, effective: datetime, now: datetime
) -> int:
    table = schedule_revisions
    latest = conn.execute(
        sa.select(sa.func.max(table.c.revision)).where(table.c.schedule_id == schedule_id)
    ).scalar()
    number = int(latest or 0) + 1
    row = {"schedule_id": schedule_id, "revision": number, "effective_from": effective}
    conn.execute(sa.insert(table).values(row | {"body": _body(spec), "created_at": now, "created_by": by}))
    changes = {"name": spec.name, "time_zone": spec.time_zone, "updated_at": now, "deleted_at": None}
    conn.execute(sa.update(schedules).where(schedules.c.id == schedule_id).values(changes))
    return number


def create(bind: Bind, schedule_id: str, spec: ScheduleSpec, by: str) -> Schedule:
    """A new schedule at its first revision, effective now (a deleted id starts again, its
    revisions numbered on). Raises :class:`ScheduleExists`."""
    now = utcnow()
    with transaction(bind) as conn:
        row, created = _claim_row(conn, schedule_id, spec, now)
        if not created and row.deleted_at is None:
            raise ScheduleExists(f"schedule {schedule_id!r} already exists")
        number = _add_revision(conn, schedule_id, spec, by, now, now)
    return _schedule(schedule_id, number, _body(spec), [])


def update(
    bind: Bind, schedule_id: str, spec: ScheduleSpec, by: str, effective_from: datetime | None = None
) -> Schedule:
    """A new revision, in effect from ``effective_from`` (default now; never in the past:
    :class:`PastRevision`); earlier revisions are kept. Raises :class:`NoSuchSchedule`."""
    now = utcnow()
    effective = max(effective_from or now, now)
    if effective_from is not None and effective_from < now - CLOCK_SKEW:
        raise PastRevision("effective_from is in the past: who was on call then must not change")
    with transaction(bind) as conn:
        if not live(locked(conn, schedule_id), now):
            raise NoSuchSchedule(f"no schedule {schedule_id!r}")
        number = _add_revision(conn, schedule_id, spec, by, effective, now)
        overrides = overrides_at(conn, [schedule_id], effective).get(schedule_id, [])
    return _schedule(schedule_id, number, _body(spec), overrides)


def delete(bind: Bind, schedule_id: str) -> bool:
    """Soft-delete a schedule and its overrides (history stays answerable). False: none."""
    now = utcnow()
    with transaction(bind) as conn:
        live = schedules.c.deleted_at.is_(None)
        done = conn.execute(
            sa.update(schedules).where(schedules.c.id == schedule_id, live).values(deleted_at=now)
        )
        if done.rowcount != 1:
            return False
        table = schedule_overrides
        conn.execute(
            sa.update(table)
            .where(table.c.schedule_id == schedule_id, table.c.deleted_at.is_(None))
            .values(deleted_at=now)
        )
    return True


def import_schedules(bind: Bind, found: list[Schedule], by: str = "import") -> int:
    """Upsert schedules by id, in one transaction: a new revision only where the body
    differs from the latest one (a deleted schedule comes back); their overrides are added
    when their id is new. Returns how many schedules were created or revised."""
    now, written = utcnow(), 0
    with transaction(bind) as conn:
        for schedule in found:
            row, created = _claim_row(conn, schedule.id, schedule, now)
            latest = _latest(conn, schedule.id)
            if created or row.deleted_at is not None or latest is None or not _same(latest.body, schedule):
                _add_revision(conn, schedule.id, schedule, by, now, now)
                written += 1
            for override in schedule.overrides:
                row_values = override_row(schedule.id, override, by, now)
                conn.execute(insert(conn, schedule_overrides).values(row_values).on_conflict_do_nothing())
    return written


def _latest(conn: Connection, schedule_id: str) -> Any:
    table = schedule_revisions
    query = sa.select(table).where(table.c.schedule_id == schedule_id)
    return conn.execute(query.order_by(table.c.revision.desc()).limit(1)).first()


def schedule_for(bind: Bind, seed: list[Schedule], schedule_id: str, at: datetime) -> Schedule | None:
    """The schedule to page from at ``at``: the database's (revision and overrides of that
    instant) once it holds any schedule, until then the seed file's. ``None``: no such one."""
    if not has_schedules(bind):
        return next((s for s in seed if s.id == schedule_id), None)
    return get(bind, schedule_id, at)
