"""A runbook reacts to a severity change (time-skipping, real worker): its
``on_severity_change`` hook can page the next tier at once; a mistake in the hook is
written on the timeline and the change and the paging go on as they were."""

from __future__ import annotations

from datetime import timedelta

from test_snooze import opened, pages  # noqa: F401 - the fixture

from conftest import update
from workflows.incident import IncidentWorkflow
from workflows.models import SeverityChange


async def test_a_raise_to_sev1_pages_the_next_tier_at_once(env, opened):  # noqa: F811
    handle = await opened("raise-jumps")
    await env.sleep(timedelta(minutes=2))
    await update(handle, IncidentWorkflow.set_severity, SeverityChange(responder="alice", severity="SEV1"))
    await env.sleep(timedelta(seconds=5))
    view = await handle.query(IncidentWorkflow.incident)
    (_, _), (who, at) = pages(view)
    assert who == "bob" and timedelta(minutes=2) <= at < timedelta(minutes=2, seconds=5)
    assert any(e.kind == "escalation_requested" and "SEV2 to SEV1" in e.detail for e in view.timeline)


async def test_a_lowered_severity_leaves_the_ladder_alone(env, opened):  # noqa: F811
    handle = await opened("raise-jumps")
    await env.sleep(timedelta(minutes=2))
    await update(handle, IncidentWorkflow.set_severity, SeverityChange(responder="alice", severity="SEV3"))
    await env.sleep(timedelta(minutes=5))
    assert [who for who, _ in pages(await handle.query(IncidentWorkflow.incident))] == ["alice"]


async def test_a_mistake_in_the_hook_is_noted_and_the_paging_goes_on(env, opened):  # noqa: F811
    handle = await opened("broken-hook")
    await env.sleep(timedelta(minutes=2))
    view = await update(
        handle, IncidentWorkflow.set_severity, SeverityChange(responder="alice", severity="SEV1")
    )
    assert view.severity == "SEV1"
    assert any(e.kind == "runbook_failed" and "a mistake in the hook" in e.detail for e in view.timeline)
    await env.sleep(timedelta(minutes=9))
    assert [who for who, _ in pages(await handle.query(IncidentWorkflow.incident))] == ["alice", "bob"]
