"""Email through SendGrid keeps the retry contract of activities/notify.py, proved with the
real ``sendgrid`` library talking HTTP to a local double: an accepted message is sent as
built, with the API key, exactly once even when retried; throttling, outages and a hung
connection are retried; a refusal is final. Through a real worker, a refused page is
written on the timeline, a throttled one is delivered once, and neither delays tier 2."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from email_helpers import ALICE, demo_incident, page, sendgrid_settings, until
from sendgrid_double import HANG
from workflows.incident import IncidentWorkflow
from workflows.models import IncidentView

TEN_SECONDS, TASK_LATENCY = timedelta(seconds=10), timedelta(milliseconds=500)


async def test_deliver_page_as_built_when_sendgrid_accepts(sendgrid, notifier):
    send, note = notifier(double := sendgrid(202)), page()
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
async def test_raise_retryable_error_when_sendgrid_throttles_or_fails(sendgrid, notifier, status):
    double = sendgrid(status)
    with pytest.raises(ApplicationError) as raised:
        await ActivityEnvironment().run(notifier(double).send_email, page())
    assert raised.value.non_retryable is False and str(status) in raised.value.message
    assert double.statuses() == [status]


@pytest.mark.parametrize("status", [400, 401])
async def test_reject_email_for_good_when_sendgrid_refuses(sendgrid, notifier, status):
    double = sendgrid(status)
    with pytest.raises(ApplicationError) as raised:
        await ActivityEnvironment().run(notifier(double).send_email, page())
    assert raised.value.type == "EmailRejected" and raised.value.non_retryable is True
    assert str(status) in raised.value.message


async def test_send_once_when_delivered_notification_is_retried(sendgrid, notifier):
    send = notifier(double := sendgrid(202))
    first = await ActivityEnvironment().run(send.send_email, page())
    second = await ActivityEnvironment().run(send.send_email, page())
    assert first.delivered and second.delivered and second.where == first.where == "sendgrid:msg-1"
    assert len(double.requests) == 1


async def test_retry_after_client_timeout_when_sendgrid_hangs(sendgrid, notifier):
    double = sendgrid(HANG, 202)
    send, started = notifier(double), asyncio.get_running_loop().time()
    with pytest.raises(ApplicationError) as raised:
        await ActivityEnvironment().run(send.send_email, page())
    assert asyncio.get_running_loop().time() - started < 5  # gave up after the 1 s timeout
    # Sent with no answer: it may have been delivered, and Temporal retries it.
    assert raised.value.type == "EmailUnanswered" and not raised.value.non_retryable
    result = await ActivityEnvironment().run(send.send_email, page())
    assert result.where == "sendgrid:msg-2" and len(double.accepted()) == 1


# -- through a real worker on the time-skipping server ---------------------------------


async def failures(handle) -> list:
    view = await handle.query(IncidentWorkflow.incident)
    return [e for e in view.timeline if e.kind in ("page_failed", "notification_failed")]


def assert_bob_paged_at_ten_seconds(view: IncidentView) -> None:
    assert [(p.person, p.tier) for p in view.paged] == [("alice", 1), ("bob", 2)]
    assert TEN_SECONDS <= view.paged[1].at - view.paged[0].at < TEN_SECONDS + TASK_LATENCY


async def test_record_failure_and_page_tier_two_at_once_when_sendgrid_rejects(
    env, directory, tmp_path, sendgrid
):
    async with demo_incident(
        env.client, directory, sendgrid_settings(tmp_path, double := sendgrid(400))
    ) as handle:
        failure = (await until(lambda: failures(handle)))[0]
        assert failure.kind == "page_failed"
        assert "Alice Martin" in failure.detail and "400" in failure.detail
        view = await handle.query(IncidentWorkflow.incident)
        # Nobody in tier one can be reached: tier two is paged now, not after the timeout.
        assert [(p.person, p.tier) for p in view.paged][:2] == [("alice", 1), ("bob", 2)]
        assert view.paged[1].at - view.paged[0].at < TEN_SECONDS
        assert "undeliverable" in view.flags
        assert any(e.kind == "escalated" and "could be paged" in e.detail for e in view.timeline)
        assert [r.recipient for r in double.requests].count(ALICE) == 1  # refused, not retried


async def test_deliver_once_and_page_tier_two_when_sendgrid_throttles(env, directory, tmp_path, sendgrid):
    async with demo_incident(
        env.client, directory, sendgrid_settings(tmp_path, double := sendgrid(429, 202))
    ) as handle:

        async def alice_accepted():
            return [r for r in double.accepted() if r.recipient == ALICE]

        assert len(await until(alice_accepted)) == 1
        await env.sleep(TEN_SECONDS)
        assert_bob_paged_at_ten_seconds(await handle.query(IncidentWorkflow.incident))
        assert [r.status for r in double.requests if r.recipient == ALICE] == [429, 202]
        assert await failures(handle) == []
