"""Asking for feedback after resolution. On a time-skipping server: the feedback workflow
emails everyone asked a signed feedback link after its delay (not before), and a day later
reminds only those who have not answered. On a dev server, through the API's path: resolving
an incident starts that workflow for everyone paged, and their emails go out."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from conftest import update
from email_helpers import until
from runbooks import REGISTRY
from security.links import FeedbackLinks
from services.database import open_database
from services.opening import prepare, start
from store import feedback
from store.feedback import FeedbackAnswer
from worker import build_worker
from workflows import contract
from workflows.feedback import FeedbackInput, FeedbackOutcome
from workflows.models import IncidentRequest, IncidentView, ResponderAction

ASK, REMIND = "resolved: how did the response go", "reminder: how did the response go"


def asked(outbox, kind: str = ASK) -> dict[str, str]:
    """{recipient: feedback token} of the feedback emails of one kind in the outbox."""
    found = {}
    for message in outbox.messages():
        if kind in message["subject"]:
            text = message["content"][0]["value"]
            assert "/r/" not in text  # no acknowledge/resolve links any more
            found[message["personalizations"][0]["to"][0]["email"]] = re.search(r"/f/(\S+)", text).group(1)
    return found


def resolved_incident(directory) -> FeedbackInput:
    now = datetime.now(UTC)
    view = IncidentView(
        id="fb1234567",
        title="Checkout is failing",
        severity="SEV2",
        service="checkout",
        runbook="demo",
        state="resolved",
        created_at=now - timedelta(minutes=30),
        resolved_at=now,
        resolved_by="bob",
    )
    people = [p for p in directory.people if p.id in ("alice", "bob", "carol")]
    return FeedbackInput(incident=view, people=people, delay=timedelta(minutes=10))


async def test_ask_after_the_delay_and_remind_only_those_who_have_not_answered(
    env, settings, directory, outbox
):
    request = resolved_incident(directory)
    async with build_worker(env.client, settings):
        handle = await env.client.start_workflow(
            contract.FEEDBACK_WORKFLOW,
            request,
            id=f"feedback-{request.incident.id}",
            task_queue=settings.task_queue,
        )
        await env.sleep(timedelta(minutes=9))
        assert not asked(outbox)  # not while the dust settles
        await env.sleep(timedelta(minutes=2))
        tokens = asked(outbox)
        assert set(tokens) == {"alice@example.com", "bob@example.com", "carol@example.com"}
        claims = {FeedbackLinks(settings.link_secrets).verify(token) for token in tokens.values()}
        assert {(c.incident, c.person) for c in claims} == {
            ("fb1234567", p) for p in ("alice", "bob", "carol")
        }

        engine = open_database(settings)
        feedback.save(engine, "fb1234567", "alice", FeedbackAnswer(rating=4, comment="fast"))
        feedback.save(engine, "fb1234567", "carol", FeedbackAnswer(rating=2, anonymous=True))
        await env.sleep(timedelta(hours=23))
        assert not asked(outbox, REMIND)
        outcome = FeedbackOutcome.model_validate(await handle.result())
    assert outcome.asked == ["alice", "bob", "carol"] and outcome.reminded == ["bob"]
    assert set(asked(outbox, REMIND)) == {"bob@example.com"}


async def test_resolving_an_incident_asks_everyone_paged(dev_env, settings, directory, outbox):
    request = IncidentRequest(
        title="Checkout is failing", severity="SEV2", service="checkout", runbook="demo"
    )
    data = prepare(request, REGISTRY, directory, feedback_delay=timedelta(0))
    async with build_worker(dev_env.client, settings):
        handle = await start(dev_env.client, data, settings.task_queue)
        assert await until(lambda: "alice@example.com" in outbox.recipients())
        await update(handle, "resolve", ResponderAction(responder="alice"))
        view = IncidentView.model_validate(await handle.result())
        assert await until(lambda: asked(outbox))
        follow_up = dev_env.client.get_workflow_handle(contract.feedback_workflow_id(view.id))
        assert (await follow_up.describe()).workflow_type == contract.FEEDBACK_WORKFLOW
        await follow_up.terminate("test finished")  # it would wait a day to remind
    assert set(asked(outbox)) == {"alice@example.com"}  # paged; the demo runbook has no stakeholders


async def test_nobody_is_asked_without_a_feedback_delay(env, settings, directory, outbox):
    request = IncidentRequest(
        title="Checkout is failing", severity="SEV2", service="checkout", runbook="demo"
    )
    async with build_worker(env.client, settings):
        handle = await start(env.client, prepare(request, REGISTRY, directory), settings.task_queue)
        await env.sleep(timedelta(seconds=3))
        await update(handle, "resolve", ResponderAction(responder="alice"))
        await handle.result()
        await env.sleep(timedelta(hours=25))
    assert not asked(outbox) and not asked(outbox, REMIND)
