"""Overrides of on-call schedules, and the row helpers ``store.schedules`` shares with them.

An override is soft-deleted, never removed, so a past answer stays reproducible. Two
identical live overrides cannot both exist: the partial unique index
``uq_schedule_overrides_live`` refuses the second (two people clicking at once), and the
schedule's row is locked while one is added, which also keeps the cap on pending ones.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from schedules.models import MAX_FUTURE_OVERRIDES, Override, OverrideSpec
from store.db import transaction, utcnow
from store.tables import schedule_overrides, schedules

Bind = Engine | Connection


class NoSuchSchedule(LookupError):
    """No schedule with this id, or it was deleted."""


class DuplicateOverride(ValueError):
    """The same override (window, added and removed person) is already in force."""


class TooManyOverrides(ValueError):
    """The schedule has ``MAX_FUTURE_OVERRIDES`` overrides still to end."""


def override_of(row: Any) -> Override:
    return Override(
        id=row.id,
        start=row.start,
        end=row.end,
        add=row.add_person,
        remove=row.remove_person,
        reason=row.reason,
    )


def overrides_at(conn: Connection, schedule_ids: list[str], at: datetime) -> dict[str, list[Override]]:
    """Per schedule, the overrides not deleted by ``at`` that have not ended by then."""
    table = schedule_overrides
    query = (
        sa.select(table)
        .where(
            table.c.schedule_id.in_(schedule_ids),
            table.c.end > at,
            sa.or_(table.c.deleted_at.is_(None), table.c.deleted_at > at),
        )
        .order_by(table.c.start, table.c.id)
    )
    found: dict[str, list[Override]] = {}
    for row in conn.execute(query):
        found.setdefault(row.schedule_id, []).append(override_of(row))
    return found


def live(row: Any, at: datetime) -> bool:
    return row is not None and (row.deleted_at is None or row.deleted_at > at)


def locked(conn: Connection, schedule_id: str) -> Any:
    """The schedule's row, locked until the transaction ends (PostgreSQL; SQLite's write
    transactions are serialized already)."""
    query = sa.select(schedules).where(schedules.c.id == schedule_id).with_for_update()
    return conn.execute(query).first()


def add_override(bind: Bind, schedule_id: str, spec: OverrideSpec, by: str) -> Override:
    """Store an override (id ``o-<hex>``). Raises :class:`NoSuchSchedule`,
    :class:`TooManyOverrides` or :class:`DuplicateOverride` (the same one is in force)."""
    now, table = utcnow(), schedule_overrides
    override = Override(id=f"o-{secrets.token_hex(8)}", **spec.model_dump())
    with transaction(bind) as conn:
        if not live(locked(conn, schedule_id), now):
            raise NoSuchSchedule(f"no schedule {schedule_id!r}")
        pending = conn.execute(
            sa.select(sa.func.count())
            .select_from(table)
            .where(table.c.schedule_id == schedule_id, table.c.deleted_at.is_(None), table.c.end > now)
        ).scalar()
        if int(pending or 0) >= MAX_FUTURE_OVERRIDES:
            raise TooManyOverrides(f"a schedule has at most {MAX_FUTURE_OVERRIDES} overrides still to end")
        try:
            with conn.begin_nested():
                conn.execute(sa.insert(table).values(override_row(schedule_id, override, by, now)))
        except IntegrityError:
            raise DuplicateOverride("the same override is already in force") from None
    return override


def override_row(schedule_id: str, override: Override, by: str, now: datetime) -> dict[str, Any]:
    return {
        "id": override.id,
        "schedule_id": schedule_id,
        "start": override.start,
        "end": override.end,
        "add_person": override.add,
        "remove_person": override.remove,
        "reason": override.reason,
        "created_at": now,
        "created_by": by,
    }


def delete_override(bind: Bind, schedule_id: str, override_id: str) -> bool:
    """Soft-delete an override of a schedule. False: no such override in force."""
    table = schedule_overrides
    with transaction(bind) as conn:
        done = conn.execute(
            sa.update(table)
            .where(
                table.c.id == override_id, table.c.schedule_id == schedule_id, table.c.deleted_at.is_(None)
            )
            .values(deleted_at=utcnow())
        )
    return done.rowcount == 1
