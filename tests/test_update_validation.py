"""Responders' actions are checked before they are accepted: an unknown responder (by
the incident service), a second acknowledgement or any action on a resolved incident is refused with a message
that says why, and changes nothing. Escalate-now pages the next tier at once, and a
note added to the incident travels in the next tier's email."""

from datetime import timedelta

import pytest
from temporalio.client import WorkflowUpdateFailedError

from conftest import update
from runbooks import REGISTRY
from services.incidents import IncidentService
from services.temporal import ConnectedClient
from workflows.errors import AlreadyAcknowledged, AlreadyResolved, UnknownResponder, decode
from workflows.incident import IncidentWorkflow
from workflows.models import Note, ResponderAction, State
from workflows.vocabulary import Action


async def rejected(handle, method, responder: str):
    """Send an action that must be refused; return the refusal (an ApplicationError)."""
    with pytest.raises(WorkflowUpdateFailedError) as caught:
        await update(handle, method, ResponderAction(responder=responder))
    return caught.value.cause


def message_to(outbox, email: str) -> dict:
    [message] = [m for m in outbox.messages() if m["personalizations"][0]["to"][0]["email"] == email]
    return {part["type"]: part["value"] for part in message["content"]}


async def test_reject_acknowledgement_from_unknown_responder(env, incidents, settings, directory):
    handle = await incidents.open(runbook="demo")
    await env.sleep(timedelta(seconds=2))
    before = await handle.query(IncidentWorkflow.incident)

    # The incident service makes the one identity check, before anything reaches Temporal.
    service = IncidentService(ConnectedClient(env.client), settings, directory, REGISTRY)
    with pytest.raises(UnknownResponder, match="responder 'mallory' is not in the directory"):
        await service.act(before.id, Action.ACKNOWLEDGE, ResponderAction(responder="mallory"))

    after = await handle.query(IncidentWorkflow.incident)
    assert after.state == State.TRIGGERED and after.acknowledged_by is None
    assert after.timeline == before.timeline


async def test_reject_second_acknowledgement(env, incidents):
    handle = await incidents.open(runbook="demo")
    await env.sleep(timedelta(seconds=12))
    await update(handle, IncidentWorkflow.acknowledge, ResponderAction(responder="bob"))
    before = await handle.query(IncidentWorkflow.incident)

    cause = await rejected(handle, IncidentWorkflow.acknowledge, "alice")
    assert cause.type == "already-acknowledged"
    assert cause.message == "incident already acknowledged by bob"
    assert isinstance(decode(cause), AlreadyAcknowledged)
    after = await handle.query(IncidentWorkflow.incident)
    assert after.acknowledged_by == "bob" and after.timeline == before.timeline


async def test_reject_acknowledge_and_resolve_when_already_resolved(env, incidents, settings):
    handle = await incidents.open(runbook="demo")
    await env.sleep(timedelta(seconds=2))
    incident_id = (await handle.query(IncidentWorkflow.incident)).id
    # Occupy the report's path so the final report is retried and the resolved incident
    # stays open for a moment: otherwise the workflow ends ~25 ms after the resolution,
    # and whether the next action reaches it first would be a race.
    blocker = settings.reports / f"{incident_id}.md"
    blocker.mkdir()

    await update(handle, IncidentWorkflow.resolve, ResponderAction(responder="bob"))
    before = await handle.query(IncidentWorkflow.incident)

    ack = await rejected(handle, IncidentWorkflow.acknowledge, "alice")
    assert (ack.type, ack.message) == ("already-resolved", "incident already resolved by bob")
    again = await rejected(handle, IncidentWorkflow.resolve, "alice")
    assert (again.type, again.message) == ("already-resolved", "incident already resolved by bob")
    # The intake (a resolved alert arriving late) recognises it by code, not by its words.
    assert isinstance(decode(ack), AlreadyResolved) and isinstance(decode(again), AlreadyResolved)

    blocker.rmdir()
    view = await handle.result()
    assert view.state == State.RESOLVED and view.resolved_by == "bob"
    assert view.acknowledged_by is None
    assert [e.kind for e in view.timeline] == [e.kind for e in before.timeline]


async def test_escalate_now_pages_next_tier_immediately(env, incidents, outbox):
    handle = await incidents.open(runbook="demo")
    await env.sleep(timedelta(seconds=1))

    view = await update(
        handle, IncidentWorkflow.escalate, ResponderAction(responder="alice", note="need a lead")
    )
    assert [(p.person, p.tier) for p in view.paged] == [("alice", 1), ("bob", 2)]
    assert view.paged[1].at - view.paged[0].at < timedelta(seconds=2)
    assert [(e.actor, e.detail) for e in view.timeline if e.kind == "escalation_requested"] == [
        ("alice", "need a lead")
    ]
    await env.sleep(timedelta(seconds=2))  # let the email go out; carol is not due yet
    assert outbox.recipients() == ["alice@example.com", "bob@example.com"]


async def test_hand_note_to_next_tier(env, incidents, outbox):
    handle = await incidents.open(runbook="demo")
    await env.sleep(timedelta(seconds=2))
    await handle.signal(IncidentWorkflow.add_note, Note(author="alice", text="DB failover started"))
    await env.sleep(timedelta(seconds=10))

    view = await handle.query(IncidentWorkflow.incident)
    assert [(e.actor, e.detail) for e in view.timeline if e.kind == "note"] == [
        ("alice", "DB failover started")
    ]
    to_bob = message_to(outbox, "bob@example.com")
    assert "Notes so far:" in to_bob["text/plain"]
    assert "alice: DB failover started" in to_bob["text/plain"]
    assert "Notes so far" in to_bob["text/html"] and "DB failover started" in to_bob["text/html"]
    assert "Paged before you: Alice Martin" in to_bob["text/plain"]
    assert "DB failover started" not in message_to(outbox, "alice@example.com")["text/plain"]
