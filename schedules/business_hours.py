"""Business-hours calendars: when a team is open, and how much open time lies between instants.

A calendar has an IANA time zone, up to 21 opening periods and up to 400 holidays. An
opening period is open on each listed weekday from ``start`` to ``end`` local time; an
``end`` at or before ``start`` runs into the next day (22:00–06:00 covers the night), equal
means 24 hours. Opening periods that overlap or touch are one open period. A holiday closes
its whole local calendar day, from its midnight to the next, including the part of a
period that started the day before and crosses midnight into it.

Time zones and DST: opening edges are wall-clock times converted exactly as the schedules'
(``schedules.rotation.instant``): a wall time in a spring-forward gap happens at the first
instant after the gap, an ambiguous one at its first occurrence. So 09:00–17:00 is 8 real
hours on an ordinary day, a period spanning a change 7 or 9, and a period emptied by a gap
(02:15–02:45 on spring-forward day in Chicago) does not open at all; holiday midnights too.

Every function takes timezone-aware datetimes (ValueError on naive ones) and returns UTC.
Searches forward look at most two years ahead (``HORIZON``): ``next_open`` answers None and
``add`` raises ValueError beyond it; ``next_close`` answers None when closed, or when the
open period does not end within it (always open). Intervals are half-open: open at a
period's start, closed at its end.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from pydantic import Field

from schedules.models import Model, Name, Restriction, TimeZoneName
from schedules.rotation import Window, instant, wall
from schedules.rotation import windows as restriction_windows

HORIZON = timedelta(days=731)  # two years, a leap day included
MAX_OPENING_HOURS = 21
MAX_HOLIDAYS = 400

# Opening periods are computed a week of local days at a time; the day before the first
# instant asked about is included (a period crossing midnight into it).
_CHUNK = 7
_DAY = timedelta(days=1)


class OpeningHours(Restriction):
    """Open on ``weekdays`` from ``start`` to ``end`` local time: the same weekly window as
    a layer's restriction (``end`` at or before ``start`` crosses midnight)."""


class BusinessHours(Model):
    """A business-hours calendar: opening periods in ``time_zone`` minus ``holidays``."""

    name: Name
    time_zone: TimeZoneName
    hours: list[OpeningHours] = Field(min_length=1, max_length=MAX_OPENING_HOURS)
    holidays: list[date] = Field(default_factory=list, max_length=MAX_HOLIDAYS)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)


def _utc(value: datetime, name: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")
    return value.astimezone(UTC)


class _Calendar:
    """One calendar's zone, opening periods (as restrictions) and holidays, ready to use."""

    def __init__(self, hours: BusinessHours) -> None:
        self.zone = hours.zone
        self.restrictions: list[Restriction] = list(hours.hours)
        self.holidays = frozenset(hours.holidays)

    def midnight(self, day: date) -> datetime:
        return instant(datetime.combine(day, time()), self.zone)

    def without_holidays(self, start: datetime, end: datetime) -> Iterator[Window]:
        """``[start, end)`` less the local days that are holidays (it spans three at most)."""
        if not self.holidays:
            yield start, end
            return
        day, last = wall(start, self.zone).date(), wall(end, self.zone).date()
        while day <= last and start < end:
            if day in self.holidays:
                closed_from, closed_to = self.midnight(day), self.midnight(day + _DAY)
                if start < closed_from:
                    yield start, min(end, closed_from)
                start = max(start, closed_to)
            day += _DAY
        if start < end:
            yield start, end

    def pieces(self, since: datetime, limit: datetime) -> Iterator[Window]:
        """Open time from ``since`` (clipped to it), lazily: sorted, disjoint windows
        starting before ``limit``; touching ones are parts of one open period (``periods``).

        Periods are those starting on local days from the day before ``since`` to the day
        of ``limit``; every period starting later starts after ``limit``, so a merged end
        at or before ``limit`` is exact (a later period could only extend one ending after)."""
        day = wall(since, self.zone).date() - _DAY
        last = wall(limit, self.zone).date()
        reach = since
        while day <= last:
            chunk_last = min(day + timedelta(days=_CHUNK - 1), last)
            for window in restriction_windows(self.restrictions, self.zone, day, chunk_last):
                for start, end in self.without_holidays(*window):
                    if start >= limit:
                        return
                    if end > reach:
                        yield max(start, reach), end
                        reach = end
            day = chunk_last + _DAY

    def periods(self, since: datetime, limit: datetime) -> Iterator[Window]:
        """The open periods: ``pieces`` with touching windows merged."""
        pending: Window | None = None
        for start, end in self.pieces(since, limit):
            if pending is not None and start <= pending[1]:
                pending = (pending[0], end)
                continue
            if pending is not None:
                yield pending
            pending = (start, end)
        if pending is not None:
            yield pending


def _first(hours: BusinessHours, at: datetime) -> Window | None:
    """The first open time after ``at`` (from ``at`` when open), within the horizon."""
    return next(_Calendar(hours).pieces(at, at + HORIZON), None)


def is_open(hours: BusinessHours, at: datetime) -> bool:
    """Whether ``at`` lies in an open period (its start included, its end not)."""
    at = _utc(at, "at")
    first = _first(hours, at)
    return first is not None and first[0] <= at


def next_open(hours: BusinessHours, at: datetime) -> datetime | None:
    """``at`` when open, else the start of the next open period; None if none starts
    within two years."""
    at = _utc(at, "at")
    first = _first(hours, at)
    return None if first is None else max(first[0], at)


def next_close(hours: BusinessHours, at: datetime) -> datetime | None:
    """The end of the open period ``at`` lies in; None when closed at ``at``, or when the
    period does not end within two years."""
    at = _utc(at, "at")
    first = next(_Calendar(hours).periods(at, at + HORIZON), None)
    if first is None or first[0] > at or first[1] > at + HORIZON:
        return None
    return first[1]


def add(hours: BusinessHours, start: datetime, duration: timedelta) -> datetime:
    """The instant when ``duration`` of open time has passed since ``start`` (counting from
    the next opening when closed): ``add(h, s, 0)`` is ``next_open(h, s)``; a duration
    that fills a period exactly ends at its close. ValueError when the duration is
    negative or the instant is more than two years after ``start``."""
    start = _utc(start, "start")
    if duration < timedelta(0):
        raise ValueError("duration must not be negative")
    limit = start + HORIZON
    remaining = duration
    for period_start, period_end in _Calendar(hours).pieces(start, limit):
        begin = max(period_start, start)
        if remaining <= period_end - begin:
            if begin + remaining <= limit:
                return begin + remaining
            break
        remaining -= period_end - begin
    raise ValueError(f"{duration} of open time is not reached within two years of {start.isoformat()}")


def windows(hours: BusinessHours, since: datetime, until: datetime) -> list[Window]:
    """The open periods intersecting ``[since, until)``, clipped to it, sorted, periods
    that overlap or touch merged."""
    since, until = _utc(since, "since"), _utc(until, "until")
    if until <= since:
        return []
    return [(max(start, since), min(end, until)) for start, end in _Calendar(hours).periods(since, until)]


def between(hours: BusinessHours, start: datetime, end: datetime) -> timedelta:
    """The open time within ``[start, end)``: zero when ``end <= start``."""
    return sum((e - s for s, e in windows(hours, start, end)), timedelta(0))
