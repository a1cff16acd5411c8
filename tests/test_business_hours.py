"""Business-hours calendars (``schedules.business_hours``): golden tables, every instant
written by hand in UTC from the tz database's 2026 rules (not computed by the code under
test), then properties over random calendars (hypothesis).

Europe/London: GMT, BST +1; 2026-03-29 01:00 → 02:00 (01:00 UTC), 2026-10-25 02:00 →
01:00 (01:00 UTC). America/Chicago: CST −6, CDT −5; 2026-03-08 02:00 → 03:00 (08:00 UTC),
2026-11-01 02:00 → 01:00 (07:00 UTC). 2026-01-09 is a Friday, 2026-03-08, 03-29, 10-25 and
11-01 are Sundays.
"""

from __future__ import annotations

import time as clock
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from schedules.business_hours import (
    HORIZON,
    BusinessHours,
    add,
    between,
    is_open,
    next_close,
    next_open,
    windows,
)
from schedules.rotation import instant, wall

WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WORKDAYS = WEEKDAYS[:5]
H = timedelta(hours=1)


def Z(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    """An instant, written in UTC."""
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def calendar(
    zone: str, *hours: tuple[list[str], str, str], holidays: list[str] | None = None
) -> BusinessHours:
    return BusinessHours.model_validate(
        {
            "name": "Support",
            "time_zone": zone,
            "hours": [{"weekdays": days, "start": start, "end": end} for days, start, end in hours],
            "holidays": holidays or [],
        }
    )


OFFICE = calendar("Europe/London", (WORKDAYS, "09:00", "17:00"))
OFFICE_MONDAY_OFF = calendar("Europe/London", (WORKDAYS, "09:00", "17:00"), holidays=["2026-01-12"])
NIGHTS = calendar("UTC", (WORKDAYS, "22:00", "06:00"))
NIGHTS_WEDNESDAY_OFF = calendar("UTC", (WORKDAYS, "22:00", "06:00"), holidays=["2026-01-14"])


# --- 09:00–17:00 Mon–Fri, London --------------------------------------------------------

ADD = [
    # (calendar, start, duration, expected)
    (OFFICE, Z(2026, 1, 9, 16, 30), 2 * H, Z(2026, 1, 12, 10, 30)),  # Fri 16:30 + 2 h = Mon 10:30
    (OFFICE, Z(2026, 1, 10, 12), timedelta(0), Z(2026, 1, 12, 9)),  # Sat 12:00 + 0 = Mon 09:00
    (OFFICE, Z(2026, 1, 9, 10), timedelta(0), Z(2026, 1, 9, 10)),  # open: itself
    (OFFICE, Z(2026, 1, 9, 9), 8 * H, Z(2026, 1, 9, 17)),  # fills the day: ends at the close
    (OFFICE, Z(2026, 1, 9, 17), timedelta(seconds=1), Z(2026, 1, 12, 9, 0, 1)),
    (OFFICE, Z(2026, 1, 12, 9), 40 * H, Z(2026, 1, 16, 17)),  # a working week
    (OFFICE, Z(2026, 1, 12, 8), 41 * H, Z(2026, 1, 19, 10)),
    (OFFICE, Z(2026, 7, 10, 15, 30), 2 * H, Z(2026, 7, 13, 9, 30)),  # summer: BST
    (OFFICE_MONDAY_OFF, Z(2026, 1, 9, 16, 30), 2 * H, Z(2026, 1, 13, 10, 30)),  # → Tue 10:30
    (OFFICE_MONDAY_OFF, Z(2026, 1, 10, 12), timedelta(0), Z(2026, 1, 13, 9)),
    # 22:00–06:00 Mon–Fri nights: Mon 12:00 + 10 h = Mon night (8 h) + 2 h of Tue night
    (NIGHTS, Z(2026, 1, 12, 12), 10 * H, Z(2026, 1, 14)),
    (NIGHTS, Z(2026, 1, 16, 23), 7 * H, Z(2026, 1, 17, 6)),  # Fri night ends Sat 06:00
    (NIGHTS, Z(2026, 1, 16, 23), 8 * H, Z(2026, 1, 19, 23)),
    # Wednesday off: Tue night stops at midnight, Wed night opens Thu 00:00
    (NIGHTS_WEDNESDAY_OFF, Z(2026, 1, 13, 23), 2 * H, Z(2026, 1, 15, 1)),
]


@pytest.mark.parametrize(("hours", "start", "duration", "expected"), ADD)
def test_add(hours: BusinessHours, start: datetime, duration: timedelta, expected: datetime) -> None:
    result = add(hours, start, duration)
    assert result == expected and result.tzinfo is UTC
    assert between(hours, start, result) == duration


BETWEEN = [
    (OFFICE, Z(2026, 1, 9, 16), Z(2026, 1, 12, 10), 2 * H),  # Fri 16:00 → Mon 10:00
    (OFFICE_MONDAY_OFF, Z(2026, 1, 9, 16), Z(2026, 1, 13, 10), 2 * H),
    (OFFICE, Z(2026, 1, 12), Z(2026, 1, 19), 40 * H),
    (OFFICE, Z(2026, 1, 12, 10), Z(2026, 1, 12, 10), timedelta(0)),  # empty
    (OFFICE, Z(2026, 1, 12, 12), Z(2026, 1, 12, 10), timedelta(0)),  # reversed
    (NIGHTS, Z(2026, 1, 11, 12), Z(2026, 1, 18, 12), 40 * H),
    # Mon night 8 h, Tue night 2 h (until the holiday), Wed night 6 h (after it), Thu 8 h
    (NIGHTS_WEDNESDAY_OFF, Z(2026, 1, 12, 12), Z(2026, 1, 16, 12), 24 * H),
]


@pytest.mark.parametrize(("hours", "start", "end", "expected"), BETWEEN)
def test_between(hours: BusinessHours, start: datetime, end: datetime, expected: timedelta) -> None:
    assert between(hours, start, end) == expected


WINDOWS = [
    (OFFICE, Z(2026, 1, 9, 12), Z(2026, 1, 13, 10), [(Z(2026, 1, 9, 12), Z(2026, 1, 9, 17)),
                                                      (Z(2026, 1, 12, 9), Z(2026, 1, 12, 17)),
                                                      (Z(2026, 1, 13, 9), Z(2026, 1, 13, 10))]),
    (NIGHTS, Z(2026, 1, 16, 12), Z(2026, 1, 20), [(Z(2026, 1, 16, 22), Z(2026, 1, 17, 6)),
                                                  (Z(2026, 1, 19, 22), Z(2026, 1, 20))]),
    (NIGHTS_WEDNESDAY_OFF, Z(2026, 1, 13, 12), Z(2026, 1, 15, 12), [(Z(2026, 1, 13, 22), Z(2026, 1, 14)),
                                                                    (Z(2026, 1, 15), Z(2026, 1, 15, 6))]),
    # touching periods are one: 09–12 and 12–17, and a night running into a day
    (calendar("UTC", (["mon"], "09:00", "12:00"), (["mon"], "12:00", "17:00"), (["sun"], "21:00", "09:00")),
     Z(2026, 1, 11), Z(2026, 1, 13), [(Z(2026, 1, 11, 21), Z(2026, 1, 12, 17))]),
    # always open: one period across every day (and the internal weekly chunks)
    (calendar("Europe/London", (WEEKDAYS, "00:00", "00:00")), Z(2026, 3, 1), Z(2026, 4, 1),
     [(Z(2026, 3, 1), Z(2026, 4, 1))]),
    (calendar("UTC", (WEEKDAYS, "00:00", "00:00"), holidays=["2026-01-20"]), Z(2026, 1, 1), Z(2026, 2, 1),
     [(Z(2026, 1, 1), Z(2026, 1, 20)), (Z(2026, 1, 21), Z(2026, 2, 1))]),
]  # fmt: skip


@pytest.mark.parametrize(("hours", "since", "until", "expected"), WINDOWS)
def test_windows(hours: BusinessHours, since: datetime, until: datetime, expected: list[Any]) -> None:
    assert windows(hours, since, until) == expected


# --- is_open / next_open / next_close at the edges ---------------------------------------

EDGES = [
    # (calendar, at, is_open, next_open, next_close)
    (OFFICE, Z(2026, 1, 12, 9), True, Z(2026, 1, 12, 9), Z(2026, 1, 12, 17)),  # start: open
    (OFFICE, Z(2026, 1, 12, 8, 59, 59), False, Z(2026, 1, 12, 9), None),
    (OFFICE, Z(2026, 1, 12, 16, 59, 59), True, Z(2026, 1, 12, 16, 59, 59), Z(2026, 1, 12, 17)),
    (OFFICE, Z(2026, 1, 12, 17), False, Z(2026, 1, 13, 9), None),  # end: closed
    (OFFICE, Z(2026, 1, 9, 17), False, Z(2026, 1, 12, 9), None),  # Friday close: Monday
    (OFFICE_MONDAY_OFF, Z(2026, 1, 12, 10), False, Z(2026, 1, 13, 9), None),
    (NIGHTS, Z(2026, 1, 12, 3), False, Z(2026, 1, 12, 22), None),  # no Sunday night
    (NIGHTS, Z(2026, 1, 12, 22), True, Z(2026, 1, 12, 22), Z(2026, 1, 13, 6)),
    (NIGHTS, Z(2026, 1, 13, 5, 59), True, Z(2026, 1, 13, 5, 59), Z(2026, 1, 13, 6)),
    (NIGHTS, Z(2026, 1, 17, 5, 59), True, Z(2026, 1, 17, 5, 59), Z(2026, 1, 17, 6)),  # Saturday
    (NIGHTS, Z(2026, 1, 17, 6), False, Z(2026, 1, 19, 22), None),
    (NIGHTS_WEDNESDAY_OFF, Z(2026, 1, 13, 23), True, Z(2026, 1, 13, 23), Z(2026, 1, 14)),
    (NIGHTS_WEDNESDAY_OFF, Z(2026, 1, 14, 3), False, Z(2026, 1, 15), None),
    (NIGHTS_WEDNESDAY_OFF, Z(2026, 1, 14, 23), False, Z(2026, 1, 15), None),
    (NIGHTS_WEDNESDAY_OFF, Z(2026, 1, 15), True, Z(2026, 1, 15), Z(2026, 1, 15, 6)),
    # always open: next_close has no end within two years
    (calendar("UTC", (WEEKDAYS, "00:00", "00:00")), Z(2026, 1, 1), True, Z(2026, 1, 1), None),
]


@pytest.mark.parametrize(("hours", "at", "open_", "opens", "closes"), EDGES)
def test_edges(
    hours: BusinessHours, at: datetime, open_: bool, opens: datetime, closes: datetime | None
) -> None:
    assert is_open(hours, at) is open_
    assert next_open(hours, at) == opens
    assert next_close(hours, at) == closes


def test_answers_are_utc_whatever_the_zone_asked_in() -> None:
    new_york = datetime(2026, 1, 12, 5, 30, tzinfo=ZoneInfo("America/New_York"))  # 10:30 UTC
    assert is_open(OFFICE, new_york)
    for answer in (next_open(OFFICE, new_york), next_close(OFFICE, new_york), add(OFFICE, new_york, H)):
        assert answer is not None and answer.tzinfo is UTC
    assert next_close(OFFICE, new_york) == Z(2026, 1, 12, 17)
    assert add(OFFICE, new_york, H) == Z(2026, 1, 12, 11, 30)


# --- DST days: exact instants, 23- and 25-hour days --------------------------------------

DST = [
    # (zone, opening, Sunday, open instants, real open time that day)
    ("America/Chicago", ("00:00", "00:00"), "2026-03-08", (Z(2026, 3, 8, 6), Z(2026, 3, 9, 5)), 23),
    ("America/Chicago", ("00:00", "00:00"), "2026-11-01", (Z(2026, 11, 1, 5), Z(2026, 11, 2, 6)), 25),
    ("America/Chicago", ("01:00", "05:00"), "2026-03-08", (Z(2026, 3, 8, 7), Z(2026, 3, 8, 10)), 3),
    ("America/Chicago", ("01:00", "05:00"), "2026-11-01", (Z(2026, 11, 1, 6), Z(2026, 11, 1, 11)), 5),
    # an edge in the gap: the first instant after it (03:00 CDT)
    ("America/Chicago", ("02:30", "04:00"), "2026-03-08", (Z(2026, 3, 8, 8), Z(2026, 3, 8, 9)), 1),
    # an ambiguous edge: its first occurrence (CDT)
    ("America/Chicago", ("01:30", "03:00"), "2026-11-01", (Z(2026, 11, 1, 6, 30), Z(2026, 11, 1, 9)), 2.5),
    ("Europe/London", ("00:00", "00:00"), "2026-03-29", (Z(2026, 3, 29), Z(2026, 3, 29, 23)), 23),
    ("Europe/London", ("00:00", "00:00"), "2026-10-25", (Z(2026, 10, 24, 23), Z(2026, 10, 26)), 25),
    ("Europe/London", ("00:30", "08:30"), "2026-03-29", (Z(2026, 3, 29, 0, 30), Z(2026, 3, 29, 7, 30)), 7),
    ("Europe/London", ("00:30", "08:30"), "2026-10-25", (Z(2026, 10, 24, 23, 30), Z(2026, 10, 25, 8, 30)), 9),
    ("Europe/London", ("09:00", "17:00"), "2026-03-29", (Z(2026, 3, 29, 8), Z(2026, 3, 29, 16)), 8),
    ("Europe/London", ("09:00", "17:00"), "2026-10-25", (Z(2026, 10, 25, 9), Z(2026, 10, 25, 17)), 8),
]


@pytest.mark.parametrize(("zone", "opening", "sunday", "period", "hours_"), DST)
def test_dst_days(
    zone: str, opening: tuple[str, str], sunday: str, period: tuple[datetime, datetime], hours_: float
) -> None:
    hours = calendar(zone, (["sun"], *opening))
    day = date.fromisoformat(sunday)
    around = (Z(day.year, day.month, day.day) - 2 * H * 12, Z(day.year, day.month, day.day) + 2 * H * 24)
    assert windows(hours, *around) == [period]
    assert between(hours, *around) == timedelta(hours=hours_)
    opens, closes = period
    assert next_open(hours, around[0]) == opens
    assert is_open(hours, opens) and not is_open(hours, opens - timedelta(seconds=1))
    assert next_close(hours, opens) == closes and not is_open(hours, closes)
    assert add(hours, around[0], timedelta(0)) == opens
    assert add(hours, around[0], timedelta(hours=hours_)) == closes


def test_dst_partial_values() -> None:
    chicago = calendar("America/Chicago", (["sun"], "01:00", "05:00"))
    # spring: 01:00 CST (07:00 UTC) to 05:00 CDT (10:00 UTC); 07:00 → 09:00 UTC is 2 h
    assert between(chicago, Z(2026, 3, 8), Z(2026, 3, 8, 9)) == 2 * H
    assert add(chicago, Z(2026, 3, 8, 7), 2 * H) == Z(2026, 3, 8, 9)  # 04:00 CDT
    # autumn: the repeated hour counts twice
    assert between(chicago, Z(2026, 11, 1, 6), Z(2026, 11, 1, 8)) == 2 * H
    assert add(chicago, Z(2026, 11, 1, 6), 4 * H) == Z(2026, 11, 1, 10)  # 04:00 CST
    london = calendar("Europe/London", (WEEKDAYS, "00:00", "00:00"))
    assert between(london, Z(2026, 3, 29), Z(2026, 3, 29, 12)) == 12 * H
    # an ambiguous closing time ends at its first occurrence: no reopening in the repeat
    short = calendar("America/Chicago", (["sun"], "01:30", "01:45"))
    assert windows(short, Z(2026, 11, 1), Z(2026, 11, 2)) == [(Z(2026, 11, 1, 6, 30), Z(2026, 11, 1, 6, 45))]
    assert not is_open(short, Z(2026, 11, 1, 7, 35))  # the second 01:35


def test_a_period_inside_the_gap_does_not_open() -> None:
    hours = calendar("America/Chicago", (["sun"], "02:15", "02:45"))
    assert windows(hours, Z(2026, 3, 8), Z(2026, 3, 9)) == []
    assert next_open(hours, Z(2026, 3, 8)) == Z(2026, 3, 15, 7, 15)  # the next Sunday, CDT


# --- errors ------------------------------------------------------------------------------


def test_naive_datetimes_are_refused() -> None:
    naive, aware = datetime(2026, 1, 12, 10), Z(2026, 1, 12, 10)
    calls = [
        lambda: is_open(OFFICE, naive),
        lambda: next_open(OFFICE, naive),
        lambda: next_close(OFFICE, naive),
        lambda: add(OFFICE, naive, H),
        lambda: between(OFFICE, naive, aware),
        lambda: between(OFFICE, aware, naive),
        lambda: windows(OFFICE, naive, aware),
        lambda: windows(OFFICE, aware, naive),
    ]
    for call in calls:
        with pytest.raises(ValueError, match="timezone-aware"):
            call()


def test_no_opening_within_two_years() -> None:
    mondays = [date(2026, 1, 5) + timedelta(weeks=k) for k in range(120)]  # to 2028-04-17
    hours = calendar("UTC", (["mon"], "09:00", "17:00"), holidays=[d.isoformat() for d in mondays])
    at = Z(2026, 1, 1)
    assert not is_open(hours, at)
    assert next_open(hours, at) is None and next_close(hours, at) is None
    assert windows(hours, at, at + timedelta(days=700)) == []
    for duration in (timedelta(0), H):
        with pytest.raises(ValueError, match="not reached within two years"):
            add(hours, at, duration)
    # the first Monday after the holidays is a little more than two years away
    with pytest.raises(ValueError, match="not reached within two years"):
        add(hours, Z(2026, 1, 20), timedelta(0))
    assert next_open(hours, Z(2026, 1, 20)) is None
    assert add(hours, Z(2027, 6, 1), timedelta(0)) == next_open(hours, Z(2027, 6, 1)) == Z(2028, 4, 24, 9)


def test_add_refuses_negative_and_unreachable_durations() -> None:
    always = calendar("UTC", (WEEKDAYS, "00:00", "00:00"))
    assert add(always, Z(2026, 1, 1), timedelta(days=700)) == Z(2027, 12, 2)
    with pytest.raises(ValueError, match="not reached within two years"):
        add(always, Z(2026, 1, 1), timedelta(days=800))
    with pytest.raises(ValueError, match="negative"):
        add(OFFICE, Z(2026, 1, 1), -H)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"time_zone": "Europe/Londn"}, "unknown IANA time zone"),
        ({"time_zone": ""}, "unknown IANA time zone"),
        ({"hours": []}, "at least 1"),
        ({"hours": [{"weekdays": ["mon"], "start": "09:00", "end": "17:00"}] * 22}, "at most 21"),
        ({"hours": [{"weekdays": [], "start": "09:00", "end": "17:00"}]}, "at least 1"),
        ({"hours": [{"weekdays": ["mon"], "start": "09:00+01:00", "end": "17:00"}]}, "without an offset"),
        ({"hours": [{"weekdays": ["someday"], "start": "09:00", "end": "17:00"}]}, "mon"),
        ({"holidays": ["2026-01-01"] * 401}, "at most 400"),
        ({"name": " "}, "at least 1"),
        ({"colour": "blue"}, "Extra inputs are not permitted"),
    ],
)
def test_validation(change: dict[str, Any], message: str) -> None:
    spec = {
        "name": "Support",
        "time_zone": "UTC",
        "hours": [{"weekdays": ["mon"], "start": "09:00", "end": "17:00"}],
    }
    BusinessHours.model_validate(spec)
    with pytest.raises(ValidationError, match=message):
        BusinessHours.model_validate({**spec, **change})


def test_frozen() -> None:
    with pytest.raises(ValidationError):
        OFFICE.time_zone = "UTC"  # type: ignore[misc]


def test_forty_business_hours_is_fast() -> None:
    """10 periods a week (two a weekday, with lunch): ``add`` of 40 hours, cold caches."""
    hours = calendar("America/Chicago", (WORKDAYS, "08:00", "12:00"), (WORKDAYS, "13:00", "17:30"))
    instant.cache_clear()
    starts = [Z(2026, 1, 1) + timedelta(days=k, hours=k % 24) for k in range(0, 365, 7)]
    began = clock.perf_counter()
    for start in starts:
        add(hours, start, 40 * H)
    assert (clock.perf_counter() - began) / len(starts) < 0.010


# --- properties --------------------------------------------------------------------------

# Each zone with days just before its 2026 clock changes, and a quiet day.
AROUND = {
    "America/Chicago": [date(2026, 3, 7), date(2026, 10, 31), date(2026, 6, 10)],
    "Europe/London": [date(2026, 3, 28), date(2026, 10, 24), date(2026, 1, 10)],
    "Australia/Lord_Howe": [date(2026, 4, 4), date(2026, 10, 3)],  # half-hour changes
    "Asia/Kathmandu": [date(2026, 3, 7)],
    "UTC": [date(2026, 2, 27)],
}
SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
local_times = st.builds(
    time,
    st.one_of(st.integers(0, 4), st.integers(0, 23)),
    st.one_of(st.sampled_from([0, 30]), st.integers(0, 59)),
)
openings = st.fixed_dictionaries(
    {
        "weekdays": st.lists(st.sampled_from(WEEKDAYS), min_size=1, max_size=7, unique=True),
        "start": local_times,
        "end": local_times,
    }
)


@st.composite
def cases(draw: st.DrawFn) -> tuple[BusinessHours, datetime]:
    """A calendar of one to four openings, a few holidays near ``at``, and ``at`` (whole
    seconds) within two days of a clock change."""
    zone = draw(st.sampled_from(list(AROUND)))
    day = draw(st.sampled_from(AROUND[zone]))
    at = datetime.combine(day, time(), UTC) + timedelta(seconds=draw(st.integers(0, 2 * 86400)))
    holidays = draw(st.lists(st.integers(-2, 10).map(lambda k: day + timedelta(days=k)), max_size=3))
    hours = draw(st.lists(openings, min_size=1, max_size=4))
    spec = {"name": "Random", "time_zone": zone, "hours": hours, "holidays": holidays}
    return BusinessHours.model_validate(spec), at


def oracle(hours: BusinessHours, at: datetime) -> bool:
    """``is_open`` written directly from the definition: a period starting on the local day
    of ``at`` or the day before contains it, and that day is no holiday."""
    zone, today = hours.zone, wall(at, hours.zone).date()
    if today in hours.holidays:
        return False
    for opening in hours.hours:
        for day in (today - timedelta(days=1), today):
            if WEEKDAYS[day.weekday()] not in opening.weekdays:
                continue
            end_day = day if opening.start < opening.end else day + timedelta(days=1)
            start = instant(datetime.combine(day, opening.start), zone)
            if start <= at < instant(datetime.combine(end_day, opening.end), zone):
                return True
    return False


durations = st.integers(0, 60 * 3600).map(lambda s: timedelta(seconds=s))


@SETTINGS
@given(cases(), durations)
def test_between_undoes_add(case: tuple[BusinessHours, datetime], duration: timedelta) -> None:
    hours, start = case
    if duration > between(hours, start, start + HORIZON):  # a calendar open a minute a week
        with pytest.raises(ValueError, match="not reached within two years"):
            add(hours, start, duration)
        return
    end = add(hours, start, duration)
    assert end >= start
    assert between(hours, start, end) == duration
    if duration:  # and no earlier instant would do
        assert between(hours, start, end - timedelta(seconds=1)) < duration


@SETTINGS
@given(cases(), durations, durations)
def test_add_is_monotonic(case: tuple[BusinessHours, datetime], one: timedelta, two: timedelta) -> None:
    hours, start = case
    shorter, longer = sorted((one, two))
    assume(longer <= between(hours, start, start + HORIZON))  # else add raises (the test above)
    assert add(hours, start, shorter) <= add(hours, start, longer)
    assert add(hours, start, timedelta(0)) == next_open(hours, start)


@SETTINGS
@given(cases())
def test_next_open_is_open_and_nothing_opens_before(case: tuple[BusinessHours, datetime]) -> None:
    hours, at = case
    opens = next_open(hours, at)
    assert opens is not None and opens >= at  # every weekday-listed calendar opens within weeks
    assert is_open(hours, opens) and is_open(hours, opens + timedelta(seconds=1))
    assert oracle(hours, opens)
    if opens > at:
        assert not is_open(hours, at) and not is_open(hours, opens - timedelta(seconds=1))
        assert between(hours, at, opens) == timedelta(0)
    closes = next_close(hours, opens)
    assert closes is None or (closes > opens and not is_open(hours, closes))
    assert closes is None or between(hours, opens, closes) == closes - opens
    assert is_open(hours, at) is oracle(hours, at)
    assert (next_close(hours, at) is not None) is (opens == at and closes is not None)


@SETTINGS
@given(cases())
def test_windows_agree_with_is_open_every_ten_minutes(case: tuple[BusinessHours, datetime]) -> None:
    hours, since = case
    until = since + timedelta(days=3)
    spans = windows(hours, since, until)
    for (s1, e1), (s2, e2) in zip(spans, spans[1:], strict=False):
        assert s1 < e1 < s2 < e2  # sorted, disjoint, touching ones merged
    assert all(since <= s < e <= until for s, e in spans)
    assert between(hours, since, until) == sum((e - s for s, e in spans), timedelta(0))
    at = since
    while at < until:
        inside = any(s <= at < e for s, e in spans)
        assert is_open(hours, at) is inside is oracle(hours, at), at
        at += timedelta(minutes=10)
