"""The metrics escalation practice asks for, computed over the incident record.

Counts, rates and histograms are SQL aggregates over ``incidents`` and the ``page``
events; percentiles are taken in Python from the durations the SQL selects (SQLite has
no percentile function), by linear interpolation between the closest ranks.

Drills (``incidents.drill``) are left out of every figure: they page real people, but
they are training, not outages.

Hour types are read in each paged person's own time zone: **business** hours are Monday
to Friday 09:00–17:59, **sleep** hours 22:00–06:59 on any day, **off** hours the rest.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from pydantic import BaseModel, Field
from sqlalchemy.engine import Connection, Engine

from store.db import transaction
from store.models import PAGE_EVENT
from store.tables import feedback, incident_events, incidents, people


class Percentiles(BaseModel):
    p50: float | None = None
    p90: float | None = None
    count: int = 0


class HourTypes(BaseModel):
    business: int = 0
    off: int = 0
    sleep: int = 0


class Satisfaction(BaseModel):
    responses: int = 0
    average: float | None = None
    ratings: dict[int, int] = {}


class Metrics(BaseModel):
    since: datetime
    until: datetime
    incidents: int
    mtta_seconds: Percentiles
    mttr_seconds: Percentiles
    escalation_rate: float | None
    tier_ack_rate: dict[int, float]
    max_tier_histogram: dict[int, int]
    pages_per_person: dict[str, HourTypes]
    auto_resolved: int
    resolved_by_person: int
    satisfaction: Satisfaction
    # Per severity: the share of incidents held to an SLA policy that breached a target.
    sla_breach_rate: dict[str, float] = Field(default_factory=dict)


def percentiles(values: list[float]) -> Percentiles:
    """p50 and p90 by linear interpolation between the closest ranks; None without values."""
    if not values:
        return Percentiles()
    ordered = sorted(values)

    def at(share: float) -> float:
        position = share * (len(ordered) - 1)
        low = int(position)
        high = min(low + 1, len(ordered) - 1)
        return round(ordered[low] + (ordered[high] - ordered[low]) * (position - low), 3)

    return Percentiles(p50=at(0.5), p90=at(0.9), count=len(ordered))


def hour_type(at: datetime, timezone: str) -> str:
    """``business``, ``off`` or ``sleep`` for an instant, in the person's time zone."""
    try:
        local = at.astimezone(ZoneInfo(timezone))
    except (ZoneInfoNotFoundError, ValueError):
        local = at
    if local.hour >= 22 or local.hour < 7:
        return "sleep"
    if local.weekday() < 5 and 9 <= local.hour < 18:
        return "business"
    return "off"


def real() -> sa.ColumnElement[bool]:
    """The incidents that count: every one but drills."""
    return incidents.c.drill == sa.false()


def chosen(
    since: datetime, until: datetime, service: str | None, severity: str | None
) -> sa.ColumnElement[bool]:
    """The real incidents (no drill) triggered in ``[since, until)``, of one service and
    severity if given."""
    where = [real(), incidents.c.triggered_at >= since, incidents.c.triggered_at < until]
    if service is not None:
        where.append(incidents.c.service == service)
    if severity is not None:
        where.append(incidents.c.severity == severity)
    return sa.and_(*where)


def metrics(
    bind: Engine | Connection,
    since: datetime,
    until: datetime,
    service: str | None = None,
    severity: str | None = None,
) -> Metrics:
    """The metrics of the incidents triggered in ``[since, until)``, optionally of one
    service and one severity."""
    where = chosen(since, until, service, severity)
    with transaction(bind) as conn:
        rows = conn.execute(
            sa.select(
                incidents.c.triggered_at,
                incidents.c.acknowledged_at,
                incidents.c.resolved_at,
                incidents.c.max_tier,
                incidents.c.auto_resolved,
                incidents.c.severity,
                incidents.c.sla_breached,
            ).where(where)
        ).all()
        histogram: dict[int, int] = dict(
            conn.execute(
                sa.select(incidents.c.max_tier, sa.func.count())
                .where(where, incidents.c.max_tier.is_not(None))
                .group_by(incidents.c.max_tier)
            ).all()
        )
        acked_at_tier: dict[int, int] = dict(
            conn.execute(
                sa.select(incidents.c.acknowledged_tier, sa.func.count())
                .where(where, incidents.c.acknowledged_tier.is_not(None))
                .group_by(incidents.c.acknowledged_tier)
            ).all()
        )
        chosen_ids = sa.select(incidents.c.id).where(where)
        paged_tier: dict[int, int] = dict(
            conn.execute(
                sa.select(incident_events.c.tier, sa.func.count(sa.distinct(incident_events.c.incident_id)))
                .where(incident_events.c.kind == PAGE_EVENT, incident_events.c.incident_id.in_(chosen_ids))
                .group_by(incident_events.c.tier)
            ).all()
        )
        pages: list[tuple[str, datetime, str | None]] = [
            (row[0], row[1], row[2])
            for row in conn.execute(
                sa.select(incident_events.c.actor, incident_events.c.at, people.c.timezone)
                .select_from(incident_events.outerjoin(people, people.c.id == incident_events.c.actor))
                .where(incident_events.c.kind == PAGE_EVENT, incident_events.c.incident_id.in_(chosen_ids))
            )
        ]
        ratings: dict[int, int] = dict(
            conn.execute(
                sa.select(feedback.c.rating, sa.func.count())
                .where(feedback.c.incident_id.in_(chosen_ids))
                .group_by(feedback.c.rating)
            ).all()
        )
    return Metrics(
        since=since,
        until=until,
        incidents=len(rows),
        mtta_seconds=percentiles(
            [(r.acknowledged_at - r.triggered_at).total_seconds() for r in rows if r.acknowledged_at]
        ),
        mttr_seconds=percentiles(
            [(r.resolved_at - r.triggered_at).total_seconds() for r in rows if r.resolved_at]
        ),
        escalation_rate=round(sum((r.max_tier or 0) > 1 for r in rows) / len(rows), 4) if rows else None,
        tier_ack_rate={
            tier: round(acked_at_tier.get(tier, 0) / paged, 4)
            for tier, paged in sorted(paged_tier.items())
            if paged
        },
        max_tier_histogram=dict(sorted(histogram.items())),
        pages_per_person=_pages_per_person(pages),
        auto_resolved=sum(r.auto_resolved is True for r in rows),
        resolved_by_person=sum(r.auto_resolved is False for r in rows),
        satisfaction=_satisfaction(ratings),
        sla_breach_rate=_breach_rate([(r.severity, r.sla_breached) for r in rows]),
    )


def _pages_per_person(pages: list[tuple[str, datetime, str | None]]) -> dict[str, HourTypes]:
    counts: dict[str, Counter[str]] = {}
    for person, at, timezone in pages:
        counts.setdefault(person, Counter())[hour_type(at, timezone or "UTC")] += 1
    return {person: HourTypes(**kinds) for person, kinds in sorted(counts.items())}


def _breach_rate(rows: list[tuple[str, bool | None]]) -> dict[str, float]:
    held: Counter[str] = Counter(sev for sev, breached in rows if breached is not None)
    missed: Counter[str] = Counter(sev for sev, breached in rows if breached)
    return {sev: round(missed[sev] / held[sev], 4) for sev in sorted(held)}


def _satisfaction(ratings: dict[int, int]) -> Satisfaction:
    responses = sum(ratings.values())
    if not responses:
        return Satisfaction()
    average = sum(rating * n for rating, n in ratings.items()) / responses
    return Satisfaction(responses=responses, average=round(average, 2), ratings=dict(sorted(ratings.items())))


class Totals(BaseModel):
    """Counts since the record began, for Prometheus: incidents, pages, acknowledgements and
    escalations by severity; times to acknowledge and resolve; incidents open by state."""

    incidents: dict[str, int]
    acknowledgements: dict[str, int]
    escalations: dict[str, int]
    pages: dict[str, int]
    open_by_state: dict[str, int]
    seconds_to_acknowledge: dict[str, list[float]]
    seconds_to_resolve: dict[str, list[float]]


def totals(bind: Engine | Connection) -> Totals:
    """Everything the record holds but drills, by severity (never by person)."""
    severity = incidents.c.severity

    def by_severity(conn: Connection, *where: sa.ColumnElement[bool]) -> dict[str, int]:
        query = sa.select(severity, sa.func.count()).where(real(), *where).group_by(severity)
        return _counts(conn.execute(query).all())

    with transaction(bind) as conn:
        pages = conn.execute(
            sa.select(severity, sa.func.count())
            .select_from(incident_events.join(incidents, incidents.c.id == incident_events.c.incident_id))
            .where(incident_events.c.kind == PAGE_EVENT, real())
            .group_by(severity)
        ).all()
        open_states = conn.execute(
            sa.select(incidents.c.state, sa.func.count())
            .where(incidents.c.resolved_at.is_(None), real())
            .group_by(incidents.c.state)
        ).all()
        times = conn.execute(
            sa.select(
                severity, incidents.c.triggered_at, incidents.c.acknowledged_at, incidents.c.resolved_at
            ).where(real())
        ).all()
        result = Totals(
            incidents=by_severity(conn),
            acknowledgements=by_severity(conn, incidents.c.acknowledged_at.is_not(None)),
            escalations=by_severity(conn, incidents.c.max_tier > 1),
            pages=_counts(pages),
            open_by_state=_counts(open_states),
            seconds_to_acknowledge={},
            seconds_to_resolve={},
        )
    for row in times:
        _add_durations(result, row[0], row[1], row[2], row[3])
    return result


def _counts(rows: Sequence[Any]) -> dict[str, int]:
    return {str(key): int(n) for key, n in rows}


def _add_durations(
    result: Totals, severity: str, triggered: datetime, acked: datetime | None, resolved: datetime | None
) -> None:
    if acked is not None:
        result.seconds_to_acknowledge.setdefault(severity, []).append((acked - triggered).total_seconds())
    if resolved is not None:
        result.seconds_to_resolve.setdefault(severity, []).append((resolved - triggered).total_seconds())
