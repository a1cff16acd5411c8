"""A slow SendGrid neither multiplies nor delays emails, proved with the real ``sendgrid``
library talking HTTP to the local double: every call is recorded before it is made; when
SendGrid answers only after the client has given up, a notification is accepted at most
twice and then reported as unconfirmed, also through a real worker; an error answer does
not use up that allowance; a call never outlives its attempt; ``Retry-After`` (or
``X-RateLimit-Reset``) sets the next retry, also through a real worker; calls run on the
Notifier's own threads, which the worker gives activity slots to and stops with itself."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from pydantic import ValidationError
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from email_helpers import ALICE, demo_incident, page, sendgrid_settings, until
from sendgrid_double import HANG, Answer
from services.settings import Settings
from worker import build_worker
from workflows.activity_models import Notification
from workflows.incident import IncidentWorkflow


def attempt(start_to_close: float = 30.0) -> ActivityEnvironment:
    """An activity environment whose attempt has ``start_to_close`` seconds, as the worker's."""
    environment = ActivityEnvironment()
    environment.info = dataclasses.replace(
        environment.info, start_to_close_timeout=timedelta(seconds=start_to_close)
    )
    return environment


async def test_record_the_attempt_before_calling_sendgrid(tmp_path, sendgrid, notifier):
    double, note = sendgrid(Answer(202, delay=1.0)), page()
    sending = asyncio.ensure_future(attempt().run(notifier(double, timeout=5).send_email, note))
    assert await until(lambda: double.requests)
    sent = tmp_path / "outbox" / ".sent"
    assert (sent / f"{note.id}.try1").exists() and not (sent / note.id).exists()
    result = await sending
    assert (sent / note.id).read_text() == result.where == "sendgrid:msg-1"


async def test_accept_each_email_at_most_twice_when_sendgrid_answers_after_the_timeout(sendgrid, notifier):
    double = sendgrid(delay=1.5)  # every message accepted, the answer after the 0.5 s timeout
    send, notes = notifier(double, timeout=0.5), [page(f"inc1234567-{i:04d}-bob") for i in range(12)]

    async def retried(note: Notification) -> list[ApplicationError]:
        errors = []
        for _ in range(5):  # as Temporal retries a retryable failure
            try:
                await attempt().run(send.send_email, note)
            except ApplicationError as err:
                errors.append(err)
                if err.non_retryable:
                    break
        return errors

    outcomes = await asyncio.gather(*(retried(note) for note in notes))
    assert await until(lambda: double.in_flight == 0)
    for errors in outcomes:
        assert [e.non_retryable for e in errors] == [False, False, True]
        assert errors[-1].type == "EmailUnconfirmed" and "may have been delivered" in errors[-1].message
    assert double.deliveries() == {note.id: 2 for note in notes}  # 24 accepted, not 60


async def test_keep_the_allowance_when_sendgrid_answers_with_an_error(sendgrid, notifier):
    double, note = sendgrid(Answer(202, delay=1.5), 503, 503, 429, 202), page()
    send = notifier(double, timeout=0.5)
    for _ in range(4):  # no answer in time, then three refusals: nothing more accepted
        with pytest.raises(ApplicationError) as raised:
            await attempt().run(send.send_email, note)
        assert not raised.value.non_retryable
    result = await attempt().run(send.send_email, note)  # the one further call allowed
    again = await attempt().run(send.send_email, note)
    assert result.where == again.where == "sendgrid:msg-5" and len(double.requests) == 5
    assert await until(lambda: double.in_flight == 0)
    assert double.deliveries() == {note.id: 2}


async def test_end_the_call_within_the_attempt_when_the_client_timeout_is_longer(sendgrid, notifier):
    send, began = notifier(sendgrid(HANG), timeout=20), time.monotonic()
    with pytest.raises(ApplicationError) as raised:
        await attempt(start_to_close=3).run(send.send_email, page())
    assert time.monotonic() - began < 10  # not the client's 20 s
    assert not raised.value.non_retryable


@pytest.mark.parametrize("status", [429, 503])
@pytest.mark.parametrize(
    ("headers", "low", "high"),
    [
        ({"Retry-After": "7"}, 7, 7),
        ({"Retry-After": "{in_two_minutes}"}, 110, 121),  # an HTTP date
        ({"X-RateLimit-Reset": "{reset}"}, 25, 31),  # SendGrid's Unix time of the reset
        ({"Retry-After": "86400"}, 600, 600),  # cut to ten minutes
    ],
)
async def test_retry_when_sendgrid_says(sendgrid, notifier, status, headers, low, high):
    in_two_minutes = format_datetime(datetime.now(UTC) + timedelta(seconds=120), usegmt=True)
    fill = {"reset": int(time.time()) + 30, "in_two_minutes": in_two_minutes}
    headers = {name: value.format(**fill) for name, value in headers.items()}
    double = sendgrid(Answer(status, headers=headers))
    with pytest.raises(ApplicationError) as raised:
        await attempt().run(notifier(double, timeout=0.5).send_email, page())
    delay = raised.value.next_retry_delay
    assert not raised.value.non_retryable and delay is not None
    assert timedelta(seconds=low) <= delay <= timedelta(seconds=high)


async def test_leave_the_retry_to_the_policy_when_sendgrid_gives_no_wait(sendgrid, notifier):
    with pytest.raises(ApplicationError) as raised:
        await attempt().run(notifier(sendgrid(429), timeout=0.5).send_email, page())
    assert raised.value.next_retry_delay is None and not raised.value.non_retryable


async def test_run_sendgrid_calls_side_by_side_on_the_notifiers_threads(sendgrid, notifier):
    double = sendgrid(delay=1.0)
    send, notes = notifier(double, timeout=10), [page(f"inc1234567-{i:04d}-bob") for i in range(20)]
    results = await asyncio.gather(*(attempt().run(send.send_email, note) for note in notes))
    assert all(r.delivered for r in results) and double.deliveries() == {n.id: 1 for n in notes}
    assert double.max_in_flight >= 10  # Python's default pool has 6 threads on this machine


def test_allow_a_sendgrid_timeout_up_to_45_seconds():
    assert Settings().sendgrid_timeout == 30 and Settings().sendgrid_threads == 32
    assert Settings(sendgrid_timeout=45).sendgrid_timeout == 45
    with pytest.raises(ValidationError):
        Settings(sendgrid_timeout=46)


# -- through a real worker on a dev server (real time: retry delays are real) ----------------


async def test_wait_as_long_as_sendgrid_asks_before_sending_again(dev_env, directory, tmp_path, sendgrid):
    throttled = Answer(429, headers={"Retry-After": "3"})
    double = sendgrid(throttled, throttled, 202)
    async with demo_incident(dev_env.client, directory, sendgrid_settings(tmp_path, double)):
        assert await until(lambda: [r for r in double.accepted() if r.recipient == ALICE])
    alice = [r for r in double.requests if r.recipient == ALICE]
    assert [r.status for r in alice] == [429, 429, 202]
    # After the page's first attempt the workflow waits the 3 s asked for before retrying,
    # and Temporal's retry of the activity does too (the policy alone: 1 s).
    assert alice[1].arrived - alice[0].arrived >= 2.9
    assert alice[2].arrived - alice[1].arrived >= 2.9


async def test_report_an_unconfirmed_page_after_two_unanswered_sends(dev_env, directory, tmp_path, sendgrid):
    double = sendgrid(delay=2.5)  # accepted at once, answered after the 1 s timeout
    async with demo_incident(dev_env.client, directory, sendgrid_settings(tmp_path, double)) as handle:

        async def alice_unconfirmed():
            view = await handle.query(IncidentWorkflow.incident)
            return [
                e
                for e in view.timeline
                if e.kind.endswith("_failed") and "Alice" in e.detail and "may have been" in e.detail
            ]

        assert await until(alice_unconfirmed, timeout=30)
    assert await until(lambda: double.in_flight == 0)
    assert [r.recipient for r in double.accepted()].count(ALICE) == 2


async def test_give_every_sendgrid_thread_an_activity_slot_and_stop_them_with_the_worker(
    dev_env, tmp_path, sendgrid
):
    settings = sendgrid_settings(tmp_path, sendgrid(202), sendgrid_threads=150)
    async with build_worker(dev_env.client, settings) as worker:
        assert worker.config()["max_concurrent_activities"] >= 150
        pool = worker.notifier.pool
        assert pool.submit(lambda: "running").result() == "running"
    with pytest.raises(RuntimeError):  # shut down with the worker
        pool.submit(lambda: "after")
