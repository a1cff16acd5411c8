"""Local wall time and hand-off arithmetic for rotations and restrictions.

Every conversion between a wall-clock time and an instant goes through ``zoneinfo``; no
UTC offset is computed by hand. The policy (see ``schedules.oncall``): a wall time that
does not exist (a spring-forward gap) resolves to the first instant after the gap; an
ambiguous one (fall back) to its first occurrence (``fold=0``). Instants returned here are
in UTC.
"""

from __future__ import annotations

import calendar
import math
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from schedules.models import Restriction, Rotation, ShiftUnit, Weekday

Window = tuple[datetime, datetime]

_STEP = {
    ShiftUnit.HOUR: timedelta(hours=1),
    ShiftUnit.DAY: timedelta(days=1),
    ShiftUnit.WEEK: timedelta(weeks=1),
}
_DAY = timedelta(days=1)
_WEEKDAY = {weekday: weekday.number for weekday in Weekday}


def wall(at: datetime, zone: ZoneInfo) -> datetime:
    """The local wall-clock time (naive) of the instant ``at`` in ``zone``."""
    return at.astimezone(zone).replace(tzinfo=None, fold=0)


@lru_cache(maxsize=16384)
def instant(local: datetime, zone: ZoneInfo) -> datetime:
    """The instant (UTC) of the wall-clock time ``local`` in ``zone``: its first occurrence
    when ambiguous, the first instant after the gap when it does not exist. Memoized (a
    pure function of its arguments): hand-offs and window edges are asked for again and
    again."""
    local = local.replace(fold=0)
    first = local.replace(tzinfo=zone).astimezone(UTC)
    if wall(first, zone) == local:
        return first
    return _after_gap(local, zone, first)


def _after_gap(local: datetime, zone: ZoneInfo, reading: datetime) -> datetime:
    """The first instant whose wall time is past ``local`` (a time inside a gap): the
    transition, found by bisection on whole UTC seconds between the two readings of
    ``local`` (the offsets before and after the gap), which bracket it."""
    other = local.replace(tzinfo=zone, fold=1).astimezone(UTC)
    lo = math.floor(min(reading, other).timestamp())
    hi = math.ceil(max(reading, other).timestamp())

    def past(second: int) -> bool:
        return wall(datetime.fromtimestamp(second, UTC), zone) > local

    if past(lo) or not past(hi):  # not a single transition between the readings
        return reading
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if past(mid):
            hi = mid
        else:
            lo = mid
    return datetime.fromtimestamp(hi, UTC)


def add_months(anchor: datetime, months: int) -> datetime:
    """``anchor`` moved by whole calendar months, its day clamped to the month's length
    (Jan 31 + 1 = Feb 28/29, + 2 = Mar 31: each from the anchor, never accumulated)."""
    year, month = divmod(anchor.year * 12 + anchor.month - 1 + months, 12)
    day = min(anchor.day, calendar.monthrange(year, month + 1)[1])
    return anchor.replace(year=year, month=month + 1, day=day)


def handoff_wall(rotation: Rotation, k: int) -> datetime:
    """The wall-clock time of the ``k``-th hand-off (0 = the anchor; negative before it)."""
    shift = rotation.shift
    if shift.unit is ShiftUnit.MONTH:
        return add_months(rotation.anchor, k * shift.count)
    return rotation.anchor + _STEP[shift.unit] * (k * shift.count)


def handoff(rotation: Rotation, zone: ZoneInfo, k: int) -> datetime:
    """The instant of the ``k``-th hand-off."""
    return instant(handoff_wall(rotation, k), zone)


def shift_at(rotation: Rotation, zone: ZoneInfo, at: datetime) -> tuple[int, datetime]:
    """The ``k`` with ``handoff_k <= at < handoff_{k+1}``, and ``handoff_{k+1}``.

    Estimated from the wall clock, then corrected against the instants (a hand-off in a
    gap can coincide with the next one: that shift lasts no time and is skipped)."""
    local = wall(at, zone)
    anchor, shift = rotation.anchor, rotation.shift
    if shift.unit is ShiftUnit.MONTH:
        k = ((local.year - anchor.year) * 12 + local.month - anchor.month) // shift.count
    else:
        k = (local - anchor) // (_STEP[shift.unit] * shift.count)
    while handoff(rotation, zone, k) > at:
        k -= 1
    following = handoff(rotation, zone, k + 1)
    while following <= at:
        k += 1
        following = handoff(rotation, zone, k + 1)
    return k, following


def windows(restrictions: list[Restriction], zone: ZoneInfo, first: date, last: date) -> list[Window]:
    """The instants when any of ``restrictions`` is active, for windows starting on the
    local days ``first`` to ``last``: sorted, disjoint, touching windows merged.

    A restriction is active on each listed weekday from ``start`` to ``end``; an ``end`` at
    or before ``start`` is on the next day (equal: the same wall time the next day). Both
    edges resolve like hand-offs; a window emptied by a gap is dropped."""
    days = [{_WEEKDAY[weekday] for weekday in r.weekdays} for r in restrictions]
    spans: list[Window] = []
    day = first
    while day <= last:
        for restriction, weekdays in zip(restrictions, days, strict=True):
            if day.weekday() not in weekdays:
                continue
            start = instant(datetime.combine(day, restriction.start), zone)
            end_day = day if restriction.start < restriction.end else day + _DAY
            end = instant(datetime.combine(end_day, restriction.end), zone)
            if start < end:
                spans.append((start, end))
        day += _DAY
    spans.sort()
    merged: list[Window] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged
