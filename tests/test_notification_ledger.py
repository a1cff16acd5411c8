"""The notification ledger in the application database: workers on two hosts (two outboxes,
one database) retrying the same emails against a slow SendGrid have each accepted at most
twice, and an accepted one never again; a database that is down or hung does not delay a
page (the host's own record takes over for that email, and a later retry still finds it).
Real ``sendgrid`` library, real HTTP to the local double, SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.ledger import DatabaseLedger, FileLedger
from email_helpers import page, until
from store import notifications
from store.db import engine_for, migrate
from workflows.activity_models import Notification


def attempt() -> ActivityEnvironment:
    environment = ActivityEnvironment()
    environment.info = dataclasses.replace(environment.info, start_to_close_timeout=timedelta(seconds=30))
    return environment


def host(engine: Engine, tmp_path: Path, name: str, wait: float = 3.0) -> DatabaseLedger:
    """One host's ledger: the shared database, and its own outbox folder."""
    return DatabaseLedger(engine, FileLedger(tmp_path / name / ".sent"), wait=wait)


async def retried(send, note: Notification) -> list[ApplicationError]:
    """Run the activity as Temporal retries a retryable failure, until it succeeds or gives up."""
    errors = []
    for _ in range(5):
        try:
            await attempt().run(send.send_email, note)
            return errors
        except ApplicationError as err:
            errors.append(err)
            if err.non_retryable:
                break
    return errors


async def test_two_hosts_sharing_the_database_send_each_email_at_most_twice(
    engine, tmp_path, sendgrid, notifier
):
    double = sendgrid(delay=1.5)  # every message accepted, the answer after the 0.5 s timeout
    hosts = [notifier(double, timeout=0.5, ledger=host(engine, tmp_path, name)) for name in ("a", "b")]
    notes = [page(f"inc1234567-{i:04d}-bob") for i in range(6)]
    # Each retry of each email runs on either host, both at once.
    outcomes = await asyncio.gather(*(retried(send, note) for note in notes for send in hosts))
    assert await until(lambda: double.in_flight == 0)
    assert double.deliveries() == {note.id: 2 for note in notes}  # not 4: the hosts share one ledger
    assert all(errors[-1].type == "EmailUnconfirmed" for errors in outcomes)
    stored = notifications.get(engine, notes[0].id)
    assert stored is not None and stored.attempts == 2 and "no answer" in (stored.error or "")
    assert not list((tmp_path / "a" / ".sent").iterdir())  # nothing fell back to local files


async def test_an_email_accepted_on_one_host_is_not_sent_again_from_another(
    engine, tmp_path, sendgrid, notifier
):
    double, note = sendgrid(202), page()
    first = await attempt().run(notifier(double, ledger=host(engine, tmp_path, "a")).send_email, note)
    again = await attempt().run(notifier(double, ledger=host(engine, tmp_path, "b")).send_email, note)
    assert first.where == again.where == "sendgrid:msg-1"
    assert double.deliveries() == {note.id: 1}
    stored = notifications.get(engine, note.id)
    assert stored is not None and (stored.status, stored.provider_message_id) == ("sent", "sendgrid:msg-1")
    assert (stored.incident_id, stored.person_id, stored.kind) == ("inc1234567", "bob", "page")


async def test_an_error_answer_does_not_use_up_the_allowance_across_hosts(
    engine, tmp_path, sendgrid, notifier
):
    double, note = sendgrid(503, 429, 503, 202), page()
    hosts = [notifier(double, ledger=host(engine, tmp_path, name)) for name in ("a", "b")]
    for number in range(3):
        with pytest.raises(ApplicationError) as raised:
            await attempt().run(hosts[number % 2].send_email, note)
        assert not raised.value.non_retryable
    assert (await attempt().run(hosts[1].send_email, note)).delivered
    assert double.deliveries() == {note.id: 1}


async def test_a_database_that_is_down_does_not_delay_a_page(tmp_path, sendgrid, notifier):
    down = engine_for("postgresql://nobody@127.0.0.1:1/none", tmp_path)  # connection refused
    double, note = sendgrid(202), page()
    send = notifier(double, ledger=host(down, tmp_path, "a"))
    began = time.monotonic()
    result = await attempt().run(send.send_email, note)
    assert result.delivered and time.monotonic() - began < 5
    assert (tmp_path / "a" / ".sent" / note.id).read_text() == "sendgrid:msg-1"  # this host's record
    # The database is back (here: another one); a retry on this host still does not send again.
    back = engine_for(None, tmp_path / "back")
    migrate(back)
    again = await attempt().run(notifier(double, ledger=host(back, tmp_path, "a")).send_email, note)
    assert again.where == "sendgrid:msg-1" and double.deliveries() == {note.id: 1}


async def test_a_hung_database_costs_a_page_the_ledgers_wait_at_most(tmp_path, sendgrid, notifier):
    engine = engine_for(None, tmp_path)
    migrate(engine)
    double, note = sendgrid(202), page()
    send = notifier(double, ledger=host(engine, tmp_path, "a", wait=0.5))
    with engine.connect() as holder:  # another writer holds SQLite's write lock (30 s busy timeout)
        holder.execute(sa.text("SELECT 1"))  # BEGIN IMMEDIATE: the lock is taken
        began = time.monotonic()
        result = await attempt().run(send.send_email, note)
        waited = time.monotonic() - began
        holder.rollback()
    assert result.delivered and waited < 5 and double.deliveries() == {note.id: 1}
    assert (tmp_path / "a" / ".sent" / note.id).exists()
