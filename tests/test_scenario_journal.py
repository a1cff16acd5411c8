"""Any runbook keeps its history bounded without its author asking: the scenario's
steps are journaled, the run continues as new whenever its history grows long, and
the next run replays the steps already done without paging anyone twice."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

import journal_runbooks
from services.opening import prepare, start
from worker import build_worker
from workflows.incident import IncidentWorkflow
from workflows.models import IncidentRequest
from workflows.scenario_registry import registry_on

TASK_LATENCY = timedelta(milliseconds=500)
HISTORY_LIMIT = 100  # events: continue as new far sooner than the server would suggest


@pytest.fixture
async def journaled(env, settings, directory):
    opened = []

    async def open_incident(runbook: str):
        request = IncidentRequest(title="Disk full", severity="SEV2", service="storage", runbook=runbook)
        data = prepare(request, journal_runbooks.REGISTRY, directory)
        data = data.model_copy(update={"history_limit": HISTORY_LIMIT})
        handle = await start(env.client, data, settings.task_queue)
        opened.append(handle)
        return handle

    with registry_on(settings.task_queue, journal_runbooks.MODULE):
        async with build_worker(env.client, settings):
            yield open_incident
            for handle in opened:
                await env.client.get_workflow_handle(handle.id).terminate("test finished")


async def days(env, count: int) -> None:
    for _ in range(count):  # a day at a time: one long skip outlasts the RPC deadline
        await env.sleep(timedelta(days=1))


async def test_a_loop_forever_runbook_runs_sixty_days_with_a_bounded_history(env, journaled, outbox):
    handle = await journaled("loop-forever")
    first_run = (await handle.describe()).run_id
    await days(env, 60)
    await env.sleep(timedelta(minutes=1))

    latest = env.client.get_workflow_handle(handle.id)
    view = await latest.query(IncidentWorkflow.incident)
    rounds = [int(re.fullmatch(r"round (\d+)", e.detail)[1]) for e in view.timeline if e.kind == "round"]
    expected = 60 * 4 + 1  # every six hours, and once at the start
    assert rounds[-1] == expected
    assert rounds == list(range(rounds[0], expected + 1))  # none replayed twice, none skipped
    assert len(outbox.recipients()) == expected  # one email a round: nobody paged twice
    assert sum(e.kind == "continued" for e in view.timeline) >= 10
    assert view.paged[-1].at - view.paged[0].at >= timedelta(days=60) - timedelta(hours=6)

    description = await latest.describe()
    assert description.run_id != first_run
    history = await latest.fetch_history()
    assert len(history.events) < HISTORY_LIMIT + 60


async def test_parallel_loops_each_keep_their_cadence_across_runs(env, journaled, outbox):
    handle = await journaled("parallel")
    await days(env, 5)
    await env.sleep(timedelta(minutes=1))
    view = await env.client.get_workflow_handle(handle.id).query(IncidentWorkflow.incident)

    assert sum(e.kind == "continued" for e in view.timeline) >= 2
    assert len(view.paged) == 5 * 2 + 1  # every 12 hours
    updates = [e.detail.split(" -> ")[0] for e in view.timeline if e.kind == "stakeholder_update"]
    assert updates == [f"update {n}" for n in range(1, 5 * 3 + 1)]  # every 8 hours, in order, once
    gaps = [b.at - a.at for a, b in zip(view.paged, view.paged[1:], strict=False)]
    assert all(abs(gap - timedelta(hours=12)) < TASK_LATENCY for gap in gaps)
    assert sorted(set(outbox.recipients())) == ["alice@example.com", "carol@example.com"]
    assert len(outbox.recipients()) == 11 + 15


async def test_a_failing_runbook_still_pages_and_says_why(env, journaled, outbox):
    handle = await journaled("typo")
    await env.sleep(timedelta(seconds=15))
    view = await handle.query(IncidentWorkflow.incident)

    [failure] = [e for e in view.timeline if e.kind == "runbook_failed"]
    assert "KeyError" in failure.detail and "team-laed" in failure.detail
    assert "journal_runbooks.py:" in failure.detail
    assert view.flags == ["runbook-failed"]
    # The plan is walked plainly from where it stood: tier one again, then tier two.
    await env.sleep(timedelta(seconds=12))
    view = await handle.query(IncidentWorkflow.incident)
    assert [p.person for p in view.paged] == ["alice", "alice", "bob"]
    assert sorted(set(outbox.recipients())) == ["alice@example.com", "bob@example.com"]
