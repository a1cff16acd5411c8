"""The default runbook walks its four tiers `repeat + 1` times: SEV1 goes round twice,
then tells management that nobody acknowledged and keeps the incident open (it can
still be acknowledged); SEV3 goes round once. The specialist tier depends on the service:
a schedule's on-call person (platform, payments) or a team (database)."""

from datetime import timedelta

import pytest

from conftest import update
from runbooks.schedule_seed import load_schedules
from schedules.oncall import oncall
from services.settings import RUNBOOKS_DIR
from workflows.incident import IncidentWorkflow
from workflows.models import ResponderAction, State

# Default runbook, SEV1: first-line 5 min, team-lead 10, specialists 15, management 15.
SEV1_ROUND = timedelta(minutes=5 + 10 + 15 + 15)
# SEV3: 30 + 45 + 60 + 120 minutes, and no repeat.
SEV3_ROUND = timedelta(minutes=30 + 45 + 60 + 120)
# Tier of each page in one round but the specialists': support is alice and dave.
ONE_ROUND = [("alice", 1), ("dave", 1), ("bob", 2), ("carol", 4)]
SEED = {s.id: s for s in load_schedules(RUNBOOKS_DIR / "schedules.yaml")}
TASK_LATENCY = timedelta(milliseconds=500)


def on_call(schedule: str, at) -> list[str]:
    """Who the seed schedule has on call at ``at`` (the platform rotation changes weekly)."""
    return oncall(SEED[schedule], at).people


def pages_by_tier(view, rounds: int) -> list[tuple[str, int]]:
    """The pages but the specialists', having checked that each specialist page went to
    whoever the platform schedule had on call then, once per round."""
    specialists = [p for p in view.paged if p.tier == 3]
    assert len(specialists) == rounds
    assert all([p.person] == on_call("platform", p.at) for p in specialists)
    return [(p.person, p.tier) for p in view.paged if p.tier != 3]


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
    assert pages_by_tier(view, rounds=2) == ONE_ROUND * 2
    assert view.exhausted
    [exhausted] = entries(view, "exhausted")
    started = entries(view, "triggered")[0].at
    assert SEV1_ROUND * 2 <= exhausted.at - started < SEV1_ROUND * 2 + TASK_LATENCY
    assert "Carol Diaz" in exhausted.detail
    assert [s for s in subjects_to(outbox, "carol@example.com") if "nobody acknowledged" in s] == [
        "[SEV1] checkout: Checkout is failing - nobody acknowledged"
    ]
    assert len(outbox.messages()) == (len(ONE_ROUND) + 1) * 2 + 1  # every page, then management


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
    assert pages_by_tier(view, rounds=1) == ONE_ROUND
    assert not view.exhausted

    await env.sleep(timedelta(minutes=2))
    view = await handle.query(IncidentWorkflow.incident)
    assert view.exhausted and view.state == State.TRIGGERED
    [exhausted] = entries(view, "exhausted")
    assert SEV3_ROUND <= exhausted.at - entries(view, "triggered")[0].at < SEV3_ROUND + TASK_LATENCY

    await env.sleep(SEV3_ROUND)  # no second round
    view = await handle.query(IncidentWorkflow.incident)
    assert pages_by_tier(view, rounds=1) == ONE_ROUND
    assert [s for s in subjects_to(outbox, "carol@example.com") if "nobody acknowledged" in s] == [
        "[SEV3] checkout: Checkout is failing - nobody acknowledged"
    ]


@pytest.mark.parametrize(
    ("service", "specialists"),
    [("database", "team:dba frank"), ("payments", "schedule:payments"), ("checkout", "schedule:platform")],
)
async def test_page_specialists_of_the_service(env, incidents, outbox, service, specialists):
    handle = await incidents.open(runbook=None, severity="SEV1", service=service)
    await env.sleep(timedelta(minutes=5 + 10 + 1))  # first-line and team-lead timed out
    view = await handle.query(IncidentWorkflow.incident)
    assert view.runbook == "default"
    assert view.tier.name == "specialists"
    [page] = [p for p in view.paged if p.tier == 3]
    kind, _, name = specialists.partition(":")
    expected = on_call(name, page.at) if kind == "schedule" else [name.split()[1]]
    assert [page.person] == expected
    assert outbox.recipients()[3:] == [f"{expected[0]}@example.com"]
    if kind == "schedule":  # why this person: the schedule's answer is on the timeline
        assert any(e.detail.startswith(f"schedule {name} (revision 1)") for e in entries(view, "oncall"))
