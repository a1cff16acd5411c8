"""A security incident is not a ladder: the security-breach runbook (chosen from the
service alone) pages security and legal together, pages the CISO after five minutes
without an acknowledgement, and sends stakeholders an update every 30 minutes until
the incident is resolved."""

from datetime import timedelta

from conftest import update
from workflows.incident import IncidentWorkflow
from workflows.models import ResponderAction, State

FIVE_MINUTES = timedelta(minutes=5)
TASK_LATENCY = timedelta(milliseconds=500)
STAKEHOLDERS = ("carol@example.com", "grace@example.com")


async def open_breach(incidents):
    return await incidents.open(
        runbook=None, severity="SEV1", service="security", title="Customer data exfiltrated"
    )


def status_updates(outbox) -> dict[str, int]:
    counts = dict.fromkeys(STAKEHOLDERS, 0)
    for message in outbox.messages():
        to = message["personalizations"][0]["to"][0]["email"]
        if message["subject"].endswith("status update"):
            counts[to] = counts.get(to, 0) + 1
    return counts


async def test_page_security_and_legal_at_the_same_instant(env, incidents, outbox):
    handle = await open_breach(incidents)
    await env.sleep(timedelta(seconds=30))
    view = await handle.query(IncidentWorkflow.incident)

    assert view.runbook == "security-breach"
    assert [(p.person, p.tier) for p in view.paged] == [("heidi", 1), ("ivan", 1), ("judy", 2)]
    assert len({p.at for p in view.paged}) == 1
    assert sorted(outbox.recipients()) == ["heidi@example.com", "ivan@example.com", "judy@example.com"]


async def test_page_ciso_at_five_minutes_and_not_before(env, incidents, outbox):
    handle = await open_breach(incidents)
    await env.sleep(FIVE_MINUTES - timedelta(seconds=1))
    view = await handle.query(IncidentWorkflow.incident)
    assert "ciso" not in [p.person for p in view.paged]
    assert "ciso@example.com" not in outbox.recipients()

    await env.sleep(timedelta(seconds=2))
    view = await handle.query(IncidentWorkflow.incident)
    first = view.paged[0].at
    [ciso] = [p for p in view.paged if p.person == "ciso"]
    assert ciso.tier == 3
    assert FIVE_MINUTES <= ciso.at - first < FIVE_MINUTES + TASK_LATENCY
    assert outbox.recipients().count("ciso@example.com") == 1


async def test_update_stakeholders_every_30_minutes_until_resolved(env, incidents, outbox):
    handle = await open_breach(incidents)
    await env.sleep(timedelta(minutes=29))
    assert status_updates(outbox) == dict.fromkeys(STAKEHOLDERS, 0)

    await env.sleep(timedelta(minutes=95 - 29))
    assert status_updates(outbox) == dict.fromkeys(STAKEHOLDERS, 3)
    view = await handle.query(IncidentWorkflow.incident)
    started = view.timeline[0].at
    rounds = [e.at - started for e in view.timeline if e.kind == "stakeholder_update"]
    assert len(rounds) == 3
    for number, elapsed in enumerate(rounds, start=1):
        due = timedelta(minutes=30 * number)
        assert due <= elapsed < due + TASK_LATENCY

    view = await update(handle, IncidentWorkflow.resolve, ResponderAction(responder="ivan"))
    assert view.state == State.RESOLVED
    await handle.result()
    await env.sleep(timedelta(minutes=90))
    assert status_updates(outbox) == dict.fromkeys(STAKEHOLDERS, 3)


async def test_keep_updating_stakeholders_after_acknowledgement(env, incidents, outbox):
    handle = await open_breach(incidents)
    await env.sleep(timedelta(minutes=1))
    await update(handle, IncidentWorkflow.acknowledge, ResponderAction(responder="heidi"))
    await env.sleep(timedelta(minutes=61))
    assert status_updates(outbox) == dict.fromkeys(STAKEHOLDERS, 2)


async def test_skip_ciso_when_security_acknowledges_within_five_minutes(env, incidents, outbox):
    handle = await open_breach(incidents)
    await env.sleep(timedelta(minutes=4))
    view = await update(handle, IncidentWorkflow.acknowledge, ResponderAction(responder="ivan"))
    assert view.state == State.ACKNOWLEDGED and view.acknowledged_by == "ivan"

    await env.sleep(timedelta(minutes=40))
    view = await handle.query(IncidentWorkflow.incident)
    assert [p.person for p in view.paged] == ["heidi", "ivan", "judy"]
    assert "ciso@example.com" not in outbox.recipients()
    assert not view.exhausted and view.state == State.ACKNOWLEDGED
