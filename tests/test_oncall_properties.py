"""Properties of the on-call arithmetic over random schedules (hypothesis).

Random schedules: one to three layers of one to four participants (repeats allowed),
handing off every few hours, days or weeks from random anchors, in zones with DST changes
of an hour or half an hour, a quarter-hour offset, or none; optional priorities, bounds,
restrictions and overrides; periods starting near the zones' 2026 clock changes. Then:

- ``shifts`` agrees with ``oncall`` at every minute of the period, and each final span
  ends no later than the ``valid_until`` of every answer inside it says it may;
- ``valid_until`` is after ``at`` and the answer holds until just before it;
- everyone answered is a participant of some layer or an override's addition;
- each layer's own shifts are those of the layer alone; final spans and gaps tile the
  period and ``coverage_pct`` is their share.

Sizes are bounded and runs are capped (``max_examples``) so the file runs in seconds.
"""

from __future__ import annotations

import time as clock
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schedules.models import Schedule, ShiftSpan
from schedules.oncall import oncall, shifts

PEOPLE = ["ann", "bob", "cat", "dan", "eve"]
OUTSIDER = "zed"  # in no rotation: only overrides add them
WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
# Each zone with UTC days just before its 2026 clock changes (periods start within two
# days of one), and a quiet day.
AROUND = {
    "America/Chicago": [date(2026, 3, 7), date(2026, 10, 31), date(2026, 6, 10)],
    "Europe/London": [date(2026, 3, 28), date(2026, 10, 24), date(2026, 1, 10)],
    "Australia/Lord_Howe": [date(2026, 4, 4), date(2026, 10, 3), date(2026, 7, 1)],
    "Asia/Kathmandu": [date(2026, 3, 7), date(2026, 12, 31)],
    "UTC": [date(2026, 3, 28), date(2026, 2, 27)],
}
ZONES = list(AROUND)
MAX_COUNT = {"hour": 12, "day": 3, "week": 2}
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Hours near the small hours (where the clocks change) are drawn more often.
hours = st.one_of(st.integers(0, 4), st.integers(0, 23))
minutes = st.one_of(st.sampled_from([0, 15, 30, 45]), st.integers(0, 59))
local_times = st.builds(time, hours, minutes)


@st.composite
def anchors(draw: st.DrawFn, near: date) -> datetime:
    day = near + timedelta(days=draw(st.integers(-40, 40)))
    return datetime.combine(day, draw(local_times))


@st.composite
def restrictions(draw: st.DrawFn) -> dict[str, Any]:
    weekdays = draw(st.lists(st.sampled_from(WEEKDAYS), min_size=1, max_size=7, unique=True))
    return {"weekdays": weekdays, "start": draw(local_times), "end": draw(local_times)}


@st.composite
def layers(draw: st.DrawFn, since: datetime, name: str, simple: bool = False) -> dict[str, Any]:
    unit = draw(st.sampled_from(list(MAX_COUNT)))
    rotation = {
        "participants": draw(st.lists(st.sampled_from(PEOPLE), min_size=1, max_size=4)),
        "anchor": draw(anchors(since.date())),
        "shift": {"unit": unit, "count": draw(st.integers(1, MAX_COUNT[unit]))},
    }
    layer: dict[str, Any] = {"name": name, "rotation": rotation}
    if simple:
        return layer
    layer["priority"] = draw(st.integers(0, 2))
    layer["restrictions"] = draw(st.lists(restrictions(), max_size=2))
    if draw(st.booleans()):
        start = since + timedelta(minutes=draw(st.integers(-600, 1800)))
        layer["start"] = start
        if draw(st.booleans()):
            layer["end"] = start + timedelta(minutes=draw(st.integers(1, 2400)))
    return layer


@st.composite
def overrides(draw: st.DrawFn, since: datetime, number: int) -> dict[str, Any]:
    start = since + timedelta(minutes=draw(st.integers(-600, 2400)))
    end = start + timedelta(minutes=draw(st.integers(1, 2880)))
    kind = draw(st.sampled_from(["add", "remove", "replace"]))
    add = draw(st.sampled_from([*PEOPLE, OUTSIDER])) if kind != "remove" else None
    remove = draw(st.sampled_from([p for p in PEOPLE if p != add])) if kind != "add" else None
    return {"id": f"o{number}", "start": start, "end": end, "add": add, "remove": remove}


@st.composite
def cases(draw: st.DrawFn, longest: timedelta, simple: bool = False) -> tuple[Schedule, datetime, datetime]:
    """A schedule and a period (on minute boundaries) of at most ``longest``."""
    zone = draw(st.sampled_from(ZONES))
    since = datetime.combine(draw(st.sampled_from(AROUND[zone])), time(), UTC)
    since += timedelta(minutes=draw(st.integers(0, 2 * 24 * 60)))
    minutes_ = longest // timedelta(minutes=1)
    until = since + timedelta(minutes=minutes_ if simple else draw(st.integers(1, minutes_)))
    count = 1 if simple else draw(st.integers(1, 3))
    spec: dict[str, Any] = {
        "id": "random",
        "name": "Random",
        "time_zone": zone,
        "layers": [draw(layers(since, f"layer-{i}", simple)) for i in range(count)],
        "overrides": [] if simple else [draw(overrides(since, i)) for i in range(draw(st.integers(0, 3)))],
    }
    return Schedule.model_validate(spec), since, until


def tiles(spans: list[ShiftSpan], since: datetime, until: datetime) -> list[ShiftSpan]:
    ordered = sorted(spans, key=lambda span: span.start)
    assert ordered[0].start == since and ordered[-1].end == until
    for before, after in zip(ordered, ordered[1:], strict=False):
        assert before.end == after.start
        assert (before.people, before.layer) != (after.people, after.layer)  # merged
    assert all(span.start < span.end for span in ordered)
    return ordered


def agree_every_minute(schedule: Schedule, since: datetime, until: datetime) -> None:
    coverage = shifts(schedule, since, until)
    spans = tiles(coverage.final + coverage.gaps, since, until)
    i, at, minute = 0, since, timedelta(minutes=1)
    while at < until:
        while spans[i].end <= at:
            i += 1
        span, answer = spans[i], oncall(schedule, at)
        assert (answer.people, answer.layer) == (span.people, span.layer), at
        assert answer.valid_until is None or answer.valid_until > at
        if span.end < until:  # the answer changes there: an edge must come by then
            assert answer.valid_until is not None and answer.valid_until <= span.end, at
        at += minute


@SETTINGS
@given(cases(longest=timedelta(hours=36)))
def test_shifts_agree_with_oncall_every_minute(case: tuple[Schedule, datetime, datetime]) -> None:
    agree_every_minute(*case)


@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases(longest=timedelta(days=60), simple=True))
def test_sixty_days_every_minute(case: tuple[Schedule, datetime, datetime]) -> None:
    agree_every_minute(*case)


def test_sixty_days_every_minute_hourly_chicago_across_spring_forward() -> None:
    rotation = {
        "participants": ["ann", "bob", "cat"],
        "anchor": "2026-02-01T00:00:00",
        "shift": {"unit": "hour"},
    }
    spec = {
        "id": "s",
        "name": "S",
        "time_zone": "America/Chicago",
        "layers": [{"name": "h", "rotation": rotation}],
    }
    since = datetime(2026, 2, 15, tzinfo=UTC)
    agree_every_minute(Schedule.model_validate(spec), since, since + timedelta(days=60))


@SETTINGS
@given(cases(longest=timedelta(days=3)), st.floats(0, 1), st.integers(0, 999_999))
def test_valid_until_is_later_and_the_answer_holds_until_then(
    case: tuple[Schedule, datetime, datetime], where: float, micros: int
) -> None:
    schedule, since, until = case
    at = since + (until - since) * where + timedelta(microseconds=micros)
    answer = oncall(schedule, at)
    if answer.valid_until is None:  # nothing changes within the horizon: a layer has ended
        later = [at + timedelta(days=days) for days in (1, 30, 399)]
    else:
        assert answer.valid_until > at
        later = [at + (answer.valid_until - at) / 2, answer.valid_until - timedelta(microseconds=1)]
    for moment in later:
        again = oncall(schedule, moment)
        assert (again.people, again.layer, again.overrides) == (answer.people, answer.layer, answer.overrides)
        if answer.valid_until is not None:
            assert again.valid_until is not None and again.valid_until >= answer.valid_until


@SETTINGS
@given(cases(longest=timedelta(days=4)))
def test_everyone_answered_is_a_participant_or_an_addition(case: tuple[Schedule, datetime, datetime]) -> None:
    schedule, since, until = case
    allowed = {p for layer in schedule.layers for p in layer.rotation.participants}
    allowed |= {o.add for o in schedule.overrides if o.add is not None}
    coverage = shifts(schedule, since, until)
    for span in coverage.final:
        assert span.people and set(span.people) <= allowed
        assert len(set(span.people)) == len(span.people)
        answer = oncall(schedule, span.start)
        assert set(answer.people) <= allowed
        assert set(answer.overrides) <= {o.id for o in schedule.overrides}


@SETTINGS
@given(cases(longest=timedelta(days=14)))
def test_layer_shifts_and_coverage(case: tuple[Schedule, datetime, datetime]) -> None:
    schedule, since, until = case
    coverage = shifts(schedule, since, until)
    tiles(coverage.final + coverage.gaps, since, until)
    assert all(not gap.people and gap.layer is None for gap in coverage.gaps)
    covered = sum((span.end - span.start for span in coverage.final), timedelta())
    assert coverage.coverage_pct == round(100 * (covered / (until - since)), 2)
    for layer in schedule.layers:
        alone = schedule.model_copy(update={"layers": [layer], "overrides": []})
        assert coverage.layers[layer.name] == shifts(alone, since, until).final


def test_sixty_days_of_ten_hourly_layers_well_under_a_second() -> None:
    office = {"weekdays": ["mon", "tue", "wed", "thu", "fri"], "start": "08:00", "end": "18:00"}
    spec = {
        "id": "s",
        "name": "S",
        "time_zone": "America/Chicago",
        "layers": [
            {
                "name": f"layer-{i}",
                "priority": i % 3,
                "rotation": {
                    "participants": [f"p{i}-{j}" for j in range(5)],
                    "anchor": f"2026-01-01T00:{5 * i:02d}:00",  # staggered: ten hand-offs an hour
                    "shift": {"unit": "hour"},
                },
                "restrictions": [office] if i % 2 else [],
            }
            for i in range(10)
        ],
    }
    schedule = Schedule.model_validate(spec)
    started = clock.process_time()
    coverage = shifts(schedule, datetime(2026, 2, 1, tzinfo=UTC), datetime(2026, 4, 2, tzinfo=UTC))
    assert clock.process_time() - started < 1.0
    assert coverage.coverage_pct == 100.0 and len(coverage.final) > 1400
