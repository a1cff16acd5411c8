"""Maintenance windows: the pure rules (scope, time, bounds) and the store, on SQLite and
on a real PostgreSQL: created (a past start becomes now), read, listed, ended early (soft),
and asked which are in force for an incident at an instant."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError
from sqlalchemy.engine import Engine

from store import maintenance
from workflows.maintenance import MaintenanceWindow, MaintenanceWindowSpec, covers, describe, in_force

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)


def spec(
    hours: float = 2, offset: float = 0, start: datetime | None = None, **fields
) -> MaintenanceWindowSpec:
    begin = (start or datetime.now(UTC).replace(microsecond=0)) + timedelta(hours=offset)
    body = {
        "services": ["checkout"],
        "start": begin,
        "end": begin + timedelta(hours=hours),
        "reason": "upgrade",
    }
    return MaintenanceWindowSpec.model_validate(body | fields)


def window(window_id: str = "mw-1", **fields) -> MaintenanceWindow:
    made = spec(start=NOW, **fields)
    return MaintenanceWindow(**made.model_dump(), id=window_id, created_by="ops", created_at=NOW)


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"services": []}, "at least one service or one label"),
        ({"hours": -1}, "end must be after its start"),
        ({"hours": 0}, "end must be after its start"),
        ({"hours": 7 * 24 + 1}, "at most 7 days"),
        ({"services": [f"s{i}" for i in range(51)]}, "at most 50"),
        ({"labels": {f"k{i}": "v" for i in range(21)}}, "at most 20"),
        ({"labels": {"env": "a\x00b"}}, "control character"),
        ({"reason": "x" * 501}, "at most 500"),
        ({"services": ["Not A Slug"]}, "pattern"),
    ],
)
def test_the_spec_refuses_each_bound(fields: dict, reason: str) -> None:
    with pytest.raises(ValidationError, match=reason):
        spec(start=NOW, **fields)


def test_the_spec_refuses_naive_times_and_insane_years() -> None:
    with pytest.raises(ValidationError, match="timezone"):
        MaintenanceWindowSpec(services=["a"], start=datetime(2026, 1, 1), end=datetime(2026, 1, 2), reason="")
    far = datetime(2201, 1, 1, tzinfo=UTC)
    with pytest.raises(ValidationError, match="between 1970 and 2200"):
        MaintenanceWindowSpec(services=["a"], start=far, end=far + timedelta(hours=1), reason="")
    assert spec(hours=7 * 24, start=NOW).end == NOW + timedelta(days=7)


def test_covers_needs_the_scope_and_the_time() -> None:
    by_service = window()
    assert covers(by_service, "checkout", {}, NOW)
    assert covers(by_service, "checkout", {"any": "thing"}, NOW + timedelta(minutes=119))
    assert not covers(by_service, "checkout", {}, NOW + timedelta(hours=2))  # end excluded
    assert not covers(by_service, "checkout", {}, NOW - timedelta(seconds=1))
    assert not covers(by_service, "payments", {}, NOW)

    by_labels = window(services=[], labels={"env": "staging", "team": "web"})
    assert covers(by_labels, "anything", {"env": "staging", "team": "web", "x": "y"}, NOW)
    assert not covers(by_labels, "anything", {"env": "staging"}, NOW)
    assert not covers(by_labels, "anything", {"env": "prod", "team": "web"}, NOW)
    both = window(labels={"env": "staging"})
    assert covers(both, "checkout", {"env": "staging"}, NOW)
    assert not covers(both, "payments", {"env": "staging"}, NOW)
    assert not covers(both, "checkout", {}, NOW)

    ended = window().model_copy(update={"ended_at": NOW + timedelta(hours=1)})
    assert covers(ended, "checkout", {}, NOW + timedelta(minutes=59))
    assert not covers(ended, "checkout", {}, NOW + timedelta(minutes=61))
    assert describe(both) == "checkout; env=staging"


def test_in_force_lists_the_covering_windows_the_longest_first() -> None:
    short, long = window("mw-short", hours=1), window("mw-long", hours=3)
    other = window("mw-other", services=["payments"])
    assert [w.id for w in in_force([short, other, long], "checkout", {}, NOW)] == ["mw-long", "mw-short"]
    assert in_force([short, long], "checkout", {}, NOW + timedelta(hours=5)) == []


def test_a_window_is_created_read_listed_and_ended(engine: Engine) -> None:
    assert maintenance.list_windows(engine) == []
    created = maintenance.create(engine, spec(labels={"env": "prod"}), "ops")
    assert created.id.startswith("mw-") and created.created_by == "ops"
    assert created.services == ["checkout"] and created.labels == {"env": "prod"}
    read = maintenance.get(engine, created.id)
    assert read == created and read.start.tzinfo is not None
    assert maintenance.get(engine, "mw-nothing") is None
    later = maintenance.create(engine, spec(offset=24), "ops")
    assert [w.id for w in maintenance.list_windows(engine)] == [created.id, later.id]
    assert [w.id for w in maintenance.list_windows(engine, active_at=datetime.now(UTC))] == [created.id]

    assert maintenance.delete(engine, created.id)
    assert not maintenance.delete(engine, created.id)  # already ended
    assert not maintenance.delete(engine, "mw-nothing")
    ended = maintenance.get(engine, created.id)
    assert ended is not None and ended.ended_at is not None and ended.until == ended.ended_at
    assert [w.id for w in maintenance.list_windows(engine)] == [later.id]
    assert [w.id for w in maintenance.list_windows(engine, include_ended=True)] == [created.id, later.id]
    assert maintenance.list_windows(engine, active_at=datetime.now(UTC)) == []
    # What was in force before it was ended still answers as it stood then.
    assert [w.id for w in maintenance.list_windows(engine, active_at=created.start)] == [created.id]


def test_a_start_in_the_past_becomes_now_and_an_end_in_the_past_is_refused(engine: Engine) -> None:
    before = datetime.now(UTC)
    created = maintenance.create(engine, spec(hours=3, offset=-1), "ops")
    assert before <= created.start <= datetime.now(UTC)
    assert maintenance.get(engine, created.id).start == created.start  # type: ignore[union-attr]
    with pytest.raises(maintenance.WindowOver):
        maintenance.create(engine, spec(hours=1, offset=-2), "ops")
    assert [w.id for w in maintenance.list_windows(engine, include_ended=True)] == [created.id]


def test_covering_filters_by_time_in_sql_and_by_scope_in_python(engine: Engine) -> None:
    now = datetime.now(UTC)
    checkout = maintenance.create(engine, spec(hours=2), "ops")
    staging = maintenance.create(engine, spec(hours=4, services=[], labels={"env": "staging"}), "ops")
    coming = maintenance.create(engine, spec(hours=2, offset=5), "ops")
    at = now + timedelta(minutes=30)
    assert [w.id for w in maintenance.covering(engine, "checkout", {}, at)] == [checkout.id]
    found = maintenance.covering(engine, "checkout", {"env": "staging"}, at)
    assert [w.id for w in found] == [staging.id, checkout.id]  # the one that ends last first
    assert [w.id for w in maintenance.covering(engine, "payments", {"env": "staging"}, at)] == [staging.id]
    assert maintenance.covering(engine, "payments", {"env": "prod"}, at) == []
    assert [w.id for w in maintenance.covering(engine, "checkout", {}, now + timedelta(hours=6))] == [
        coming.id
    ]

    assert maintenance.delete(engine, coming.id)  # cancelled before it started: never in force
    assert maintenance.covering(engine, "checkout", {}, now + timedelta(hours=6)) == []
    assert maintenance.delete(engine, checkout.id)
    assert maintenance.covering(engine, "checkout", {}, datetime.now(UTC) + timedelta(seconds=1)) == []
    # Asked about an instant before it was ended, it was in force.
    assert [w.id for w in maintenance.covering(engine, "checkout", {}, checkout.start)] == [checkout.id]


def test_covering_adds_the_suppress_all_windows_to_come_in_scope(engine: Engine) -> None:
    now = datetime.now(UTC)
    held = maintenance.create(engine, spec(hours=2), "ops")
    later = maintenance.create(engine, spec(hours=1, offset=5, suppress_all=True), "ops")
    sooner = maintenance.create(engine, spec(hours=1, offset=3, suppress_all=True), "ops")
    maintenance.create(engine, spec(hours=1, offset=4), "ops")  # to come, not suppress_all: opens unheld
    maintenance.create(engine, spec(hours=1, offset=3, services=["payments"], suppress_all=True), "ops")
    at = now + timedelta(minutes=30)
    found = maintenance.covering(engine, "checkout", {}, at)
    assert [w.id for w in found] == [held.id, sooner.id, later.id]  # in force, then by start
    assert maintenance.delete(engine, later.id)  # cancelled: it will pause nothing
    assert [w.id for w in maintenance.covering(engine, "checkout", {}, at)] == [held.id, sooner.id]
