"""On-call schedules in the store, on SQLite and on a real PostgreSQL: revisions kept and
answered by instant, overrides soft-deleted, the seed file imported once, and two identical
overrides sent at the same instant stored once."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from runbooks.schedule_seed import load_schedules
from schedules.models import MAX_FUTURE_OVERRIDES, OnCall, OverrideSpec, ScheduleSpec
from schedules.oncall import oncall
from services.settings import RUNBOOKS_DIR
from store import schedules
from store.db import engine_for

SEED = RUNBOOKS_DIR / "schedules.yaml"


def resolve_at(engine: Engine, seed: Path, schedule_id: str, at: datetime) -> OnCall | None:
    """Who is on call at ``at``, as paging reads it: the stored revision and overrides of
    that instant once the database has schedules, else the seed file's."""
    schedule = schedules.schedule_for(engine, load_schedules(seed), schedule_id, at)
    return None if schedule is None else oncall(schedule, at)


def spec(*participants: str, name: str = "Platform", zone: str = "UTC") -> ScheduleSpec:
    rotation = {
        "participants": list(participants),
        "anchor": "2026-01-05T09:00:00",
        "shift": {"unit": "week"},
    }
    return ScheduleSpec.model_validate(
        {"name": name, "time_zone": zone, "layers": [{"name": "weekly", "rotation": rotation}]}
    )


def window(hours: int = 2, offset: int = 1) -> tuple[datetime, datetime]:
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=offset)
    return start, start + timedelta(hours=hours)


def together(count: int, work: Callable[[int], Any]) -> list[Any]:
    """``work(i)`` in ``count`` threads released at once: each one's result or exception."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def run(index: int) -> None:
        barrier.wait()
        try:
            results[index] = work(index)
        except Exception as exc:  # noqa: BLE001 - the test looks at each outcome
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def test_a_schedule_is_created_read_listed_and_revised(engine: Engine) -> None:
    assert not schedules.has_schedules(engine)
    created = schedules.create(engine, "platform", spec("erin", "frank"), "ops")
    assert (created.id, created.revision, created.name) == ("platform", 1, "Platform")
    with pytest.raises(schedules.ScheduleExists):
        schedules.create(engine, "platform", spec("alice"), "ops")
    updated = schedules.update(engine, "platform", spec("alice", name="Platform team"), "lead")
    assert (updated.revision, updated.name, updated.layers[0].rotation.participants) == (
        2,
        "Platform team",
        ["alice"],
    )
    current = schedules.get(engine, "platform")
    assert current is not None and current.revision == 2 and current.layers == updated.layers
    history = schedules.revisions(engine, "platform")
    assert [(r.revision, r.created_by, r.spec.name) for r in history] == [
        (1, "ops", "Platform"),
        (2, "lead", "Platform team"),
    ]
    schedules.create(engine, "apps", spec("bob"), "ops")
    assert [s.id for s in schedules.list_schedules(engine)] == ["apps", "platform"]
    assert schedules.has_schedules(engine)
    with pytest.raises(schedules.NoSuchSchedule):
        schedules.update(engine, "nowhere", spec("bob"), "ops")
    assert schedules.get(engine, "nowhere") is None


def test_who_was_on_call_at_t_is_answered_with_the_revision_of_t(engine: Engine) -> None:
    schedules.create(engine, "platform", spec("alice"), "ops")
    time.sleep(0.01)
    before_edit = datetime.now(UTC)
    time.sleep(0.01)
    schedules.update(engine, "platform", spec("bob"), "ops")
    then = schedules.get(engine, "platform", before_edit)
    assert then is not None and then.revision == 1
    assert oncall(then, before_edit).people == ["alice"]
    now = datetime.now(UTC)
    assert oncall(schedules.get(engine, "platform", now), now).people == ["bob"]  # type: ignore[arg-type]
    answer = resolve_at(engine, SEED, "platform", before_edit)
    assert answer is not None and (answer.people, answer.revision) == (["alice"], 1)

    next_week = now + timedelta(days=7)
    planned = schedules.update(engine, "platform", spec("carol"), "ops", effective_from=next_week)
    assert planned.revision == 3
    assert schedules.get(engine, "platform").revision == 2  # type: ignore[union-attr]
    assert schedules.get(engine, "platform", next_week).revision == 3  # type: ignore[union-attr]
    with pytest.raises(schedules.PastRevision):
        schedules.update(engine, "platform", spec("dave"), "ops", effective_from=now - timedelta(hours=1))
    assert [r.revision for r in schedules.revisions(engine, "platform")] == [1, 2, 3]


def test_a_deleted_schedule_is_gone_now_but_its_past_stays_answerable(engine: Engine) -> None:
    schedules.create(engine, "platform", spec("alice"), "ops")
    start, end = window()
    override = schedules.add_override(
        engine, "platform", OverrideSpec(start=start, end=end, add="bob"), "ops"
    )
    before = datetime.now(UTC)
    time.sleep(0.01)
    assert schedules.delete(engine, "platform")
    assert not schedules.delete(engine, "platform")
    assert schedules.get(engine, "platform") is None
    assert schedules.list_schedules(engine) == []
    then = schedules.get(engine, "platform", before)
    assert then is not None and [o.id for o in then.overrides] == [override.id]
    again = schedules.create(engine, "platform", spec("carol"), "ops")  # the id may be used again
    assert again.revision == 2 and again.overrides == []
    assert schedules.has_schedules(engine)


def test_overrides_are_stored_in_force_until_removed_and_capped(engine: Engine) -> None:
    schedules.create(engine, "platform", spec("alice"), "ops")
    start, end = window()
    replace = OverrideSpec(start=start, end=end, add="bob", remove="alice", reason="swap")
    stored = schedules.add_override(engine, "platform", replace, "ops")
    assert stored.id.startswith("o-") and stored.reason == "swap"
    current = schedules.get(engine, "platform")
    assert current is not None and current.overrides == [stored]
    assert oncall(current, start + timedelta(minutes=5)).people == ["bob"]
    with pytest.raises(schedules.DuplicateOverride):
        schedules.add_override(engine, "platform", replace, "ops")
    before_removal = datetime.now(UTC)
    time.sleep(0.01)
    assert schedules.delete_override(engine, "platform", stored.id)
    assert not schedules.delete_override(engine, "platform", stored.id)
    assert schedules.get(engine, "platform").overrides == []  # type: ignore[union-attr]
    assert schedules.get(engine, "platform", before_removal).overrides == [stored]  # type: ignore[union-attr]
    again = schedules.add_override(engine, "platform", replace, "ops")  # removed ones do not block
    assert again.id != stored.id
    with pytest.raises(schedules.NoSuchSchedule):
        schedules.add_override(engine, "nowhere", replace, "ops")

    for hour in range(MAX_FUTURE_OVERRIDES - 1):
        first, last = window(1, offset=3 + hour)
        schedules.add_override(engine, "platform", OverrideSpec(start=first, end=last, add="carol"), "ops")
    first, last = window(1, offset=500)
    with pytest.raises(schedules.TooManyOverrides):
        schedules.add_override(engine, "platform", OverrideSpec(start=first, end=last, add="dave"), "ops")


def test_two_identical_overrides_at_the_same_instant_are_stored_once(engine: Engine) -> None:
    schedules.create(engine, "platform", spec("alice"), "ops")
    start, end = window()
    same = OverrideSpec(start=start, end=end, add="bob")
    outcomes = together(8, lambda _: schedules.add_override(engine, "platform", same, "ops"))
    won = [o for o in outcomes if not isinstance(o, Exception)]
    assert len(won) == 1, outcomes
    assert all(isinstance(o, schedules.DuplicateOverride) for o in outcomes if o not in won), outcomes
    assert [o.id for o in schedules.get(engine, "platform").overrides] == [won[0].id]  # type: ignore[union-attr]


def test_the_seed_answers_until_imported_then_imports_only_what_changed(engine: Engine) -> None:
    seed = load_schedules(SEED)
    now = datetime.now(UTC)
    assert schedules.schedule_for(engine, seed, "platform", now) == next(
        s for s in seed if s.id == "platform"
    )
    assert schedules.schedule_for(engine, seed, "nowhere", now) is None
    assert schedules.import_schedules(engine, seed) == len(seed)
    assert schedules.import_schedules(engine, seed) == 0  # the same bodies: no new revision
    stored = schedules.schedule_for(engine, [], "platform", now)
    assert stored is not None and stored.layers == next(s for s in seed if s.id == "platform").layers
    changed = [s.model_copy(update={"name": "Renamed"}) if s.id == "payments" else s for s in seed]
    assert schedules.import_schedules(engine, changed) == 1
    assert [r.revision for r in schedules.revisions(engine, "payments")] == [1, 2]
    assert [r.revision for r in schedules.revisions(engine, "platform")] == [1]
    assert {s.id for s in schedules.list_schedules(engine)} == {s.id for s in seed}


def test_schedule_ids_the_seed_does_not_have_answer_none_from_the_database(engine: Engine) -> None:
    schedules.create(engine, "own", spec("alice"), "ops")
    seed = load_schedules(SEED)
    assert schedules.schedule_for(engine, seed, "platform", datetime.now(UTC)) is None  # not imported
    assert resolve_at(engine, SEED, "own", datetime.now(UTC)).people == ["alice"]  # type: ignore[union-attr]
    assert resolve_at(engine, SEED, "platform", datetime.now(UTC)) is None


def test_escalate_import_loads_the_schedules_file_and_refuses_a_broken_one(database_url, tmp_path) -> None:
    from test_cli_database import escalate

    env = {"DATA_DIR": str(tmp_path), "DATABASE_URL": database_url}
    own = tmp_path / "schedules.yaml"
    own.write_text(
        "schedules:\n  - id: night\n    name: Nights\n    time_zone: Asia/Tokyo\n    layers:\n"
        "      - name: nightly\n        rotation: {participants: [frank], anchor: 2026-01-05T21:00:00, "
        "shift: {unit: day}}\n"
    )
    first = escalate("import", "--schedules", str(own), **env)
    assert first.returncode == 0, first.stderr
    assert "imported 1 schedules (1 new or changed)" in first.stdout
    again = escalate("import", "--schedules", str(own), **env)
    assert "imported 1 schedules (0 new or changed)" in again.stdout
    engine = engine_for(database_url, tmp_path)
    try:
        assert [s.id for s in schedules.list_schedules(engine)] == ["night"]
        defaults = escalate("import", **env)  # the directory and SCHEDULES_FILE
        assert defaults.returncode == 0, defaults.stderr
        seeded = {s.id for s in load_schedules(SEED)}
        assert {s.id for s in schedules.list_schedules(engine)} == seeded | {"night"}
        broken = tmp_path / "broken.yaml"
        broken.write_text("schedules:\n  - id: Bad Id\n    name: X\n    time_zone: UTC\n    layers: []\n")
        refused = escalate("import", "--schedules", str(broken), **env)
        assert refused.returncode == 1 and "Bad Id" in refused.stderr and "Traceback" not in refused.stderr
        assert len(schedules.list_schedules(engine)) == len(seeded) + 1
    finally:
        engine.dispose()


def test_escalate_dev_loads_the_seed_schedules_into_a_database_without_any(
    database_url, tmp_path, monkeypatch
) -> None:
    import argparse

    from cli.main import _migrate
    from services.settings import get_settings

    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", database_url)
    get_settings.cache_clear()
    engine = engine_for(database_url, tmp_path)
    try:
        assert _migrate(argparse.Namespace(), seed=True) == 0
        seeded = schedules.list_schedules(engine)
        assert {s.id for s in seeded} == {s.id for s in load_schedules(SEED)}
        schedules.delete(engine, seeded[0].id)
        assert _migrate(argparse.Namespace(), seed=True) == 0  # it has schedules: nothing loaded again
        assert len(schedules.list_schedules(engine)) == len(seeded) - 1
    finally:
        engine.dispose()
        get_settings.cache_clear()


def test_an_edit_made_for_the_future_ends_the_answers_of_the_revision_before_it(engine):
    from datetime import UTC, datetime, timedelta

    from schedules.oncall import oncall

    now = datetime.now(UTC)
    spec = ScheduleSpec.model_validate(
        {
            "name": "Daily",
            "time_zone": "UTC",
            "layers": [
                {
                    "name": "daily",
                    "rotation": {
                        "participants": ["alice"],
                        "anchor": "2026-01-05T09:00:00",
                        "shift": {"unit": "week"},
                    },
                }
            ],
        }
    )
    schedules.create(engine, "future", spec, "test")
    later = spec.model_copy(
        update={
            "layers": [
                spec.layers[0].model_copy(
                    update={"rotation": spec.layers[0].rotation.model_copy(update={"participants": ["bob"]})}
                )
            ]
        }
    )
    schedules.update(engine, "future", later, "test", effective_from=now + timedelta(hours=1))
    current = schedules.get(engine, "future", now)
    assert current is not None and current.revision == 1
    answer = oncall(current, now)
    assert answer.people == ["alice"] and answer.valid_until is not None
    assert abs(answer.valid_until - (now + timedelta(hours=1))) < timedelta(seconds=1)  # bob takes over then
    then = schedules.get(engine, "future", now + timedelta(hours=2))
    assert (
        then is not None
        and then.superseded_at is None
        and oncall(then, now + timedelta(hours=2)).people == ["bob"]
    )
