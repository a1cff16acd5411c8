"""One row per email: whoever claims a notification id first sends it, once, across processes.

A claim is an ``INSERT ... ON CONFLICT DO NOTHING`` (or, for a row already there, one
conditional ``UPDATE``): the database decides the winner, so two workers retrying the same
email never both send it. A claim can be taken again when

* the row is ``failed`` (the attempt ended without a send: the caller decided so), or
* the row has stayed ``sending`` longer than ``stale_after`` (its claimer died mid-send).

A ``sent`` row is never claimed again.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from store.db import transaction, utcnow
from store.models import NotificationRecord
from store.tables import notifications
from store.upsert import insert

STALE_AFTER = timedelta(minutes=10)


def claim(
    bind: Engine | Connection,
    notification_id: str,
    *,
    incident_id: str,
    person_id: str,
    kind: str,
    stale_after: timedelta = STALE_AFTER,
    now: datetime | None = None,
) -> bool:
    """Claim the right to send ``notification_id``; True for exactly one claimer at a time."""
    now = now or utcnow()
    row = {
        "notification_id": notification_id,
        "incident_id": incident_id,
        "person_id": person_id,
        "kind": kind,
        "status": "sending",
        "attempts": 1,
        "created_at": now,
        "claimed_at": now,
    }
    with transaction(bind) as conn:
        statement = (
            insert(conn, notifications)
            .values(row)
            .on_conflict_do_nothing(index_elements=["notification_id"])
            .returning(notifications.c.notification_id)
        )
        if conn.execute(statement).first() is not None:
            return True
        c = notifications.c
        again = (
            sa.update(notifications)
            .where(c.notification_id == notification_id)
            .where(
                sa.or_(c.status == "failed", sa.and_(c.status == "sending", c.claimed_at < now - stale_after))
            )
            .values(status="sending", claimed_at=now, attempts=c.attempts + 1, error=None)
            .returning(c.notification_id)
        )
        return conn.execute(again).first() is not None


def mark_sent(
    bind: Engine | Connection,
    notification_id: str,
    provider_message_id: str | None = None,
    *,
    now: datetime | None = None,
) -> bool:
    """Record the email as sent; False when the id was never claimed."""
    values = {
        "status": "sent",
        "provider_message_id": provider_message_id,
        "sent_at": now or utcnow(),
        "error": None,
    }
    return _set(bind, notification_id, values)


def mark_failed(bind: Engine | Connection, notification_id: str, error: str) -> bool:
    """Record that the attempt ended without sending, so it may be claimed again.

    False (and nothing changed) when the id was never claimed or is already ``sent``.
    """
    return _set(bind, notification_id, {"status": "failed", "error": error[:2000]}, unless_sent=True)


def _set(
    bind: Engine | Connection, notification_id: str, values: dict[str, Any], unless_sent: bool = False
) -> bool:
    statement = sa.update(notifications).where(notifications.c.notification_id == notification_id)
    if unless_sent:
        statement = statement.where(notifications.c.status != "sent")
    with transaction(bind) as conn:
        return (
            conn.execute(statement.values(**values).returning(notifications.c.notification_id)).first()
            is not None
        )


def get(bind: Engine | Connection, notification_id: str) -> NotificationRecord | None:
    with transaction(bind) as conn:
        row = conn.execute(
            sa.select(notifications).where(notifications.c.notification_id == notification_id)
        ).first()
    return NotificationRecord.model_validate(dict(row._mapping)) if row else None
