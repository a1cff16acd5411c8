"""A page is sacred: a broken runbook, an email that cannot go out, or a scenario
that has finished never leave an incident paging nobody while it says it paged."""

from __future__ import annotations

import shutil
from datetime import timedelta

from temporalio.client import WithStartWorkflowOperation
from temporalio.common import WorkflowIDConflictPolicy

from conftest import update
from runbooks import REGISTRY
from services.opening import prepare, start_options
from worker import build_worker
from workflows.incident import IncidentWorkflow
from workflows.models import IncidentRequest, ResponderAction, State

TEN_SECONDS = timedelta(seconds=10)


def kinds(view) -> list[str]:
    return [e.kind for e in view.timeline]


async def test_security_breach_can_be_escalated_after_an_acknowledgement(env, incidents, outbox):
    handle = await incidents.open(runbook=None, severity="SEV1", service="security", title="Exfiltration")
    await env.sleep(timedelta(seconds=30))
    await update(handle, IncidentWorkflow.acknowledge, ResponderAction(responder="heidi"))
    view = await update(handle, IncidentWorkflow.escalate, ResponderAction(responder="heidi"))
    assert view.state == State.TRIGGERED
    assert ("ciso", 3) in [(p.person, p.tier) for p in view.paged]
    await env.sleep(timedelta(seconds=5))
    assert "ciso@example.com" in outbox.recipients()


async def test_those_paged_are_told_to_stand_down(env, incidents, outbox):
    handle = await incidents.open(runbook="default", severity="SEV1")  # tier one: alice and dave
    await env.sleep(timedelta(seconds=30))
    await update(handle, IncidentWorkflow.acknowledge, ResponderAction(responder="alice"))
    await env.sleep(timedelta(seconds=5))
    subjects = {(m["personalizations"][0]["to"][0]["email"], m["subject"]) for m in outbox.messages()}
    assert any(to == "dave@example.com" and "stand down" in s for to, s in subjects)
    assert not any(to == "alice@example.com" and "stand down" in s for to, s in subjects)

    await update(handle, IncidentWorkflow.resolve, ResponderAction(responder="alice"))
    view = await handle.result()
    assert view.state == State.RESOLVED
    resolved = [m for m in outbox.messages() if m["subject"].endswith("resolved")]
    assert [m["personalizations"][0]["to"][0]["email"] for m in resolved] == ["dave@example.com"]
    assert "stood_down" in kinds(view)


async def test_an_undeliverable_page_is_reported_and_escalated_past(env, incidents, outbox):
    # The outbox cannot be written (a file where its folder should be): every email fails.
    shutil.rmtree(outbox.folder)
    outbox.folder.write_text("not a folder")
    try:
        handle = await incidents.open(runbook="default", severity="SEV3")  # tier one waits 30 min
        await env.sleep(timedelta(seconds=20))
        view = await handle.query(IncidentWorkflow.incident)
        assert "paged" not in kinds(view)  # nothing went out, so nobody is said to be paged
        assert {p.delivery for p in view.paged} == {"retrying"}
        assert "page_retrying" in kinds(view)

        await env.sleep(timedelta(minutes=6))  # past the delivery bound, well before 30 min
        view = await handle.query(IncidentWorkflow.incident)
        assert "page_failed" in kinds(view) and "undeliverable" in view.flags
        tier_one = [p for p in view.paged if p.tier == 1]
        assert {p.delivery for p in tier_one} == {"failed"}
        assert any(p.tier == 2 for p in view.paged)
        [escalated] = [e for e in view.timeline if e.kind == "escalated"]
        assert "could be paged" in escalated.detail
    finally:
        outbox.folder.unlink()
        outbox.folder.mkdir()


async def test_paged_means_delivered(env, incidents, outbox):
    handle = await incidents.open(runbook="demo")
    await env.sleep(timedelta(seconds=2))
    view = await handle.query(IncidentWorkflow.incident)
    [paged] = [e for e in view.timeline if e.kind == "paged"]
    assert "Alice" in paged.detail and "delivered" in paged.detail
    assert [p.delivery for p in view.paged] == ["sent"]
    assert outbox.recipients() == ["alice@example.com"]


async def test_an_escalation_that_arrives_with_the_start_is_acted_on(dev_env, settings, directory):
    """The escalate-now update reaches the incident in its very first task (update-with-start),
    before the scenario waits on anything: it stands, and tier two is paged at once."""
    data = prepare(
        IncidentRequest(title="Disk full", severity="SEV2", service="db", runbook="demo"), REGISTRY, directory
    )
    operation = WithStartWorkflowOperation(
        IncidentWorkflow.run,
        data,
        id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
        **start_options(data, settings.task_queue),
    )
    async with build_worker(dev_env.client, settings):
        view = await dev_env.client.execute_update_with_start_workflow(
            IncidentWorkflow.escalate, ResponderAction(responder="alice"), start_workflow_operation=operation
        )
        assert [p.person for p in view.paged] == ["alice", "bob"]
        await (await operation.workflow_handle()).terminate("test finished")
