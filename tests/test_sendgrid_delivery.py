"""Email through SendGrid keeps the retry contract of activities/notify.py, proved with the
real ``sendgrid`` library talking HTTP to a local double: an accepted message is sent as
built, with the API key, exactly once even when retried; throttling, outages and a hung
connection are retried; a refusal is final. Through a real worker, a refused page is
written on the timeline, a throttled one is delivered once, and neither delays tier 2."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sendgrid_double import HANG, SendGridDouble
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.notify import Notifier, sendgrid_client
from escalate.incidents import prepare, start
from escalate.links import LinkSigner
from escalate.settings import Settings
from runbooks import REGISTRY
from worker import build_worker
from workflows.incident import IncidentWorkflow
from workflows.models import (IncidentRequest, IncidentView, Notification, NotificationKind, Person,
                              State, TierRef)

ALICE = "alice@example.com"
TEN_SECONDS, TASK_LATENCY = timedelta(seconds=10), timedelta(milliseconds=500)


@pytest.fixture
def sendgrid():
    """Start doubles with a script of answers; all are stopped after the test."""
    doubles: list[SendGridDouble] = []

    def started(*script: int | str) -> SendGridDouble:
        doubles.append(SendGridDouble(list(script)).start())
        return doubles[-1]

    yield started
    for double in doubles:
        double.stop()


def notifier(tmp_path, double: SendGridDouble) -> Notifier:
    return Notifier(outbox=tmp_path / "outbox", public_url="http://127.0.0.1:8000",
                    mail_from="Escalations <escalations@example.com>",
                    signer=LinkSigner(["test-secret"], 3600),
                    sendgrid=sendgrid_client("SG.test", double.url, timeout=1))


def page(note_id: str = "inc1234567-0002-bob") -> Notification:
    incident = IncidentView(id="inc1234567", title="Checkout is failing", severity="SEV2",
                            service="checkout", runbook="demo", state=State.TRIGGERED,
                            created_at=datetime(2025, 1, 1, 12, 0, tzinfo=UTC))
    return Notification(id=note_id, kind=NotificationKind.PAGE, incident=incident,
                        recipient=Person(id="bob", name="Bob Chen", email="bob@example.com"),
                        tier=TierRef(number=2, name="team-lead"), previously_paged=["Alice Martin"])


async def test_deliver_page_as_built_when_sendgrid_accepts(tmp_path, sendgrid):
    double, note = sendgrid(202), page()
    send = notifier(tmp_path, double)
    before = send.build(note).get()  # links carry a timestamp in seconds: bracket the send
    result = await ActivityEnvironment().run(send.send_email, note)
    after = send.build(note).get()

    assert result.delivered and result.id == note.id and result.where == "sendgrid:msg-1"
    [request] = double.requests
    assert request.path == "/v3/mail/send"
    assert request.headers["authorization"] == "Bearer SG.test"
    assert request.body in (before, after)
    assert request.body["personalizations"][0]["to"] == [{"email": "bob@example.com"}]


@pytest.mark.parametrize("status", [429, 503])
async def test_raise_retryable_error_when_sendgrid_throttles_or_fails(tmp_path, sendgrid, status):
    double = sendgrid(status)
    with pytest.raises(ApplicationError) as raised:
        await ActivityEnvironment().run(notifier(tmp_path, double).send_email, page())
    assert raised.value.non_retryable is False
    assert str(status) in raised.value.message
    assert double.statuses() == [status]


@pytest.mark.parametrize("status", [400, 401])
async def test_reject_email_for_good_when_sendgrid_refuses(tmp_path, sendgrid, status):
    double = sendgrid(status)
    with pytest.raises(ApplicationError) as raised:
        await ActivityEnvironment().run(notifier(tmp_path, double).send_email, page())
    assert raised.value.type == "EmailRejected" and raised.value.non_retryable is True
    assert str(status) in raised.value.message


async def test_send_once_when_delivered_notification_is_retried(tmp_path, sendgrid):
    double = sendgrid(202)
    send = notifier(tmp_path, double)
    first = await ActivityEnvironment().run(send.send_email, page())
    second = await ActivityEnvironment().run(send.send_email, page())
    assert first.delivered and second.delivered and second.where == first.where == "sendgrid:msg-1"
    assert len(double.requests) == 1


async def test_retry_after_client_timeout_when_sendgrid_hangs(tmp_path, sendgrid):
    double = sendgrid(HANG, 202)
    send, started = notifier(tmp_path, double), asyncio.get_running_loop().time()
    with pytest.raises(Exception) as raised:
        await ActivityEnvironment().run(send.send_email, page())
    assert asyncio.get_running_loop().time() - started < 5  # gave up after the 1 s timeout
    assert not getattr(raised.value, "non_retryable", False)
    result = await ActivityEnvironment().run(send.send_email, page())
    assert result.where == "sendgrid:msg-2" and len(double.accepted()) == 1


# -- through a real worker on the time-skipping server ---------------------------------


async def eventually(check, timeout: float = 15.0):
    """Poll ``check`` in real time: HTTP retries take real seconds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not (result := await check()) and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.1)
    return result


@contextlib.asynccontextmanager
async def demo_incident(env, directory, tmp_path, double: SendGridDouble):
    settings = Settings(data_dir=tmp_path, task_queue=f"sendgrid-{uuid.uuid4()}",
                        sendgrid_api_key="SG.test", sendgrid_host=double.url, sendgrid_timeout=1)
    request = IncidentRequest(title="Checkout is failing", severity="SEV2", service="checkout",
                              runbook="demo")
    async with build_worker(env.client, settings):
        handle = await start(env.client, prepare(request, REGISTRY, directory), settings.task_queue)
        try:
            yield handle
        finally:
            await handle.terminate("test finished")


def assert_bob_paged_at_ten_seconds(view: IncidentView) -> None:
    assert [(p.person, p.tier) for p in view.paged] == [("alice", 1), ("bob", 2)]
    assert TEN_SECONDS <= view.paged[1].at - view.paged[0].at < TEN_SECONDS + TASK_LATENCY


async def test_record_failure_and_keep_escalating_when_sendgrid_rejects(env, directory, tmp_path,
                                                                         sendgrid):
    double = sendgrid(400)
    async with demo_incident(env, directory, tmp_path, double) as handle:
        async def failures():
            view = await handle.query(IncidentWorkflow.incident)
            return [e for e in view.timeline if e.kind == "notification_failed"]

        [failure] = await eventually(failures)
        assert "Alice Martin" in failure.detail and "400" in failure.detail
        await env.sleep(TEN_SECONDS)
        assert_bob_paged_at_ten_seconds(await handle.query(IncidentWorkflow.incident))
        assert [r.recipient for r in double.requests][:1] == [ALICE]  # refused once, not retried
        assert [r.recipient for r in double.requests].count(ALICE) == 1


async def test_deliver_once_after_throttling_and_keep_escalating(env, directory, tmp_path, sendgrid):
    double = sendgrid(429, 202)
    async with demo_incident(env, directory, tmp_path, double) as handle:
        async def alice_accepted():
            return [r for r in double.accepted() if r.recipient == ALICE]

        assert len(await eventually(alice_accepted)) == 1
        await env.sleep(TEN_SECONDS)
        view = await handle.query(IncidentWorkflow.incident)
        assert_bob_paged_at_ten_seconds(view)
        assert [r.status for r in double.requests if r.recipient == ALICE] == [429, 202]
        assert not [e for e in view.timeline if e.kind == "notification_failed"]
