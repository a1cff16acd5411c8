"""Each tier is paged when the previous tier's acknowledgement timeout runs out: never
early, never a tier skipped, and an acknowledgement stops the ladder."""

from datetime import timedelta

from conftest import update
from workflows.incident import IncidentWorkflow
from workflows.models import ResponderAction

TEN_SECONDS = timedelta(seconds=10)
# workflow.now() is the start of the workflow task that follows the timer, a few
# milliseconds after it fired; the timer itself is checked exactly in the history.
TASK_LATENCY = timedelta(milliseconds=500)


async def timer_durations(handle) -> list[timedelta]:
    history = await handle.fetch_history()
    return [
        e.timer_started_event_attributes.start_to_fire_timeout.ToTimedelta()
        for e in history.events
        if e.HasField("timer_started_event_attributes")
    ]


async def test_escalate_to_each_tier_exactly_at_its_timeout(env, incidents, outbox):
    handle = await incidents.open(runbook="demo")
    await env.sleep(timedelta(seconds=35))
    view = await handle.query(IncidentWorkflow.incident)

    assert [(p.person, p.tier) for p in view.paged] == [("alice", 1), ("bob", 2), ("carol", 3)]
    for earlier, later in zip(view.paged, view.paged[1:], strict=False):
        assert TEN_SECONDS <= later.at - earlier.at < TEN_SECONDS + TASK_LATENCY
    assert (await timer_durations(handle))[:3] == [TEN_SECONDS] * 3
    assert outbox.recipients()[:3] == ["alice@example.com", "bob@example.com", "carol@example.com"]


async def test_nobody_is_paged_before_the_timeout(env, incidents, outbox):
    handle = await incidents.open(runbook="demo")
    await env.sleep(timedelta(seconds=9))
    view = await handle.query(IncidentWorkflow.incident)
    assert [p.person for p in view.paged] == ["alice"]
    assert view.tier.number == 1


async def test_ack_at_tier_two_means_tier_three_is_never_paged(env, incidents, outbox):
    handle = await incidents.open(runbook="demo")
    await env.sleep(timedelta(seconds=12))
    view = await update(handle, IncidentWorkflow.acknowledge, ResponderAction(responder="bob"))
    assert view.state == "acknowledged" and view.acknowledged_by == "bob"

    await env.sleep(timedelta(minutes=10))
    view = await handle.query(IncidentWorkflow.incident)
    assert [p.person for p in view.paged] == ["alice", "bob"]
    pages = [m for m in outbox.messages() if m["subject"].endswith("paged")]
    assert [m["personalizations"][0]["to"][0]["email"] for m in pages] == [
        "alice@example.com",
        "bob@example.com",
    ]
    # Alice, paged before Bob took it, is told she can stand down; nobody else hears anything.
    assert sorted(outbox.recipients()) == ["alice@example.com", "alice@example.com", "bob@example.com"]
    assert not view.exhausted
