"""Golden tables for the on-call arithmetic (``schedules.oncall``): every instant below is
written by hand in UTC, from the tz database's 2026 rules, not computed by the code under
test.

America/Chicago: CST −6, CDT −5; 2026-03-08 02:00 → 03:00 (08:00 UTC), 2026-11-01
02:00 → 01:00 (07:00 UTC). Europe/London: GMT, BST +1; 2026-03-29 01:00 → 02:00 (01:00
UTC), 2026-10-25 02:00 → 01:00 (01:00 UTC). Australia/Lord_Howe: +10:30, +11 in summer;
2026-04-05 02:00 → 01:30 (15:00 UTC on the 4th), 2026-10-04 02:00 → 02:30 (15:30 UTC on
the 3rd). Asia/Kathmandu: +05:45 all year.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from schedules.models import Coverage, Schedule
from schedules.oncall import gaps_within, next_change, oncall, shifts
from schedules.rotation import instant

CHICAGO = ZoneInfo("America/Chicago")
EVERY_DAY = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def Z(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    """An instant, written in UTC."""
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def layer(name: str, people: list[str], anchor: str, unit: str = "day", count: int = 1, **extra: Any) -> dict:
    rotation = {"participants": people, "anchor": anchor, "shift": {"unit": unit, "count": count}}
    return {"name": name, "rotation": rotation, **extra}


def schedule(zone: str, *layers: dict, overrides: list[dict] | None = None) -> Schedule:
    return Schedule.model_validate(
        {
            "id": "sched",
            "name": "Schedule",
            "time_zone": zone,
            "layers": list(layers),
            "overrides": overrides or [],
        }
    )


def final(coverage: Coverage) -> list[tuple[datetime, datetime, list[str]]]:
    return [(span.start, span.end, span.people) for span in coverage.final]


def hours(span: tuple[datetime, datetime, list[str]]) -> float:
    return (span[1] - span[0]) / timedelta(hours=1)


# --- DST: daily, hourly, hand-offs inside the gap and the repeated hour ------------------


def test_chicago_daily_spring_forward_shift_is_23_hours() -> None:
    s = schedule("America/Chicago", layer("daily", ["a", "b", "c"], "2026-03-06T09:00:00"))
    spans = final(shifts(s, Z(2026, 3, 6, 15), Z(2026, 3, 10, 15)))
    assert spans == [
        (Z(2026, 3, 6, 15), Z(2026, 3, 7, 15), ["a"]),
        (Z(2026, 3, 7, 15), Z(2026, 3, 8, 14), ["b"]),  # 09:00 CST to 09:00 CDT
        (Z(2026, 3, 8, 14), Z(2026, 3, 9, 14), ["c"]),
        (Z(2026, 3, 9, 14), Z(2026, 3, 10, 14), ["a"]),
        (Z(2026, 3, 10, 14), Z(2026, 3, 10, 15), ["b"]),
    ]
    assert [hours(span) for span in spans[:4]] == [24, 23, 24, 24]
    assert {span[0].astimezone(CHICAGO).hour for span in spans} == {9}


def test_chicago_daily_fall_back_shift_is_25_hours() -> None:
    s = schedule("America/Chicago", layer("daily", ["a", "b", "c"], "2026-10-30T09:00:00"))
    spans = final(shifts(s, Z(2026, 10, 30, 14), Z(2026, 11, 2, 15)))
    assert spans == [
        (Z(2026, 10, 30, 14), Z(2026, 10, 31, 14), ["a"]),
        (Z(2026, 10, 31, 14), Z(2026, 11, 1, 15), ["b"]),  # 09:00 CDT to 09:00 CST
        (Z(2026, 11, 1, 15), Z(2026, 11, 2, 15), ["c"]),
    ]
    assert [hours(span) for span in spans] == [24, 25, 24]
    assert {span[0].astimezone(CHICAGO).hour for span in spans} == {9}
    answer = oncall(s, Z(2026, 11, 1, 7, 30))  # the second 01:30
    assert (answer.people, answer.layer, answer.valid_until) == (["b"], "daily", Z(2026, 11, 1, 15))


def test_chicago_hourly_spring_forward_skips_the_missing_hour() -> None:
    # 00:00 CST a, 01:00 CST b, 02:00 does not exist (c's shift lasts no time), 03:00 CDT a.
    s = schedule("America/Chicago", layer("hourly", ["a", "b", "c"], "2026-03-08T00:00:00", "hour"))
    assert final(shifts(s, Z(2026, 3, 8, 6), Z(2026, 3, 8, 10))) == [
        (Z(2026, 3, 8, 6), Z(2026, 3, 8, 7), ["a"]),
        (Z(2026, 3, 8, 7), Z(2026, 3, 8, 8), ["b"]),
        (Z(2026, 3, 8, 8), Z(2026, 3, 8, 9), ["a"]),
        (Z(2026, 3, 8, 9), Z(2026, 3, 8, 10), ["b"]),
    ]
    before = oncall(s, Z(2026, 3, 8, 7, 59, 59))
    assert (before.people, before.valid_until) == (["b"], Z(2026, 3, 8, 8))
    assert oncall(s, Z(2026, 3, 8, 8)).people == ["a"]


def test_chicago_hourly_fall_back_repeated_hour_is_one_shift() -> None:
    # 00:00 CDT a, 01:00 CDT b until 02:00 CST (two real hours), 02:00 CST c, 03:00 a.
    s = schedule("America/Chicago", layer("hourly", ["a", "b", "c"], "2026-11-01T00:00:00", "hour"))
    spans = final(shifts(s, Z(2026, 11, 1, 5), Z(2026, 11, 1, 10)))
    assert spans == [
        (Z(2026, 11, 1, 5), Z(2026, 11, 1, 6), ["a"]),
        (Z(2026, 11, 1, 6), Z(2026, 11, 1, 8), ["b"]),
        (Z(2026, 11, 1, 8), Z(2026, 11, 1, 9), ["c"]),
        (Z(2026, 11, 1, 9), Z(2026, 11, 1, 10), ["a"]),
    ]
    for at in (Z(2026, 11, 1, 6, 30), Z(2026, 11, 1, 7, 30)):  # the first and second 01:30
        answer = oncall(s, at)
        assert (answer.people, answer.valid_until) == (["b"], Z(2026, 11, 1, 8))


def test_handoff_inside_the_gap_happens_when_the_gap_ends() -> None:
    assert instant(datetime(2026, 3, 8, 2, 30), CHICAGO) == Z(2026, 3, 8, 8)
    assert instant(datetime(2026, 3, 8, 2, 0), CHICAGO) == Z(2026, 3, 8, 8)
    s = schedule("America/Chicago", layer("daily", ["a", "b", "c"], "2026-03-07T02:30:00"))
    before = oncall(s, Z(2026, 3, 8, 7, 59))
    assert (before.people, before.valid_until) == (["a"], Z(2026, 3, 8, 8))
    after = oncall(s, Z(2026, 3, 8, 8))
    assert (after.people, after.valid_until) == (["b"], Z(2026, 3, 9, 7, 30))  # 02:30 CDT


def test_ambiguous_handoff_happens_at_its_first_occurrence() -> None:
    assert instant(datetime(2026, 11, 1, 1, 30), CHICAGO) == Z(2026, 11, 1, 6, 30)
    assert instant(datetime(2026, 11, 1, 1, 30, fold=1), CHICAGO) == Z(2026, 11, 1, 6, 30)
    s = schedule("America/Chicago", layer("daily", ["a", "b", "c"], "2026-10-31T01:30:00"))
    assert final(shifts(s, Z(2026, 10, 31, 6, 30), Z(2026, 11, 2, 7, 30))) == [
        (Z(2026, 10, 31, 6, 30), Z(2026, 11, 1, 6, 30), ["a"]),
        (Z(2026, 11, 1, 6, 30), Z(2026, 11, 2, 7, 30), ["b"]),  # 01:30 CDT to 01:30 CST: 25 h
    ]
    assert oncall(s, Z(2026, 11, 1, 6, 29)).valid_until == Z(2026, 11, 1, 6, 30)


def test_london_weekly_across_both_changes_is_seven_wall_clock_days() -> None:
    s = schedule("Europe/London", layer("weekly", ["a", "b"], "2026-03-23T09:00:00", "week"))
    spring = final(shifts(s, Z(2026, 3, 23, 9), Z(2026, 4, 6, 8)))
    assert spring == [
        (Z(2026, 3, 23, 9), Z(2026, 3, 30, 8), ["a"]),  # 09:00 GMT to 09:00 BST
        (Z(2026, 3, 30, 8), Z(2026, 4, 6, 8), ["b"]),
    ]
    assert [hours(span) for span in spring] == [167, 168]
    # 2026-10-19 is 30 weeks after the anchor: a's turn again.
    autumn = final(shifts(s, Z(2026, 10, 19, 8), Z(2026, 11, 2, 9)))
    assert autumn == [
        (Z(2026, 10, 19, 8), Z(2026, 10, 26, 9), ["a"]),  # 09:00 BST to 09:00 GMT
        (Z(2026, 10, 26, 9), Z(2026, 11, 2, 9), ["b"]),
    ]
    assert [hours(span) for span in autumn] == [169, 168]


def test_lord_howe_half_hour_changes() -> None:
    s = schedule("Australia/Lord_Howe", layer("daily", ["a", "b"], "2026-10-02T09:00:00"))
    # 09:00 +10:30 is 22:30 UTC the day before; after 2026-10-04 02:00 → 02:30, 09:00 +11.
    assert final(shifts(s, Z(2026, 10, 1, 22, 30), Z(2026, 10, 4, 22))) == [
        (Z(2026, 10, 1, 22, 30), Z(2026, 10, 2, 22, 30), ["a"]),
        (Z(2026, 10, 2, 22, 30), Z(2026, 10, 3, 22), ["b"]),  # 23 h 30 min
        (Z(2026, 10, 3, 22), Z(2026, 10, 4, 22), ["a"]),
    ]
    # A 02:15 hand-off on 2026-10-04 is in the gap: it happens at 02:30 +11 (15:30 UTC).
    gap = schedule("Australia/Lord_Howe", layer("daily", ["a", "b", "c"], "2026-10-03T02:15:00"))
    assert final(shifts(gap, Z(2026, 10, 2, 15, 45), Z(2026, 10, 4, 15, 15))) == [
        (Z(2026, 10, 2, 15, 45), Z(2026, 10, 3, 15, 30), ["a"]),
        (Z(2026, 10, 3, 15, 30), Z(2026, 10, 4, 15, 15), ["b"]),
    ]
    # 2026-04-05 02:00 → 01:30: 09:00 +11 to 09:00 +10:30 is 24 h 30 min; a 01:45 hand-off
    # that day is ambiguous and happens at its first occurrence (01:45 +11, 14:45 UTC).
    autumn = schedule("Australia/Lord_Howe", layer("daily", ["a", "b"], "2026-04-04T09:00:00"))
    spans = final(shifts(autumn, Z(2026, 4, 3, 22), Z(2026, 4, 5, 22, 30)))
    assert spans == [
        (Z(2026, 4, 3, 22), Z(2026, 4, 4, 22, 30), ["a"]),
        (Z(2026, 4, 4, 22, 30), Z(2026, 4, 5, 22, 30), ["b"]),
    ]
    assert instant(datetime(2026, 4, 5, 1, 45), ZoneInfo("Australia/Lord_Howe")) == Z(2026, 4, 4, 14, 45)


def test_kathmandu_quarter_hour_offset() -> None:
    s = schedule("Asia/Kathmandu", layer("daily", ["a", "b"], "2026-01-01T09:00:00"))
    assert final(shifts(s, Z(2026, 1, 1, 3, 15), Z(2026, 1, 3, 3, 15))) == [
        (Z(2026, 1, 1, 3, 15), Z(2026, 1, 2, 3, 15), ["a"]),
        (Z(2026, 1, 2, 3, 15), Z(2026, 1, 3, 3, 15), ["b"]),
    ]
    answer = oncall(s, Z(2026, 1, 2, 3, 14, 59))
    assert (answer.people, answer.valid_until) == (["a"], Z(2026, 1, 2, 3, 15))


def test_monthly_rotation_clamps_the_day_from_the_anchor() -> None:
    s = schedule("UTC", layer("monthly", ["a", "b", "c"], "2026-01-31T09:00:00", "month"))
    assert final(shifts(s, Z(2026, 1, 31, 9), Z(2026, 4, 30, 10))) == [
        (Z(2026, 1, 31, 9), Z(2026, 2, 28, 9), ["a"]),
        (Z(2026, 2, 28, 9), Z(2026, 3, 31, 9), ["b"]),  # back to the 31st, not the 28th
        (Z(2026, 3, 31, 9), Z(2026, 4, 30, 9), ["c"]),
        (Z(2026, 4, 30, 9), Z(2026, 4, 30, 10), ["a"]),
    ]
    before = oncall(s, Z(2026, 1, 31, 8, 59))  # k = −1: from 2025-12-31 09:00
    assert (before.people, before.valid_until) == (["c"], Z(2026, 1, 31, 9))
    leap = oncall(s, Z(2028, 2, 29, 8, 59))  # k = 24 from 2028-01-31; k = 25 on the 29th
    assert (leap.people, leap.valid_until) == (["a"], Z(2028, 2, 29, 9))
    assert oncall(s, Z(2028, 2, 29, 9)).people == ["b"]


# --- Restrictions -----------------------------------------------------------------------


def test_restriction_across_midnight() -> None:
    night = {"weekdays": ["fri"], "start": "22:00", "end": "06:00"}
    s = schedule("UTC", layer("night", ["n"], "2026-01-05T00:00:00", "week", restrictions=[night]))
    # 2026-01-09 is a Friday.
    expected = {
        Z(2026, 1, 8, 23): ([], Z(2026, 1, 9, 22)),  # Thursday night: not listed
        Z(2026, 1, 9, 21, 59): ([], Z(2026, 1, 9, 22)),
        Z(2026, 1, 9, 22): (["n"], Z(2026, 1, 10, 6)),
        Z(2026, 1, 10, 5, 59): (["n"], Z(2026, 1, 10, 6)),
        Z(2026, 1, 10, 6): ([], Z(2026, 1, 16, 22)),
        Z(2026, 1, 10, 23): ([], Z(2026, 1, 16, 22)),  # Saturday night: not listed
    }
    for at, (people, valid_until) in expected.items():
        answer = oncall(s, at)
        assert (answer.people, answer.valid_until) == (people, valid_until), at
    coverage = shifts(s, Z(2026, 1, 5), Z(2026, 1, 12))
    assert final(coverage) == [(Z(2026, 1, 9, 22), Z(2026, 1, 10, 6), ["n"])]
    assert [(g.start, g.end, g.people, g.layer) for g in coverage.gaps] == [
        (Z(2026, 1, 5), Z(2026, 1, 9, 22), [], None),
        (Z(2026, 1, 10, 6), Z(2026, 1, 12), [], None),
    ]
    assert coverage.coverage_pct == 4.76  # 8 h of 168
    assert gaps_within(s, Z(2026, 1, 5), Z(2026, 1, 12)) == coverage.gaps


def test_weekday_business_hours_with_a_daily_rotation() -> None:
    hours_ = {"weekdays": ["mon", "tue", "wed", "thu", "fri"], "start": "09:00", "end": "17:00"}
    s = schedule("America/Chicago", layer("office", ["a", "b"], "2026-03-02T09:00:00", restrictions=[hours_]))
    coverage = shifts(s, Z(2026, 3, 2, 6), Z(2026, 3, 10, 6))
    # 09:00–17:00 CST is 15:00–23:00 UTC; from Monday 2026-03-09 (CDT) 14:00–22:00 UTC.
    assert final(coverage) == [
        (Z(2026, 3, 2, 15), Z(2026, 3, 2, 23), ["a"]),
        (Z(2026, 3, 3, 15), Z(2026, 3, 3, 23), ["b"]),
        (Z(2026, 3, 4, 15), Z(2026, 3, 4, 23), ["a"]),
        (Z(2026, 3, 5, 15), Z(2026, 3, 5, 23), ["b"]),
        (Z(2026, 3, 6, 15), Z(2026, 3, 6, 23), ["a"]),
        (Z(2026, 3, 9, 14), Z(2026, 3, 9, 22), ["b"]),  # the weekend's hand-offs happen unseen
    ]
    assert coverage.coverage_pct == round(100 * 48 / 192, 2)
    assert len(coverage.gaps) == 7
    assert oncall(s, Z(2026, 3, 7, 18)).people == []  # Saturday noon


def test_follow_the_sun_covers_every_hour() -> None:
    def shift(name: str, people: list[str], start: str, end: str) -> dict:
        window = {"weekdays": EVERY_DAY, "start": start, "end": end}
        return layer(name, people, "2026-01-05T00:00:00", "week", restrictions=[window])

    s = schedule(
        "UTC",
        shift("apac", ["a1", "a2"], "00:00", "08:00"),
        shift("emea", ["e1", "e2"], "08:00", "16:00"),
        shift("amer", ["u1", "u2"], "16:00", "00:00"),
    )
    coverage = shifts(s, Z(2026, 1, 5), Z(2026, 1, 19))
    assert coverage.coverage_pct == 100.0
    assert coverage.gaps == []
    assert len(coverage.final) == 42
    assert final(coverage)[:4] == [
        (Z(2026, 1, 5, 0), Z(2026, 1, 5, 8), ["a1"]),
        (Z(2026, 1, 5, 8), Z(2026, 1, 5, 16), ["e1"]),
        (Z(2026, 1, 5, 16), Z(2026, 1, 6, 0), ["u1"]),
        (Z(2026, 1, 6, 0), Z(2026, 1, 6, 8), ["a1"]),
    ]
    assert final(coverage)[-1] == (Z(2026, 1, 18, 16), Z(2026, 1, 19), ["u2"])
    assert [s.layer for s in coverage.final[:3]] == ["apac", "emea", "amer"]
    assert len(coverage.layers["emea"]) == 14


# --- Priority ---------------------------------------------------------------------------


def test_weekend_layer_of_higher_priority_wins() -> None:
    weekend = {"weekdays": ["sat", "sun"], "start": "00:00", "end": "00:00"}  # 24 h from 00:00
    s = schedule(
        "UTC",
        layer("weekend", ["w"], "2026-01-03T00:00:00", "week", priority=1, restrictions=[weekend]),
        layer("base", ["a", "b"], "2026-01-05T00:00:00", "week"),
    )
    friday, saturday, monday = (
        oncall(s, Z(2026, 1, 9, 12)),
        oncall(s, Z(2026, 1, 10, 12)),
        oncall(s, Z(2026, 1, 12)),
    )
    assert (friday.people, friday.layer, friday.valid_until) == (["a"], "base", Z(2026, 1, 10))
    assert (saturday.people, saturday.layer, saturday.valid_until) == (["w"], "weekend", Z(2026, 1, 12))
    assert (monday.people, monday.layer) == (["b"], "base")
    coverage = shifts(s, Z(2026, 1, 5), Z(2026, 1, 19))
    assert final(coverage) == [
        (Z(2026, 1, 5), Z(2026, 1, 10), ["a"]),
        (Z(2026, 1, 10), Z(2026, 1, 12), ["w"]),
        (Z(2026, 1, 12), Z(2026, 1, 17), ["b"]),
        (Z(2026, 1, 17), Z(2026, 1, 19), ["w"]),
    ]
    # Each layer's own shifts ignore priority: the base rotation goes on under the weekend.
    assert [(x.start, x.end, x.people) for x in coverage.layers["base"]] == [
        (Z(2026, 1, 5), Z(2026, 1, 12), ["a"]),
        (Z(2026, 1, 12), Z(2026, 1, 19), ["b"]),
    ]
    assert [(x.start, x.end) for x in coverage.layers["weekend"]] == [
        (Z(2026, 1, 10), Z(2026, 1, 12)),
        (Z(2026, 1, 17), Z(2026, 1, 19)),
    ]


def test_equal_priority_the_later_listed_layer_wins() -> None:
    first, second = (
        layer("first", ["x"], "2026-01-05T00:00:00"),
        layer("second", ["y"], "2026-01-05T00:00:00"),
    )
    assert oncall(schedule("UTC", first, second), Z(2026, 1, 6)).people == ["y"]
    assert oncall(schedule("UTC", second, first), Z(2026, 1, 6)).people == ["x"]
    lower = layer("lower", ["z"], "2026-01-05T00:00:00", priority=-1)
    assert oncall(schedule("UTC", first, lower), Z(2026, 1, 6)).layer == "first"


def test_layer_bounds_and_no_layer_active() -> None:
    bounded = layer(
        "bounded",
        ["a"],
        "2026-01-05T00:00:00",
        "week",
        start="2026-01-07T00:00:00Z",
        end="2026-01-09T12:00:00Z",
    )
    s = schedule("UTC", bounded)
    before, during, after = oncall(s, Z(2026, 1, 6)), oncall(s, Z(2026, 1, 8)), oncall(s, Z(2026, 1, 10))
    assert (before.people, before.layer, before.valid_until) == ([], None, Z(2026, 1, 7))
    assert (during.people, during.layer, during.valid_until) == (["a"], "bounded", Z(2026, 1, 9, 12))
    assert (after.people, after.layer, after.valid_until) == ([], None, None)
    far = schedule("UTC", layer("later", ["a"], "2026-01-05T00:00:00", start="2028-01-01T00:00:00Z"))
    assert next_change(far, Z(2026, 1, 6)) is None  # beyond the 400-day horizon
    assert next_change(far, Z(2027, 6, 1)) == Z(2028, 1, 1)


# --- Overrides --------------------------------------------------------------------------


def override(
    id_: str, start: datetime, end: datetime, add: str | None = None, remove: str | None = None
) -> dict:
    return {"id": id_, "start": start.isoformat(), "end": end.isoformat(), "add": add, "remove": remove}


BASE = layer("base", ["alice"], "2026-01-05T00:00:00", "week")


@pytest.mark.parametrize(
    ("spec", "people", "layer_", "applied"),
    [
        ({"add": "bob"}, ["alice", "bob"], "base", ["o"]),
        ({"add": "alice"}, ["alice"], "base", []),  # already on call: no change
        ({"remove": "alice"}, [], None, ["o"]),
        ({"remove": "dave"}, ["alice"], "base", []),  # not on call
        ({"add": "carol", "remove": "alice"}, ["carol"], "base", ["o"]),
        ({"add": "carol", "remove": "dave"}, ["alice"], "base", []),  # dave is not on call
    ],
)
def test_override_kinds(spec: dict, people: list[str], layer_: str | None, applied: list[str]) -> None:
    s = schedule("UTC", BASE, overrides=[override("o", Z(2026, 1, 6, 9), Z(2026, 1, 6, 17), **spec)])
    before, during, after = (oncall(s, at) for at in (Z(2026, 1, 6, 8), Z(2026, 1, 6, 12), Z(2026, 1, 6, 17)))
    assert (before.people, before.overrides, before.valid_until) == (["alice"], [], Z(2026, 1, 6, 9))
    assert (during.people, during.layer, during.overrides) == (people, layer_, applied)
    assert during.valid_until == Z(2026, 1, 6, 17)
    assert (after.people, after.overrides, after.valid_until) == (["alice"], [], Z(2026, 1, 12))


def test_overrides_together_removals_first_then_additions() -> None:
    s = schedule(
        "UTC",
        layer("base", ["alice", "bob"], "2026-01-05T00:00:00", "week"),
        overrides=[
            override("add-carol", Z(2026, 1, 6), Z(2026, 1, 14), add="carol"),
            override("bob-for-alice", Z(2026, 1, 7), Z(2026, 1, 13), add="dave", remove="alice"),
            override(
                "drop-carol", Z(2026, 1, 8), Z(2026, 1, 9), remove="carol"
            ),  # carol is added, not on call
        ],
    )
    answer = oncall(s, Z(2026, 1, 8, 12))
    assert (answer.people, answer.overrides) == (["carol", "dave"], ["add-carol", "bob-for-alice"])
    assert answer.valid_until == Z(2026, 1, 9)
    # Week two: bob is on call, so the replacement of alice no longer applies.
    week_two = oncall(s, Z(2026, 1, 12, 12))
    assert (week_two.people, week_two.overrides, week_two.valid_until) == (
        ["bob", "carol"],
        ["add-carol"],
        Z(2026, 1, 13),
    )
    coverage = shifts(s, Z(2026, 1, 5), Z(2026, 1, 15))
    assert final(coverage) == [
        (Z(2026, 1, 5), Z(2026, 1, 6), ["alice"]),
        (Z(2026, 1, 6), Z(2026, 1, 7), ["alice", "carol"]),
        (Z(2026, 1, 7), Z(2026, 1, 12), ["carol", "dave"]),
        (Z(2026, 1, 12), Z(2026, 1, 14), ["bob", "carol"]),
        (Z(2026, 1, 14), Z(2026, 1, 15), ["bob"]),
    ]


def test_an_addition_covers_a_gap() -> None:
    hours_ = {"weekdays": ["mon"], "start": "09:00", "end": "17:00"}
    s = schedule(
        "UTC",
        layer("office", ["a"], "2026-01-05T00:00:00", "week", restrictions=[hours_]),
        overrides=[override("cover", Z(2026, 1, 5, 17), Z(2026, 1, 5, 19), add="b")],
    )
    answer = oncall(s, Z(2026, 1, 5, 18))
    assert (answer.people, answer.layer, answer.overrides, answer.valid_until) == (
        ["b"],
        None,
        ["cover"],
        Z(2026, 1, 5, 19),
    )
    coverage = shifts(s, Z(2026, 1, 5, 9), Z(2026, 1, 5, 21))
    assert [(x.start, x.end, x.people, x.layer) for x in coverage.final] == [
        (Z(2026, 1, 5, 9), Z(2026, 1, 5, 17), ["a"], "office"),
        (Z(2026, 1, 5, 17), Z(2026, 1, 5, 19), ["b"], None),
    ]
    assert coverage.coverage_pct == round(100 * 10 / 12, 2)


# --- The answer's bookkeeping and refusals -----------------------------------------------


def test_answer_names_schedule_and_revision() -> None:
    s = schedule("UTC", BASE).model_copy(update={"revision": 7})
    answer = oncall(s, datetime(2026, 1, 6, 12, tzinfo=ZoneInfo("Asia/Kathmandu")))
    assert (answer.schedule, answer.revision, answer.people) == ("sched", 7, ["alice"])
    assert answer.valid_until == Z(2026, 1, 12)


def test_refusals() -> None:
    s = schedule("UTC", BASE)
    with pytest.raises(ValueError, match="timezone-aware"):
        oncall(s, datetime(2026, 1, 6))
    with pytest.raises(ValueError, match="timezone-aware"):
        shifts(s, datetime(2026, 1, 6), Z(2026, 1, 7))
    with pytest.raises(ValueError, match="before"):
        shifts(s, Z(2026, 1, 7), Z(2026, 1, 7))
    with pytest.raises(ValueError, match="before"):
        shifts(s, Z(2026, 1, 8), Z(2026, 1, 7))
    with pytest.raises(ValueError, match="92 days"):
        shifts(s, Z(2026, 1, 1), Z(2026, 1, 1) + timedelta(days=92, seconds=1))
    assert shifts(s, Z(2026, 1, 1), Z(2026, 1, 1) + timedelta(days=92)).coverage_pct == 100.0
