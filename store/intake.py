"""The intake log: repeats of an open incident's alert, durable before the API answers.

An API process **appends** the repeats it accepts (one transaction for all that arrived
together), then **claims** its own rows into batches, one per incident: a batch's id is
the Temporal update id that counts it (random, never reused), so sending a batch again
(after a crash, say) is counted once. A batch the workflow has counted is **delivered**
(its rows deleted). Rows an owner left behind for too long (its process died) are
**adopted** by another process, batch ids and all. Every step is one transaction, so two
processes never both claim a row.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from store.db import transaction, utcnow
from store.tables import intake


@dataclass(frozen=True)
class Batch:
    """The rows of one incident claimed together: sent as one count of ``len(ids)``."""

    id: str
    incident_id: str
    ids: list[int]
    payload: dict[str, Any]  # the latest row's: the latest details win


def append(bind: Engine | Connection, owner: str, rows: list[tuple[str, dict[str, Any]]]) -> None:
    """Record ``(incident_id, payload)`` rows for ``owner``, all in one transaction."""
    now = utcnow()
    values = [
        {"incident_id": incident, "payload": payload, "owner": owner, "received_at": now}
        for incident, payload in rows
    ]
    with transaction(bind) as conn:
        conn.execute(sa.insert(intake), values)


def claim(bind: Engine | Connection, owner: str, limit: int = 1000) -> list[Batch]:
    """Every batch of ``owner`` not yet delivered: those claimed before (sent again with the
    same id) and new ones made of its unbatched rows (oldest first, at most ``limit``)."""
    c = intake.c
    with transaction(bind) as conn:
        fresh = conn.execute(
            sa.select(c.id, c.incident_id)
            .where(c.owner == owner, c.batch.is_(None))
            .order_by(c.id)
            .limit(limit)
        ).all()
        groups: dict[str, list[int]] = {}
        for row in fresh:
            groups.setdefault(str(row.incident_id), []).append(int(row.id))
        for incident, ids in groups.items():
            conn.execute(
                sa.update(intake)
                .where(c.id.in_(ids), c.owner == owner, c.batch.is_(None))
                .values(batch=f"intake-{incident}-{secrets.token_hex(8)}")
            )
        rows = conn.execute(
            sa.select(c.id, c.incident_id, c.batch, c.payload)
            .where(c.owner == owner, c.batch.is_not(None))
            .order_by(c.id)
        ).all()
    grouped: dict[str, list[Any]] = {}
    for row in rows:
        grouped.setdefault(row.batch, []).append(row)
    return [
        Batch(batch, found[0].incident_id, [r.id for r in found], dict(found[-1].payload))
        for batch, found in grouped.items()
    ]


def delivered(bind: Engine | Connection, batch: str) -> int:
    """The batch has been counted: its rows go. Returns how many."""
    with transaction(bind) as conn:
        return conn.execute(sa.delete(intake).where(intake.c.batch == batch)).rowcount


def adopt(bind: Engine | Connection, owner: str, received_before: datetime) -> int:
    """Take over the rows other owners received before ``received_before`` and have not
    delivered (their process is gone, or cannot reach Temporal), each batch whole: a batch
    split between two owners would be counted once, with part of its count. Returns how
    many rows."""
    c = intake.c
    old = sa.and_(c.owner != owner, c.received_at < received_before)
    batches = sa.select(c.batch).where(old, c.batch.is_not(None)).distinct()
    with transaction(bind) as conn:
        return conn.execute(
            sa.update(intake)
            .where(c.owner != owner, sa.or_(sa.and_(old, c.batch.is_(None)), c.batch.in_(batches)))
            .values(owner=owner)
        ).rowcount


def backlog(bind: Engine | Connection) -> int:
    """Rows recorded and not yet delivered, by every owner (for health and metrics)."""
    with transaction(bind) as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(intake)).scalar_one())
