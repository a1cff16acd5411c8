"""Who is on call at an instant, and the shifts over a period: pure arithmetic, no I/O, no clock.

Layers. A layer is active at ``at`` when ``start <= at < end`` (None: unbounded) and, if it
has restrictions, ``at`` lies in one of their windows (a weekday from ``start`` to ``end``
local time; ``end <= start`` runs into the next day; ``start == end`` until the same wall
time the next day). The rotation runs underneath the restrictions, which only mask it: the
k-th hand-off is at the wall time ``anchor + k * shift`` (k any integer; months counted
from the anchor with the day clamped, never accumulated) and ``participants[k % n]`` holds
``[handoff_k, handoff_k+1)``. The active layer with the highest priority answers; on equal
priority the one listed later.

Time zones and DST. Hand-offs and restriction edges happen at wall-clock time in the
schedule's zone; every conversion goes through ``zoneinfo``:

* a wall time that does not exist (spring forward) happens at the first instant after the
  gap: America/Chicago 2026-03-08 02:30 is 03:00 CDT (08:00 UTC);
* an ambiguous wall time (fall back) happens at its first occurrence (``fold=0``):
  America/Chicago 2026-11-01 01:30 is 01:30 CDT (06:30 UTC);
* so a daily shift lasts 23 or 25 hours across a change and a weekly one 167 or 169;
  hourly rotations stay on the wall clock: on spring-forward day the 02:00 hand-off
  coincides with the 03:00 one (that shift lasts no time, its participant is skipped), and
  the repeated 01:00 hour in autumn is one shift of two real hours;
* restriction windows are instants too: one ending at 01:30 on fall-back day ends at the
  first 01:30 and does not reopen in the repeated hour.

Overrides. Those with ``start <= at < end`` apply after the layers, in list order: first
the removals, then the additions (appended, no duplicates). A pure ``add`` always applies;
a pure ``remove`` applies when that person is on call; a replacement (add and remove)
applies only when its removed person is on call ("I'll take your shift"): otherwise
neither half applies. "On call" means in the answering layer's answer, before overrides.
``OnCall.overrides`` lists an override when its step changed the answer (dropped or added
someone). ``layer`` names the answering layer; it is None when nobody is on call or
when the people come from overrides only.

``valid_until`` is the earliest edge after ``at`` where the answer may change: the next
hand-off of an active layer, the next window edge of a restricted layer, a layer's start
or end, an override's start or end; None beyond a 400-day horizon. ``shifts`` walks those
same edges from ``since``, so it agrees with ``oncall`` by construction.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from schedules.models import Coverage, Layer, OnCall, Override, Schedule, ShiftSpan
from schedules.rotation import instant, shift_at, wall, windows

HORIZON = timedelta(days=400)
MAX_PERIOD = timedelta(days=92)

# Restriction windows are computed for local days around the instants asked about: two
# days before (a window crossing midnight, a zone falling back across it) and eight after
# (every restriction has a weekday, so a next window starts within a week).
_BEFORE = timedelta(days=2)
_AFTER = timedelta(days=8)
_DAY = timedelta(days=1)

State = tuple[str | None, datetime | None]  # (person on shift or None, next possible change)


def _utc(value: datetime, name: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")
    return value.astimezone(UTC)


def _earliest(*instants: datetime | None) -> datetime | None:
    return min((i for i in instants if i is not None), default=None)


class _LayerClock:
    """One layer's state at any instant whose local day is from ``first`` + 2 days to
    ``farthest`` − 8 days: who is on shift (None: inactive) and until when. Restriction
    windows are computed up to the local day ``last`` and, when no next window starts by
    then, up to ``farthest``."""

    def __init__(self, layer: Layer, zone: ZoneInfo, first: date, last: date, farthest: date) -> None:
        self.layer = layer
        self.zone = zone
        self.start = layer.start.astimezone(UTC) if layer.start is not None else None
        self.end = layer.end.astimezone(UTC) if layer.end is not None else None
        self.first, self.farthest = first, farthest
        self._load(last)

    def _load(self, last: date) -> None:
        self.last = last
        restrictions = self.layer.restrictions
        self.windows = windows(restrictions, self.zone, self.first, last) if restrictions else None
        self.starts = [start for start, _ in self.windows or []]

    def state(self, at: datetime) -> State:
        if self.end is not None and at >= self.end:
            return None, None
        if self.start is not None and at < self.start:
            return None, self.start
        until = self.end
        if self.windows is not None:
            i = bisect_right(self.starts, at) - 1
            if i < 0 or at >= self.windows[i][1]:
                if i + 1 < len(self.starts):
                    following = self.starts[i + 1]
                elif self.last < self.farthest:
                    self._load(self.farthest)
                    return self.state(at)
                else:  # not within the days computed: may change after them
                    following = instant(datetime.combine(self.last + _DAY, time()), self.zone)
                return None, None if until is not None and following >= until else following
            until = self.windows[i][1] if until is None else min(until, self.windows[i][1])
        rotation = self.layer.rotation
        k, handoff = shift_at(rotation, self.zone, at)
        return rotation.participants[k % len(rotation.participants)], _earliest(until, handoff)


def _clocks(schedule: Schedule, since: datetime, until: datetime, near: bool = False) -> list[_LayerClock]:
    """Clocks for instants from ``since`` to ``until``; ``near``: windows computed lazily
    (one instant asked about: its window or the next one is usually within a day)."""
    zone = schedule.zone
    first = wall(since, zone).date() - _BEFORE
    farthest = wall(until, zone).date() + _AFTER
    last = wall(until, zone).date() + _DAY if near else farthest
    return [_LayerClock(layer, zone, first, last, farthest) for layer in schedule.layers]


def _answer(
    layers: list[Layer], states: list[State], overrides: list[Override], at: datetime
) -> tuple[list[str], str | None, list[str]]:
    """People on call, the answering layer and the overrides that changed the answer."""
    answering: Layer | None = None
    base: list[str] = []
    for layer, (person, _) in zip(layers, states, strict=True):
        if person is not None and (answering is None or layer.priority >= answering.priority):
            answering, base = layer, [person]
    people = list(base)
    changed: set[str] = set()
    active = [o for o in overrides if o.start <= at < o.end]
    for override in active:
        if override.remove is not None and override.remove in people:
            people.remove(override.remove)
            changed.add(override.id)
    for override in active:
        if override.add is None or (override.remove is not None and override.remove not in base):
            continue
        if override.add not in people:
            people.append(override.add)
            changed.add(override.id)
    ids = list(dict.fromkeys(o.id for o in active if o.id in changed))
    return people, answering.name if answering is not None and people else None, ids


def oncall(schedule: Schedule, at: datetime) -> OnCall:
    """Who is on call at ``at`` (timezone-aware), by which layer, changed by which
    overrides, and until when the answer holds."""
    moment = _utc(at, "at")
    states = [clock.state(moment) for clock in _clocks(schedule, moment, moment, near=True)]
    people, layer, ids = _answer(schedule.layers, states, schedule.overrides, moment)
    edges = [until for _, until in states]
    for override in schedule.overrides:
        edges += [edge for edge in (override.start, override.end) if edge > moment]
    if schedule.superseded_at is not None and schedule.superseded_at > moment:
        edges.append(schedule.superseded_at)  # a later revision takes over then
    valid_until = _earliest(*edges)
    if valid_until is not None:
        valid_until = valid_until.astimezone(UTC)
        if valid_until - moment > HORIZON:
            valid_until = None
    return OnCall(
        schedule=schedule.id,
        revision=schedule.revision,
        at=at,
        people=people,
        layer=layer,
        overrides=ids,
        valid_until=valid_until,
    )


def next_change(schedule: Schedule, at: datetime) -> datetime | None:
    """The next instant after ``at`` at which who is on call may change (None: not within
    the 400-day horizon)."""
    return oncall(schedule, at).valid_until


@dataclass
class _Run:
    """A span while a walk builds it."""

    start: datetime
    end: datetime
    people: tuple[str, ...]
    layer: str | None

    def span(self) -> ShiftSpan:
        return ShiftSpan(start=self.start, end=self.end, people=list(self.people), layer=self.layer)


def _extend(
    runs: list[_Run], start: datetime, end: datetime, people: tuple[str, ...], layer: str | None
) -> None:
    last = runs[-1] if runs else None
    if last is not None and last.end == start and last.people == people and last.layer == layer:
        last.end = end
    else:
        runs.append(_Run(start, end, people, layer))


def shifts(schedule: Schedule, since: datetime, until: datetime) -> Coverage:
    """The final shifts over ``[since, until)`` (at most 92 days), each layer's own shifts
    (its rotation masked by its restrictions and bounds, ignoring priority and overrides),
    the gaps with nobody on call (``layer`` None) and the share of the period covered."""
    start, stop = _utc(since, "since"), _utc(until, "until")
    if start >= stop:
        raise ValueError("since must be before until")
    if stop - start > MAX_PERIOD:
        raise ValueError(f"a period is at most {MAX_PERIOD.days} days")
    clocks = _clocks(schedule, start, stop)
    layers = schedule.layers
    overrides = [o for o in schedule.overrides if o.start < stop and o.end > start]
    edges = sorted({e.astimezone(UTC) for o in overrides for e in (o.start, o.end) if start < e < stop})
    states = [clock.state(start) for clock in clocks]
    answers: list[_Run] = []
    own: list[list[_Run]] = [[] for _ in layers]
    moment, j = start, 0
    while moment < stop:
        while j < len(edges) and edges[j] <= moment:
            j += 1
        following = _earliest(stop, edges[j] if j < len(edges) else None, *(u for _, u in states))
        assert following is not None
        people, layer, _ = _answer(layers, states, overrides, moment)
        _extend(answers, moment, following, tuple(people), layer)
        for runs, clock, (person, _) in zip(own, clocks, states, strict=True):
            if person is not None:
                _extend(runs, moment, following, (person,), clock.layer.name)
        moment = following
        states = [
            clock.state(moment) if u is not None and u <= moment else (p, u)
            for clock, (p, u) in zip(clocks, states, strict=True)
        ]
    spans = [run.span() for run in answers]
    final = [s for s in spans if s.people]
    covered = sum((s.end - s.start for s in final), timedelta())
    return Coverage(
        since=since,
        until=until,
        final=final,
        layers={layer.name: [run.span() for run in runs] for layer, runs in zip(layers, own, strict=True)},
        gaps=[s for s in spans if not s.people],
        coverage_pct=round(100 * (covered / (stop - start)), 2),
    )


def gaps_within(schedule: Schedule, since: datetime, until: datetime) -> list[ShiftSpan]:
    """The spans of ``[since, until)`` when nobody is on call."""
    return shifts(schedule, since, until).gaps
