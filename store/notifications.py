"""One row per email: the record that makes each notification go out once, across hosts.

The email activity asks for a **claim** before each call to the provider. The row counts
the calls whose outcome is pending or unknown (``attempts``); a claim is granted while that
count is under the allowance (two: at most one duplicate, and only when the provider did not
answer in time). A call the provider answered with an error, or that never left, is
**released** (it does not count); one whose answer never came stays counted, with what is
known in ``error``; an accepted one is **sent** and is never claimed again.

A claim is one transaction (``INSERT ... ON CONFLICT DO NOTHING``, else one conditional
``UPDATE``), so the database decides between two workers retrying the same email.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from store.db import transaction, utcnow
from store.models import NotificationRecord
from store.tables import notifications
from store.upsert import insert

ALLOWED = 2  # calls of pending or unknown outcome per notification


@dataclass(frozen=True)
class Claim:
    """The answer to a claim: ``attempt`` (1, 2…) when granted; ``sent`` (the provider's
    message id) when the email already went out; neither when the allowance is used up."""

    attempt: int | None = None
    sent: str | None = None


def claim(
    bind: Engine | Connection,
    notification_id: str,
    *,
    incident_id: str,
    person_id: str,
    kind: str,
    allowed: int = ALLOWED,
    now: datetime | None = None,
) -> Claim:
    """Ask to call the provider for ``notification_id``."""
    now = now or utcnow()
    c = notifications.c
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
        fresh = (
            insert(conn, notifications)
            .values(row)
            .on_conflict_do_nothing(index_elements=["notification_id"])
            .returning(c.attempts)
        )
        if (granted := conn.execute(fresh).scalar()) is not None:
            return Claim(attempt=granted)
        again = (
            sa.update(notifications)
            .where(c.notification_id == notification_id, c.status != "sent", c.attempts < allowed)
            .values(status="sending", claimed_at=now, attempts=c.attempts + 1)
            .returning(c.attempts)
        )
        if (granted := conn.execute(again).scalar()) is not None:
            return Claim(attempt=granted)
        found = conn.execute(
            sa.select(c.status, c.provider_message_id).where(c.notification_id == notification_id)
        ).one()
    return Claim(sent=str(found.provider_message_id or "")) if found.status == "sent" else Claim()


def release(bind: Engine | Connection, notification_id: str, error: str) -> bool:
    """The call ended without the provider accepting the email: it no longer counts."""
    c = notifications.c
    fewer = sa.case((c.attempts > 0, c.attempts - 1), else_=0)
    values = {"status": "failed", "attempts": fewer, "error": error[:2000]}
    return _set(bind, notification_id, values, unless_sent=True)


def mark_unknown(bind: Engine | Connection, notification_id: str, detail: str) -> bool:
    """The call got no answer: it stays counted, with what is known about it."""
    return _set(bind, notification_id, {"error": detail[:2000]}, unless_sent=True)


def mark_sent(
    bind: Engine | Connection,
    notification_id: str,
    provider_message_id: str | None = None,
    *,
    now: datetime | None = None,
) -> bool:
    """Record the email as accepted by the provider; False when the id was never claimed."""
    values = {"status": "sent", "provider_message_id": provider_message_id, "sent_at": now or utcnow()}
    return _set(bind, notification_id, values | {"error": None})


def _set(
    bind: Engine | Connection, notification_id: str, values: dict[str, Any], unless_sent: bool = False
) -> bool:
    statement = sa.update(notifications).where(notifications.c.notification_id == notification_id)
    if unless_sent:
        statement = statement.where(notifications.c.status != "sent")
    with transaction(bind) as conn:
        changed = statement.values(**values).returning(notifications.c.notification_id)
        return conn.execute(changed).first() is not None


def get(bind: Engine | Connection, notification_id: str) -> NotificationRecord | None:
    with transaction(bind) as conn:
        row = conn.execute(
            sa.select(notifications).where(notifications.c.notification_id == notification_id)
        ).first()
    return NotificationRecord.model_validate(dict(row._mapping)) if row else None
