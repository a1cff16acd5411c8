"""Killing the worker with SIGKILL, again and again, loses nothing.

Incidents are opened a few seconds apart so that the kills catch them at different
tiers, some while their emails are being written. After each kill a new worker
starts; when the dust settles every incident has paged every tier in order, none
early, none skipped, and the outbox holds each notification exactly once.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from datetime import timedelta

import pytest
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from harness.processes import DevServer, Process, app_env, escalate
from runbooks import REGISTRY
from services.opening import prepare, start
from workflows.incident import IncidentWorkflow
from workflows.models import IncidentRequest

pytestmark = pytest.mark.slow  # real servers or long runs: left out of make test-fast

INCIDENTS = 6
KILLS = 3
LATENESS_BOUND = 15.0  # seconds
TEN_SECONDS = timedelta(seconds=10)


@pytest.fixture
async def server(tmp_path):
    dev = DevServer(tmp_path)
    dev.start()
    yield dev
    dev.stop()


async def wait_until_exhausted(handles, deadline: float) -> list:
    while True:
        views = [await h.query(IncidentWorkflow.incident) for h in handles]
        if all(v.exhausted for v in views) or time.monotonic() > deadline:
            return views
        await asyncio.sleep(1)


@pytest.mark.timeout(180)
async def test_kill_worker_repeatedly_loses_no_page_and_duplicates_none(server, tmp_path, directory):
    env = app_env(tmp_path, server)
    worker = Process(escalate("worker"), env, tmp_path / "worker.log")
    worker.start()
    client = await Client.connect(server.address, data_converter=pydantic_data_converter)
    handles = []
    try:
        for index in range(INCIDENTS):
            request = IncidentRequest(
                title=f"crash test {index}", severity="SEV2", service="checkout", runbook="demo"
            )
            handles.append(await start(client, prepare(request, REGISTRY, directory), "durability"))
            if index in (1, 3, 5):  # kill while incidents sit at different tiers
                await asyncio.sleep(0.3)
                worker.kill()
                worker.start()
            await asyncio.sleep(3)
        views = await wait_until_exhausted(handles, time.monotonic() + 90)
    finally:
        worker.stop()

    lateness = []
    for view in views:
        assert [(p.person, p.tier) for p in view.paged] == [("alice", 1), ("bob", 2), ("carol", 3)]
        for earlier, later in zip(view.paged, view.paged[1:], strict=False):
            assert later.at - earlier.at >= TEN_SECONDS, "a tier was paged early"
            lateness.append((later.at - earlier.at - TEN_SECONDS).total_seconds())
        assert view.exhausted, f"{view.id} never finished its ladder"

    # Notification ids are deterministic, so a duplicate would be a second file for the
    # same person and step: each incident must hold exactly its four emails.
    emails = Counter(p.name.split("-", 1)[0] for p in (tmp_path / "outbox").glob("*.json"))
    assert emails == {view.id: 4 for view in views}
    for view in views:
        people = sorted(p.stem.rsplit("-", 1)[1] for p in (tmp_path / "outbox").glob(f"{view.id}-*.json"))
        assert people == ["alice", "bob", "carol", "carol"]
    # A crash delays a due escalation by at most the workflow task timeout (10 s) and
    # the new worker's start: never by a whole tier.
    assert max(lateness) < LATENESS_BOUND, f"an escalation was {max(lateness):.2f} s late"
