"""The default runbook walks its four tiers `repeat + 1` times: SEV1 goes round twice,
then tells management that nobody acknowledged and keeps the incident open (it can
still be acknowledged); SEV3 goes round once. The specialist tier depends on the service."""

from datetime import timedelta

import pytest

from conftest import update
from workflows.incident import IncidentWorkflow
from workflows.models import ResponderAction, State

# Default runbook, SEV1: first-line 5 min, team-lead 10, specialists 15, management 15.
SEV1_ROUND = timedelta(minutes=5 + 10 + 15 + 15)
# SEV3: 30 + 45 + 60 + 120 minutes, and no repeat.
SEV3_ROUND = timedelta(minutes=30 + 45 + 60 + 120)
# Tier of each page in one round: support is alice and dave, platform is erin and frank.
ONE_ROUND = [("alice", 1), ("dave", 1), ("bob", 2), ("erin", 3), ("frank", 3), ("carol", 4)]
TASK_LATENCY = timedelta(milliseconds=500)


def entries(view, kind: str) -> list:
    return [e for e in view.timeline if e.kind == kind]


def subjects_to(outbox, email: str) -> list[str]:
    return [m["subject"] for m in outbox.messages() if m["personalizations"][0]["to"][0]["email"] == email]


async def test_exhaust_sev1_after_two_rounds_and_tell_management(env, incidents, outbox):
    handle = await incidents.open(runbook="default", severity="SEV1")
    await env.sleep(SEV1_ROUND * 2 - timedelta(minutes=1))
    view = await handle.query(IncidentWorkflow.incident)
    assert not view.exhausted and not entries(view, "exhausted")
    assert not any("nobody acknowledged" in s for s in subjects_to(outbox, "carol@example.com"))

    await env.sleep(timedelta(minutes=2))
    view = await handle.query(IncidentWorkflow.incident)
    assert [(p.person, p.tier) for p in view.paged] == ONE_ROUND * 2
    assert view.exhausted
    [exhausted] = entries(view, "exhausted")
    started = entries(view, "triggered")[0].at
    assert SEV1_ROUND * 2 <= exhausted.at - started < SEV1_ROUND * 2 + TASK_LATENCY
    assert "Carol Diaz" in exhausted.detail
    assert [s for s in subjects_to(outbox, "carol@example.com") if "nobody acknowledged" in s] == [
        "[SEV1] checkout: Checkout is failing - nobody acknowledged"
    ]
    assert len(outbox.messages()) == len(ONE_ROUND) * 2 + 1  # every page, then management


async def test_accept_acknowledgement_after_exhaustion(env, incidents, outbox):
    handle = await incidents.open(runbook="default", severity="SEV1")
    await env.sleep(SEV1_ROUND * 2 + timedelta(minutes=1))
    view = await handle.query(IncidentWorkflow.incident)
    assert view.exhausted and view.state == State.TRIGGERED

    view = await update(handle, IncidentWorkflow.acknowledge, ResponderAction(responder="carol"))
    assert view.state == State.ACKNOWLEDGED and view.acknowledged_by == "carol"
    view = await update(handle, IncidentWorkflow.resolve, ResponderAction(responder="carol"))
    assert view.state == State.RESOLVED
    assert (await handle.result()).state == State.RESOLVED


async def test_walk_each_tier_once_for_sev3(env, incidents, outbox):
    handle = await incidents.open(runbook="default", severity="SEV3")
    await env.sleep(SEV3_ROUND - timedelta(minutes=1))
    view = await handle.query(IncidentWorkflow.incident)
    assert [(p.person, p.tier) for p in view.paged] == ONE_ROUND
    assert not view.exhausted

    await env.sleep(timedelta(minutes=2))
    view = await handle.query(IncidentWorkflow.incident)
    assert view.exhausted and view.state == State.TRIGGERED
    [exhausted] = entries(view, "exhausted")
    assert SEV3_ROUND <= exhausted.at - entries(view, "triggered")[0].at < SEV3_ROUND + TASK_LATENCY

    await env.sleep(SEV3_ROUND)  # no second round
    view = await handle.query(IncidentWorkflow.incident)
    assert [(p.person, p.tier) for p in view.paged] == ONE_ROUND
    assert [s for s in subjects_to(outbox, "carol@example.com") if "nobody acknowledged" in s] == [
        "[SEV3] checkout: Checkout is failing - nobody acknowledged"
    ]


@pytest.mark.parametrize(
    ("service", "specialists", "emails"),
    [
        ("database", ["frank"], ["frank@example.com"]),
        ("payments", ["grace"], ["grace@example.com"]),
        ("checkout", ["erin", "frank"], ["erin@example.com", "frank@example.com"]),
    ],
)
async def test_page_specialists_of_the_service(env, incidents, outbox, service, specialists, emails):
    handle = await incidents.open(runbook=None, severity="SEV1", service=service)
    await env.sleep(timedelta(minutes=5 + 10 + 1))  # first-line and team-lead timed out
    view = await handle.query(IncidentWorkflow.incident)
    assert view.runbook == "default"
    assert view.tier.name == "specialists"
    assert [p.person for p in view.paged if p.tier == 3] == specialists
    assert outbox.recipients()[3:] == emails
