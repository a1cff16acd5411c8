"""Adopting a dead API process's intake-log rows takes each batch whole, on SQLite and on
PostgreSQL: a batch split between two owners would be sent twice under one update id, and
Temporal would count it once, with only part of its count."""

from __future__ import annotations

import time

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from runbooks import REGISTRY
from services.opening import prepare
from store.db import utcnow
from store.intake import adopt, append, backlog, claim
from store.tables import intake
from workflows.models import IncidentRequest


def test_a_batch_straddling_the_cutoff_is_adopted_whole(engine: Engine, directory) -> None:
    data = prepare(
        IncidentRequest(title="Disk full", severity="SEV4", service="db", runbook="default", dedup_key="x"),
        REGISTRY,
        directory,
    )
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
