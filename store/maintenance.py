"""Maintenance windows in the database.

A window's body is its ``MaintenanceWindowSpec`` as JSON; ``start`` and ``end`` are copied
into columns to be queried. A window is never removed: ending it (``delete``) sets
``deleted_at``, so "what was in force at T" is answered as it stood at T (the model's
``ended_at``). A start in the past is moved to now when the window is created, as
PagerDuty does: a window does not cover what already happened.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from store.db import transaction, utcnow
from store.tables import maintenance_windows
from workflows import maintenance as rules
from workflows.maintenance import MaintenanceWindow, MaintenanceWindowSpec

Bind = Engine | Connection
# At most this many windows in one listing (the newest starts, when ended ones are asked for).
MAX_LISTED = 1000


class WindowOver(ValueError):
    """The window's end is not in the future: there is nothing left to hold."""


def _window(row: Any) -> MaintenanceWindow:
    return MaintenanceWindow.model_validate(
        {
            **row.body,
            "start": row.start,
            "end": row.end,
            "id": row.id,
            "created_by": row.created_by,
            "created_at": row.created_at,
            "ended_at": row.deleted_at,
        }
    )


def _in_force_at(at: datetime) -> list[sa.ColumnElement[bool]]:
    table = maintenance_windows
    return [
        table.c.start <= at,
        table.c.end > at,
        sa.or_(table.c.deleted_at.is_(None), table.c.deleted_at > at),
    ]


def create(bind: Bind, spec: MaintenanceWindowSpec, by: str) -> MaintenanceWindow:
    """Store a window (id ``mw-<hex>``); a start in the past becomes now.

    Raises:
        WindowOver: its end is not in the future.
    """
    now = utcnow()
    if spec.end <= now:
        raise WindowOver("the maintenance window's end is in the past: there is nothing left to hold")
    start, end = max(spec.start, now).astimezone(UTC), spec.end.astimezone(UTC)
    body = spec.model_dump(mode="json") | {"start": start.isoformat(), "end": end.isoformat()}
    window = MaintenanceWindow.model_validate(
        {**body, "id": f"mw-{secrets.token_hex(8)}", "created_by": by, "created_at": now}
    )
    row = {
        "id": window.id,
        "body": body,
        "start": window.start,
        "end": window.end,
        "created_at": now,
        "created_by": by,
    }
    with transaction(bind) as conn:
        conn.execute(sa.insert(maintenance_windows).values(row))
    return window


def get(bind: Bind, window_id: str) -> MaintenanceWindow | None:
    """The window (ended or not), or ``None``."""
    table = maintenance_windows
    with transaction(bind) as conn:
        row = conn.execute(sa.select(table).where(table.c.id == window_id)).first()
    return None if row is None else _window(row)


def list_windows(
    bind: Bind, active_at: datetime | None = None, include_ended: bool = False
) -> list[MaintenanceWindow]:
    """Windows by start, then id: those in force at ``active_at`` when given; else those
    not ended yet (in force or to come), or every one with ``include_ended`` (the newest
    starts, at most ``MAX_LISTED``)."""
    table = maintenance_windows
    query = sa.select(table)
    if active_at is not None:
        query = query.where(*_in_force_at(active_at))
    elif not include_ended:
        query = query.where(table.c.deleted_at.is_(None), table.c.end > utcnow())
    query = query.order_by(table.c.start.desc(), table.c.id.desc()).limit(MAX_LISTED)
    with transaction(bind) as conn:
        rows = conn.execute(query).all()
    return [_window(row) for row in reversed(rows)]


def delete(bind: Bind, window_id: str) -> bool:
    """End a window now (one to come is cancelled). False: no such window in force or to come."""
    table = maintenance_windows
    now = utcnow()
    with transaction(bind) as conn:
        done = conn.execute(
            sa.update(table)
            .where(table.c.id == window_id, table.c.deleted_at.is_(None), table.c.end > now)
            .values(deleted_at=now)
        )
    return done.rowcount == 1


def covering(bind: Bind, service: str, labels: dict[str, str], at: datetime) -> list[MaintenanceWindow]:
    """The windows that pause an incident of ``service`` with ``labels`` opened at ``at``:
    those in force then, and the ``suppress_all`` ones to come (they pause it at their start)."""
    table = maintenance_windows
    coming = sa.and_(table.c.start > at, table.c.deleted_at.is_(None))
    with transaction(bind) as conn:
        rows = conn.execute(sa.select(table).where(sa.or_(sa.and_(*_in_force_at(at)), coming))).all()
    windows = [_window(row) for row in rows]
    later = [w for w in windows if w.start > at and w.suppress_all and rules.in_scope(w, service, labels)]
    return rules.in_force(windows, service, labels, at) + sorted(later, key=lambda w: (w.start, w.id))
