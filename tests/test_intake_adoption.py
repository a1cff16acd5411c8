"""The intake log's rows off the everyday path, on SQLite and on PostgreSQL.

Adopting a dead API process's rows takes each batch whole: a batch split between two owners
would be sent twice under one update id, and Temporal would count it once, with only part of
its count. A batch whose payload no longer reads (say, written by another release) stays in
the log, said in the log each time it is tried, and holds up no other incident's count."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

import services.intake
from runbooks import REGISTRY
from services.database import Database
from services.intake import RepeatLog
from services.opening import prepare
from services.settings import Settings
from store.db import utcnow
from store.intake import adopt, append, backlog, claim
from store.tables import intake
from workflows.models import IncidentRequest, IncidentView, State
from workflows.run_state import IncidentInput


def repeat(directory, key: str) -> IncidentInput:
    request = IncidentRequest(
        title="Disk full", severity="SEV4", service="db", runbook="default", dedup_key=key
    )
    return prepare(request, REGISTRY, directory)


def test_a_batch_straddling_the_cutoff_is_adopted_whole(engine: Engine, directory) -> None:
    data = repeat(directory, "x")
    row = (data.incident.id, data.model_dump(mode="json"))
    append(engine, "api-1", [row])
    time.sleep(0.01)
    cutoff = utcnow()
    time.sleep(0.01)
    append(engine, "api-1", [row])  # received after the cutoff
    [batch] = claim(engine, "api-1")  # both rows in one batch of two
    assert len(batch.ids) == 2

    assert adopt(engine, "api-2", cutoff) == 2  # the whole batch, not just its older row
    assert claim(engine, "api-1") == []
    [adopted] = claim(engine, "api-2")
    assert (adopted.id, sorted(adopted.ids)) == (batch.id, sorted(batch.ids))

    append(engine, "api-1", [row])  # unbatched and new: stays with its owner
    assert adopt(engine, "api-3", cutoff) == 2
    with engine.connect() as conn:
        owners = dict(conn.execute(sa.select(intake.c.owner, sa.func.count()).group_by(intake.c.owner)).all())
    assert owners == {"api-3": 2, "api-1": 1} and backlog(engine) == 3


async def test_a_batch_that_no_longer_reads_stays_and_holds_up_no_other(
    database_url: str,
    tmp_path: Path,
    directory,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(services.intake, "IDLE", 0.05)  # the pause after a failure
    db = Database(Settings(data_dir=tmp_path, database_url=database_url))
    good, bad = repeat(directory, "good"), repeat(directory, "bad")
    unreadable = {**bad.model_dump(mode="json"), "incident": {"id": bad.incident.id}}
    append(db.engine(), "api-1", [(bad.incident.id, unreadable)])
    log = RepeatLog(db, owner="api-1")
    counted: list[tuple[str, int]] = []

    async def forward(data: IncidentInput, count: int, batch: str) -> IncidentView:
        counted.append((data.incident.id, count))
        fields = {"title": "Disk full", "severity": "SEV4", "service": "db", "runbook": "default"}
        return IncidentView(
            id=data.incident.id, state=State.TRIGGERED, created_at=datetime.now(UTC), **fields
        )

    try:
        with caplog.at_level(logging.WARNING, logger=services.intake.log.name):
            log.start(forward)
            assert all(await asyncio.gather(*(log.record(good) for _ in range(5))))
            deadline = time.monotonic() + 15
            while sum(n for _, n in counted) < 5 or caplog.text.count("not counted yet") < 2:
                assert time.monotonic() < deadline, (counted, caplog.text)
                await asyncio.sleep(0.02)
        assert await db.run(backlog) == 1  # the unreadable row, kept for a release that reads it
    finally:
        await log.close()
        db.dispose()
    assert {incident for incident, _ in counted} == {good.incident.id}
    said = [r.getMessage() for r in caplog.records if "not counted yet" in r.getMessage()]
    assert all(f"batch intake-{bad.incident.id}-" in message for message in said)  # tried again, by name
