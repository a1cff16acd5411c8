"""The store on both backends: SQLite (the default) and a real throwaway PostgreSQL.

Each test gets a fresh migrated database (``database_url`` in ``tests/postgres.py``).
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import yaml
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, StatementError

from services.settings import RUNBOOKS_DIR
from store import incidents, notifications, people
from store.db import current_revision, database_url, engine_for, head_revision, migrate, safe_url
from store.models import IncidentEvent, IncidentSummary, PersonRecord, TeamRecord
from store.tables import feedback, metadata

DIRECTORY = RUNBOOKS_DIR / "directory.yaml"
PARIS = timezone(timedelta(hours=2))


def together(count: int, work: Callable[[int], Any]) -> list[Any]:
    """Run ``work(i)`` in ``count`` threads released at the same instant; their results."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            barrier.wait()
            results[index] = work(index)
        except BaseException as exc:  # noqa: BLE001 - re-raised below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    return results


def event(incident_id: str, seq: int, **fields: Any) -> IncidentEvent:
    at = datetime(2025, 3, 1, 12, 0, tzinfo=UTC) + timedelta(seconds=seq)
    return IncidentEvent(
        event_id=f"incident-{incident_id}:{seq}",
        incident_id=incident_id,
        seq=seq,
        kind=fields.pop("kind", "paged"),
        at=fields.pop("at", at),
        actor=fields.pop("actor", "escalation"),
        **fields,
    )


def summary(incident_id: str = "inc-1", **fields: Any) -> IncidentSummary:
    base: dict[str, Any] = {
        "id": incident_id,
        "service": "checkout",
        "severity": "SEV2",
        "runbook": "demo",
        "title": "Checkout is failing",
        "state": "triggered",
        "triggered_at": datetime(2025, 3, 1, 14, 0, tzinfo=PARIS),
    }
    return IncidentSummary(**(base | fields))


def test_urls_default_to_sqlite_map_postgresql_to_psycopg_and_never_show_the_password(tmp_path: Path) -> None:
    assert database_url(None, tmp_path).database == str(tmp_path / "escalate.db")
    mapped = database_url("postgresql://app:s3cret@db:5432/escalate", tmp_path)
    assert mapped.drivername == "postgresql+psycopg"
    assert mapped.password == "s3cret"
    assert "s3cret" not in safe_url(mapped)
    assert "s3cret" not in safe_url("postgresql://app:s3cret@db/escalate")


def test_migrations_run_from_empty_and_again(empty_database_url: str, tmp_path: Path) -> None:
    engine = engine_for(empty_database_url, tmp_path)
    try:
        assert current_revision(engine) is None
        migrate(engine)
        migrate(engine)
        assert current_revision(engine) == head_revision() == "0007"
        assert set(metadata.tables) <= set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_databases_migrated_at_once_in_one_process_all_reach_head(tmp_path: Path) -> None:
    # An API and its in-process worker both open their database on first use, from threads.
    engines = [engine_for(None, tmp_path / str(n)) for n in range(4)]
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(migrate, engines))
    assert [current_revision(engine) for engine in engines] == [head_revision()] * 4
    for engine in engines:
        engine.dispose()


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path: Path) -> None:
    engine = engine_for(None, tmp_path)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 1000
    engine.dispose()
    assert (tmp_path / "escalate.db").exists()


def test_people_and_teams_are_created_read_and_updated(engine: Engine) -> None:
    assert people.is_empty(engine)
    alice = people.create_person(engine, PersonRecord(id="alice", name="Alice", email="alice@example.com"))
    assert alice.timezone == "UTC" and alice.created_at is not None
    people.create_person(
        engine, PersonRecord(id="bob", name="Bob", email="bob@example.com", timezone="Asia/Tokyo")
    )
    with pytest.raises(people.AlreadyExists):
        people.create_person(engine, PersonRecord(id="bob", name="Bob again", email="b@example.com"))
    methods = [{"kind": "sms", "number": "+33600000000"}]
    changed = people.update_person(engine, "alice", email="a@example.org", contact_methods=methods)
    assert changed is not None and changed.email == "a@example.org" and changed.contact_methods == methods
    assert people.update_person(engine, "nobody", name="X") is None
    assert [p.id for p in people.list_people(engine)] == ["alice", "bob"]
    assert people.get_person(engine, "bob").timezone == "Asia/Tokyo"  # type: ignore[union-attr]

    people.create_team(engine, TeamRecord(id="ops", name="Ops", members=["bob", "alice"]))
    assert people.get_team(engine, "ops") == TeamRecord(id="ops", name="Ops", members=["bob", "alice"])
    updated = people.update_team(engine, "ops", name="Operations", members=["alice"])
    assert updated == TeamRecord(id="ops", name="Operations", members=["alice"])
    assert people.update_team(engine, "nope", name="X") is None
    with pytest.raises(IntegrityError):  # a member must be a person (foreign keys on SQLite too)
        people.create_team(engine, TeamRecord(id="ghosts", name="Ghosts", members=["casper"]))
    assert [t.id for t in people.list_teams(engine)] == ["ops"]
    assert not people.is_empty(engine)


def test_the_shipped_directory_imports_with_matching_counts_and_again(engine: Engine) -> None:
    raw = yaml.safe_load(DIRECTORY.read_text())
    counts = people.import_directory(engine, DIRECTORY)
    assert (counts.people, counts.teams) == (len(raw["people"]), len(raw["teams"]))
    assert counts.members == sum(len(team["members"]) for team in raw["teams"])
    again = people.import_directory(engine, DIRECTORY)
    assert again == counts
    assert len(people.list_people(engine)) == len(raw["people"])
    teams = {team.id: team.members for team in people.list_teams(engine)}
    assert teams == {team["id"]: team["members"] for team in raw["teams"]}
    alice = people.get_person(engine, "alice")
    assert alice is not None and alice.timezone == "Europe/Paris"


def test_append_events_twice_inserts_once_and_counts_exactly(engine: Engine) -> None:
    first = [event("inc-1", seq) for seq in range(5)]
    assert incidents.append_events(engine, first) == 5
    assert incidents.append_events(engine, first) == 0
    overlapping = [*first[3:], event("inc-1", 5), event("inc-1", 5)]  # a repeat within one call too
    assert incidents.append_events(engine, overlapping) == 1
    assert [e.seq for e in incidents.events_of(engine, "inc-1")] == list(range(6))
    assert incidents.append_events(engine, []) == 0


def test_concurrent_appends_of_the_same_events_insert_each_once(engine: Engine) -> None:
    events = [event("inc-2", seq, data={"n": seq}) for seq in range(60)]

    def append(index: int) -> int:
        mine = list(events)
        random.Random(index).shuffle(mine)
        return sum(incidents.append_events(engine, mine[start : start + 20]) for start in range(0, 60, 20))

    counts = together(8, append)
    assert sum(counts) == len(events)
    stored = incidents.events_of(engine, "inc-2")
    assert [e.event_id for e in stored] == [e.event_id for e in events]
    assert stored[7].data == {"n": 7}


def test_concurrent_claimers_get_the_allowance_and_no_more(engine: Engine) -> None:
    for round_ in range(3):
        notification_id = f"incident-inc-3:page:alice:{round_}"

        def claim(index: int, notification_id: str = notification_id) -> notifications.Claim:
            return notifications.claim(
                engine, notification_id, incident_id="inc-3", person_id="alice", kind="page"
            )

        granted = sorted(c.attempt for c in together(8, claim) if c.attempt is not None)
        assert granted == list(range(1, notifications.ALLOWED + 1))  # 1 and 2: one duplicate at most
        record = notifications.get(engine, notification_id)
        assert record is not None and record.status == "sending" and record.attempts == notifications.ALLOWED


def test_a_released_call_gives_its_allowance_back_a_sent_email_is_never_claimed_again(
    engine: Engine,
) -> None:
    ids = {"incident_id": "inc-4", "person_id": "bob", "kind": "page"}
    assert notifications.claim(engine, "n-1", **ids).attempt == 1
    assert notifications.mark_unknown(engine, "n-1", "no answer within 30 s")
    assert notifications.claim(engine, "n-1", **ids).attempt == 2
    assert notifications.claim(engine, "n-1", **ids) == notifications.Claim()  # used up
    assert notifications.release(engine, "n-1", "503 from the provider")
    failed = notifications.get(engine, "n-1")
    assert failed is not None and (failed.status, failed.attempts) == ("failed", 1)
    assert failed.error == "503 from the provider"
    assert notifications.claim(engine, "n-1", **ids).attempt == 2
    assert notifications.mark_sent(engine, "n-1", provider_message_id="sendgrid:sg-123")
    assert not notifications.release(engine, "n-1", "too late")
    assert notifications.claim(engine, "n-1", **ids) == notifications.Claim(sent="sendgrid:sg-123")
    sent = notifications.get(engine, "n-1")
    assert sent is not None and (sent.status, sent.attempts, sent.provider_message_id) == (
        "sent",
        2,
        "sendgrid:sg-123",
    )
    assert sent.error is None and sent.sent_at is not None
    assert not notifications.mark_sent(engine, "never-claimed")
    assert notifications.get(engine, "never-claimed") is None


def test_timestamps_come_back_timezone_aware_utc(engine: Engine) -> None:
    incidents.upsert_incident(engine, summary(acknowledged_at=datetime(2025, 3, 1, 12, 5, tzinfo=UTC)))
    stored = incidents.get_incident(engine, "inc-1")
    assert stored is not None
    assert stored.triggered_at == datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
    for value in (stored.triggered_at, stored.acknowledged_at, stored.updated_at):
        assert value is not None and value.utcoffset() == timedelta(0) and value.tzinfo is UTC
    incidents.append_events(engine, [event("inc-1", 1, at=datetime(2025, 3, 1, 15, 0, tzinfo=PARIS))])
    assert incidents.events_of(engine, "inc-1")[0].at == datetime(2025, 3, 1, 13, 0, tzinfo=UTC)
    with engine.begin() as conn, pytest.raises(StatementError, match="naive datetime"):
        row = {"incident_id": "x", "person_id": "y", "rating": 3, "created_at": datetime(2025, 1, 1)}
        conn.execute(sa.insert(feedback).values(row | {"updated_at": datetime.now(UTC)}))


def test_upsert_incident_inserts_then_overwrites_the_summary(engine: Engine) -> None:
    incidents.upsert_incident(engine, summary())
    resolved_at = datetime(2025, 3, 1, 13, 0, tzinfo=UTC)
    incidents.upsert_incident(
        engine,
        summary(
            state="resolved", resolved_at=resolved_at, resolved_by="alertmanager", max_tier=2, pages_sent=3
        ).model_copy(update={"auto_resolved": True}),
    )
    stored = incidents.get_incident(engine, "inc-1")
    assert stored is not None
    assert (stored.state, stored.resolved_by, stored.max_tier, stored.pages_sent, stored.auto_resolved) == (
        "resolved",
        "alertmanager",
        2,
        3,
        True,
    )
    assert stored.resolved_at == resolved_at
    assert incidents.get_incident(engine, "missing") is None


@pytest.mark.parametrize("rating", [0, 6, -1])
def test_the_database_refuses_a_rating_outside_one_to_five(engine: Engine, rating: int) -> None:
    now = datetime.now(UTC)
    row = {"incident_id": "inc-1", "person_id": "alice", "created_at": now, "updated_at": now}
    with engine.begin() as conn:
        conn.execute(sa.insert(feedback).values(row | {"rating": 5}))
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(sa.insert(feedback).values(row | {"person_id": "bob", "rating": rating}))
    with pytest.raises(IntegrityError), engine.begin() as conn:  # one answer per person and incident
        conn.execute(sa.insert(feedback).values(row | {"rating": 1}))


def test_the_engine_reconnects_after_postgresql_is_killed_and_restarted(
    postgres: Any, tmp_path: Path
) -> None:
    url = postgres.url(postgres.create_database("escalate_template"))
    engine = engine_for(url, tmp_path)
    try:
        assert incidents.append_events(engine, [event("inc-9", 1)]) == 1
        postgres.restart()  # SIGKILL of the postmaster and every backend, then a start
        assert incidents.append_events(engine, [event("inc-9", 1), event("inc-9", 2)]) == 1
        assert [e.seq for e in incidents.events_of(engine, "inc-9")] == [1, 2]
    finally:
        engine.dispose()
