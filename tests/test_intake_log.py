"""The intake log (``store/intake.py``) and its process side (``services/intake.py``), on
SQLite and on a real PostgreSQL.

It proves that:
- the store claims one batch per incident carrying the latest payload, hands the same batch
  ids back until they are delivered (a resend is counted once), makes new rows a new batch,
  deletes exactly the delivered batch and counts what is left;
- an owner only ever claims its own rows; ``adopt`` takes over only rows received before the
  cutoff, batch ids kept, and the adopter then claims them;
- concurrent claimers never put one row into two batches;
- ``RepeatLog.record`` group-commits 200 concurrent repeats in a handful of transactions,
  answers False when the log cannot be written, and loses nothing it answered True for;
- the forwarder counts every repeat exactly once, re-sends a failed batch under the same id,
  and leaves the log empty;
- ``known()`` keeps an open incident until its expiry and forgets a resolved one at once.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from psycopg.errors import DeadlockDetected
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from test_store import together

import services.intake
import store.intake
from postgres import free_port
from runbooks import REGISTRY
from services.database import Database
from services.intake import RepeatLog
from services.opening import prepare
from services.settings import Settings
from store.db import utcnow
from store.intake import adopt, append, backlog, claim, delivered
from workflows.models import IncidentRequest, IncidentView, State
from workflows.run_state import IncidentInput


def repeat(directory, key: str, title: str = "Checkout is failing") -> IncidentInput:
    request = IncidentRequest(
        title=title, severity="SEV4", service="checkout", runbook="default", dedup_key=key
    )
    return prepare(request, REGISTRY, directory)


def row(directory, key: str, title: str) -> tuple[str, dict[str, Any]]:
    data = repeat(directory, key, title)
    return data.incident.id, data.model_dump(mode="json")


def view(incident_id: str, state: State = State.TRIGGERED) -> IncidentView:
    fields = {"title": "Checkout is failing", "severity": "SEV4", "service": "checkout", "runbook": "default"}
    return IncidentView(id=f"{incident_id}-1", state=state, created_at=datetime.now(UTC), **fields)


def database(url: str, tmp_path: Path) -> Database:
    return Database(Settings(data_dir=tmp_path, database_url=url))


def test_one_batch_per_incident_resent_under_the_same_id_until_delivered(engine: Engine, directory) -> None:
    a1, a2, a3 = (row(directory, "a", f"A {n}") for n in (1, 2, 3))
    b1 = row(directory, "b", "B 1")
    append(engine, "api-1", [a1, b1, a2])
    append(engine, "api-1", [a3])
    first = {batch.incident_id: batch for batch in claim(engine, "api-1")}
    assert set(first) == {a1[0], b1[0]}
    assert len(first[a1[0]].ids) == 3 and len(first[b1[0]].ids) == 1
    assert first[a1[0]].payload == a3[1] and first[b1[0]].payload == b1[1]  # the latest details win
    assert first[a1[0]].id != first[b1[0]].id

    again = claim(engine, "api-1")  # not delivered yet: the same batches, the same ids
    assert {(b.id, tuple(b.ids)) for b in again} == {(b.id, tuple(b.ids)) for b in first.values()}
    a4 = row(directory, "a", "A 4")
    append(engine, "api-1", [a4])
    third = claim(engine, "api-1")
    fresh = [b for b in third if b.id not in {b.id for b in first.values()}]
    assert len(third) == 3 and len(fresh) == 1
    assert fresh[0].incident_id == a1[0] and len(fresh[0].ids) == 1 and fresh[0].payload == a4[1]
    assert backlog(engine) == 5
    assert delivered(engine, first[a1[0]].id) == 3
    assert backlog(engine) == 2
    left = claim(engine, "api-1")
    assert {b.id for b in left} == {first[b1[0]].id, fresh[0].id}
    assert delivered(engine, first[a1[0]].id) == 0  # delivering twice deletes nothing more
    assert delivered(engine, first[b1[0]].id) == 1 and delivered(engine, fresh[0].id) == 1
    assert backlog(engine) == 0 and claim(engine, "api-1") == []


def test_owners_claim_only_their_rows_and_adopt_takes_the_old_ones_with_their_ids(
    engine: Engine, directory
) -> None:
    x, y, z = (row(directory, key, f"{key} old") for key in "xyz")
    append(engine, "api-2", [z])
    append(engine, "api-1", [x, y])
    batches = {b.incident_id: b.id for b in claim(engine, "api-1")}
    assert set(batches) == {x[0], y[0]}  # none of api-2's rows
    theirs = claim(engine, "api-2")
    assert [b.incident_id for b in theirs] == [z[0]]  # none of api-1's rows
    append(engine, "api-1", [row(directory, "y", "y unbatched")])
    time.sleep(0.01)
    cutoff = utcnow()
    time.sleep(0.01)
    append(engine, "api-1", [row(directory, "x", "x new")])

    assert adopt(engine, "api-2", cutoff) == 3  # x, y (batched) and y unbatched; not x new
    adopted = claim(engine, "api-2")
    by_id = {b.id: b for b in adopted}
    assert batches[x[0]] in by_id and batches[y[0]] in by_id  # batch ids kept
    assert theirs[0].id in by_id  # its own batch still there, the same
    assert len(adopted) == 4 and all(len(b.ids) == 1 for b in adopted)
    unbatched = [b for b in adopted if b.id not in {*batches.values(), theirs[0].id}]
    assert unbatched[0].incident_id == y[0] and unbatched[0].payload["incident"]["title"] == "y unbatched"

    mine = claim(engine, "api-1")
    assert len(mine) == 1 and mine[0].incident_id == x[0] and mine[0].payload["incident"]["title"] == "x new"
    assert adopt(engine, "api-2", cutoff) == 0  # nothing else was received before the cutoff
    assert adopt(engine, "api-1", utcnow()) == 4  # and adopting works both ways
    assert {b.id for b in claim(engine, "api-1")} == {*by_id, mine[0].id}
    assert claim(engine, "api-2") == [] and backlog(engine) == 5


# DEADLOCK: on PostgreSQL two claims of one owner at once can deadlock (claim updates its
# incident groups in the order of its own snapshot, without locking rows in one order), and
# one of them fails after deadlock_timeout. One forwarder per process never claims twice at
# once, so the test retries like it and checks what matters: no row in two batches.
def test_concurrent_claimers_never_put_one_row_in_two_batches(engine: Engine, directory) -> None:
    if engine.dialect.name == "postgresql":  # a deadlock found in 20 ms rather than 1 s

        @sa.event.listens_for(engine, "connect")
        def _quick(connection: Any, _: Any) -> None:
            connection.execute("SET deadlock_timeout = '20ms'")
            connection.commit()

    rows, seen = [row(directory, key, key) for key in ("p", "q", "r")], defaultdict(set)
    incident_of: dict[str, set[str]] = defaultdict(set)

    def work(index: int) -> list[store.intake.Batch]:
        found = []
        for round_ in range(8):
            append(engine, "api-1", [rows[(index + round_) % 3], rows[round_ % 3]])
            while True:
                try:
                    found += claim(engine, "api-1")
                    break
                except OperationalError as exc:  # see DEADLOCK above: rolled back whole, retried
                    if not isinstance(exc.orig, DeadlockDetected):
                        raise
        return found

    for batches in together(8, work):
        for batch in batches:
            incident_of[batch.id].add(batch.incident_id)
            for row_id in batch.ids:
                seen[row_id].add(batch.id)
    for batch in claim(engine, "api-1"):
        for row_id in batch.ids:
            seen[row_id].add(batch.id)

    assert len(seen) == 8 * 8 * 2 == backlog(engine)  # every row claimed
    assert all(len(ids) == 1 for ids in seen.values()), {r: i for r, i in seen.items() if len(i) > 1}
    assert all(len(incidents) == 1 for incidents in incident_of.values())
    with engine.connect() as conn:
        stored = dict(conn.execute(sa.select(store.intake.intake.c.id, store.intake.intake.c.batch)).all())
    assert stored == {row_id: next(iter(ids)) for row_id, ids in seen.items()}


async def test_record_commits_every_repeat_in_few_transactions(
    database_url: str, tmp_path: Path, directory, monkeypatch: pytest.MonkeyPatch
) -> None:
    transactions: list[int] = []
    real_append = store.intake.append

    def counting(bind, owner, rows):
        real_append(bind, owner, rows)
        transactions.append(len(rows))

    monkeypatch.setattr(store.intake, "append", counting)
    db = database(database_url, tmp_path)
    log = RepeatLog(db, owner="api-1")
    data = [repeat(directory, f"k{i % 4}", f"repeat {i}") for i in range(200)]

    async def one(i: int) -> bool:
        await asyncio.sleep(i % 5 / 1000)  # arriving over a few milliseconds, not in one tick
        return await log.record(data[i])

    try:
        answers = await asyncio.gather(*(one(i) for i in range(200)))
        assert answers == [True] * 200
        assert sum(transactions) == 200 and len(transactions) <= 20, transactions
        batches = await db.run(claim, "api-1")
        assert sum(len(b.ids) for b in batches) == 200 == await db.run(backlog)
        assert {b.incident_id for b in batches} == {data[i].incident.id for i in range(4)}
    finally:
        db.dispose()


async def test_record_answers_false_when_the_log_cannot_be_written_and_keeps_what_it_took(
    database_url: str, tmp_path: Path, directory
) -> None:
    db = database(database_url, tmp_path)
    log = RepeatLog(db, owner="api-1")
    engine = db.engine()
    taken = [repeat(directory, "k", f"before {i}") for i in range(5)]
    refused = [repeat(directory, "k", f"during {i}") for i in range(3)]
    later = [repeat(directory, "k", f"after {i}") for i in range(2)]
    try:
        assert await asyncio.gather(*(log.record(d) for d in taken)) == [True] * 5
        with engine.begin() as conn:  # the log cannot be written (its table is away)
            conn.execute(sa.text("ALTER TABLE intake RENAME TO intake_away"))
        assert await asyncio.gather(*(log.record(d) for d in refused)) == [False] * 3
        with engine.begin() as conn:
            conn.execute(sa.text("ALTER TABLE intake_away RENAME TO intake"))
        assert await asyncio.gather(*(log.record(d) for d in later)) == [True] * 2
        batches = await db.run(claim, "api-1")
        assert sum(len(b.ids) for b in batches) == 7 == await db.run(backlog)
        with engine.connect() as conn:
            payloads = conn.execute(sa.select(store.intake.intake.c.payload)).scalars().all()
        titles = sorted(p["incident"]["title"] for p in payloads)
        assert titles == sorted(d.incident.title for d in taken + later)
    finally:
        db.dispose()


async def test_record_answers_false_when_the_database_server_is_down(tmp_path: Path, directory) -> None:
    db = database(f"postgresql://postgres@127.0.0.1:{free_port()}/escalate", tmp_path)
    try:
        assert await RepeatLog(db).record(repeat(directory, "k")) is False
    finally:
        db.dispose()


async def test_forwarder_counts_every_repeat_once_and_resends_a_failed_batch_under_its_id(
    database_url: str, tmp_path: Path, directory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(services.intake, "IDLE", 0.05)  # the pause after a failure
    db = database(database_url, tmp_path)
    log = RepeatLog(db, owner="api-1")
    a, b = repeat(directory, "a"), repeat(directory, "b")
    sent: list[tuple[str, int, str, bool]] = []

    async def forward(data: IncidentInput, count: int, batch: str) -> IncidentView:
        fails = data.incident.id == a.incident.id and not any(s[0] == a.incident.id for s in sent)
        sent.append((data.incident.id, count, batch, not fails))
        assert batch.startswith(f"intake-{data.incident.id}-")
        if fails:
            raise RuntimeError("Temporal cannot be reached")
        return view(data.incident.id)

    try:
        assert all(await asyncio.gather(*(log.record(d) for d in [a] * 10 + [b] * 5)))
        log.start(forward)
        assert all(await asyncio.gather(*(log.record(d) for d in [a] * 7 + [b] * 3)))
        deadline = time.monotonic() + 15
        while await db.run(backlog):
            assert time.monotonic() < deadline, sent
            await asyncio.sleep(0.02)
    finally:
        await log.close()
        db.dispose()

    failed = [s for s in sent if not s[3]]
    assert len(failed) == 1 and failed[0][0] == a.incident.id
    counted = [s for s in sent if s[3]]
    resent = [s for s in counted if s[2] == failed[0][2]]
    assert len(resent) == 1 and resent[0][1] == failed[0][1]  # the same batch, the same count
    assert len({s[2] for s in counted}) == len(counted)  # each batch counted once
    totals = sum((Counter({incident: count}) for incident, count, _, _ in counted), Counter())
    assert totals == {a.incident.id: 17, b.incident.id: 8}  # every repeat counted, none twice
    assert log.known(a.incident.id) is not None  # the answers refresh what is known open


def test_known_keeps_an_open_incident_until_expiry_and_forgets_a_resolved_one(tmp_path: Path) -> None:
    log = RepeatLog(Database(Settings(data_dir=tmp_path)), known_for=0.2)
    assert log.known("k") is None
    log.remember("k", view("k"), log.asked())
    known = log.known("k")
    assert known is not None and (known.id, known.state, known.runbook) == ("k-1", State.TRIGGERED, "default")
    log.remember("j", view("j", State.ACKNOWLEDGED), log.asked())
    time.sleep(0.25)
    assert log.known("k") is None and log.known("j") is None  # expired: Temporal is asked again
    log.remember("k", view("k"), log.asked())
    assert log.known("k") is not None
    log.remember("k", view("k", State.RESOLVED), log.asked())
    assert log.known("k") is None  # resolved: forgotten at once, no expiry to wait for
    asked = log.asked()  # a question put before a resolution through this process...
    log.forget("k")
    log.remember("k", view("k"), asked)  # ...is answered after it: the stale answer is not kept
    assert log.known("k") is None
    log.remember("k", view("k"), log.asked())
    assert log.known("k") is not None
