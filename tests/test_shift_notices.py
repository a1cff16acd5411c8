"""Shift notices on a time-skipping server with the real worker and database: the watch of
a schedule emails whoever comes on call a reminder ahead of the hand-off and a notice when
it happens (nobody else, nothing before its time); an edit of the schedule, told to the
watch, moves the notices to the new person."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from schedules.models import Layer, Rotation, ScheduleSpec, Shift, ShiftUnit
from services.database import open_database
from services.shift_watch import watch
from store import schedules as stored
from worker import build_worker
from workflows import contract

REMIND = "Reminder: you are on call for Night"
STARTED = "You are now on call for Night"


def night(people: list[str], handoff: datetime) -> ScheduleSpec:
    """A daily rotation in UTC handing over from the first to the second at ``handoff``."""
    anchor = (handoff - timedelta(days=1)).astimezone(UTC).replace(tzinfo=None)
    rotation = Rotation(participants=people, anchor=anchor, shift=Shift(unit=ShiftUnit.DAY))
    return ScheduleSpec(name="Night", time_zone="UTC", layers=[Layer(name="nights", rotation=rotation)])


def notices(outbox, subject: str) -> list[str]:
    """The recipients of the shift emails whose subject starts with ``subject``."""
    return [
        m["personalizations"][0]["to"][0]["email"]
        for m in outbox.messages()
        if m["subject"].startswith(subject)
    ]


@pytest.fixture
async def watched(env, settings):
    """``watch()``: the ``night`` schedule's watch started (or told of a change), with a
    one-hour reminder; the database, and the server's time when the schedule was made."""
    engine = open_database(settings)
    now = (await env.get_current_time()).astimezone(UTC)
    stored.create(engine, "night", night(["alice", "dave"], now + timedelta(hours=2)), "test")

    async def tell() -> None:
        await watch(env.client, settings.task_queue, ["night"], timedelta(hours=1))

    async with build_worker(env.client, settings):
        yield tell, engine, now
        await env.client.get_workflow_handle(contract.shift_watch_id("night")).terminate("test finished")


async def test_remind_and_announce_only_the_incoming_person(env, watched, outbox):
    tell, _, _ = watched
    await tell()
    await env.sleep(timedelta(minutes=55))
    assert not notices(outbox, REMIND) and not notices(outbox, STARTED)
    await env.sleep(timedelta(minutes=10))
    assert notices(outbox, REMIND) == ["dave@example.com"]
    assert not notices(outbox, STARTED)
    await env.sleep(timedelta(hours=1))
    assert notices(outbox, STARTED) == ["dave@example.com"]
    [email] = [m for m in outbox.messages() if m["subject"].startswith(STARTED)]
    assert (
        "schedule:night" in email["content"][0]["value"]
        and "/schedules/night" in email["content"][0]["value"]
    )


async def test_an_edit_moves_the_notices_to_the_new_person(env, watched, outbox):
    tell, engine, now = watched
    await tell()
    await env.sleep(timedelta(minutes=30))
    stored.update(engine, "night", night(["alice", "erin"], now + timedelta(hours=2)), "test")
    await tell()  # as the API does after every edit
    await env.sleep(timedelta(hours=1, minutes=40))
    assert notices(outbox, REMIND) == ["erin@example.com"]
    assert notices(outbox, STARTED) == ["erin@example.com"]
