"""Day-by-day figures for the metrics page: incidents, time to acknowledge and to resolve."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.engine import Connection, Engine

from store.db import transaction
from store.reports import Percentiles, chosen, percentiles
from store.tables import incidents


class Day(BaseModel):
    day: date
    incidents: int
    mtta_seconds: Percentiles
    mttr_seconds: Percentiles


def daily(
    bind: Engine | Connection,
    since: datetime,
    until: datetime,
    service: str | None = None,
    severity: str | None = None,
) -> list[Day]:
    """One point per UTC day of ``[since, until)``, days without incidents included."""
    with transaction(bind) as conn:
        rows = conn.execute(
            sa.select(incidents.c.triggered_at, incidents.c.acknowledged_at, incidents.c.resolved_at).where(
                chosen(since, until, service, severity)
            )
        ).all()
    by_day: dict[date, list[tuple[datetime, datetime | None, datetime | None]]] = {}
    for row in rows:
        triggered: datetime = row[0]
        by_day.setdefault(triggered.date(), []).append((triggered, row[1], row[2]))
    days: list[Day] = []
    day = since.date()
    while day < until.date() or (day == until.date() and until.time() != datetime.min.time()):
        found = by_day.get(day, [])
        days.append(
            Day(
                day=day,
                incidents=len(found),
                mtta_seconds=percentiles([(a - t).total_seconds() for t, a, _ in found if a]),
                mttr_seconds=percentiles([(r - t).total_seconds() for t, _, r in found if r]),
            )
        )
        day += timedelta(days=1)
    return days
