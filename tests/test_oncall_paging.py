"""Tiers that page a schedule, on a time-skipping server with the real worker and database:
whoever is on call is resolved when the tier pages, at the workflow's time, and the answer
goes on the timeline; a hand-off 3 minutes into a 10-minute tier pages the incoming person
at +3 min (unless the tier keeps the outgoing one); an empty tier skips at +0, waits its
timeout, or pages its fallback; a ladder that pages nobody pages the last resort; an
override made during an incident is paged at the next tier."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import oncall_runbooks
import pytest

from conftest import update
from schedules.models import Layer, OverrideSpec, Rotation, ScheduleSpec, Shift, ShiftUnit
from services.database import open_database
from services.opening import prepare, start
from store import schedules as stored
from worker import build_worker
from workflows.incident import IncidentWorkflow
from workflows.models import IncidentRequest, IncidentView, ResponderAction
from workflows.scenario_registry import registry_on


def rotation(
    name: str, people: list[str], anchor: datetime, shift: timedelta = timedelta(days=1)
) -> ScheduleSpec:
    unit = Shift(unit=ShiftUnit.DAY, count=1) if shift == timedelta(days=1) else Shift(unit=ShiftUnit.WEEK)
    layer = Layer(
        name="main", rotation=Rotation(participants=people, anchor=anchor.replace(tzinfo=None), shift=unit)
    )
    return ScheduleSpec(name=name, time_zone="UTC", layers=[layer])


@pytest.fixture
async def paging(env, settings, directory):
    """``open(runbook)``: an incident of the on-call runbooks; the database to put schedules in."""
    engine = open_database(settings)
    now = (await env.get_current_time()).astimezone(UTC)
    ended = Layer(
        name="gone",
        rotation=Rotation(
            participants=["erin"], anchor=datetime(2020, 1, 1), shift=Shift(unit=ShiftUnit.WEEK)
        ),
        end=now - timedelta(days=1),
    )
    stored.create(engine, "nobody", ScheduleSpec(name="Nobody", time_zone="UTC", layers=[ended]), "test")
    # alice until 3 minutes from now, then dave (a daily rotation handing off then)
    stored.create(
        engine,
        "rota",
        rotation("Rota", ["alice", "dave"], now + timedelta(minutes=3) - timedelta(days=1)),
        "test",
    )
    stored.create(
        engine, "steady", rotation("Steady", ["alice"], now - timedelta(days=1), timedelta(weeks=1)), "test"
    )
    opened = []

    async def open_incident(runbook: str):
        request = IncidentRequest(title="Disk full", severity="SEV2", service="storage", runbook=runbook)
        handle = await start(
            env.client, prepare(request, oncall_runbooks.REGISTRY, directory), settings.task_queue
        )
        opened.append(handle)
        return handle

    with registry_on(settings.task_queue, oncall_runbooks.MODULE):
        async with build_worker(env.client, settings):
            yield open_incident, engine, now
            for handle in opened:
                await handle.terminate("test finished")


async def view_after(env, handle, wait: timedelta) -> IncidentView:
    await env.sleep(wait)
    return await handle.query(IncidentWorkflow.incident)


def paged_at(view: IncidentView) -> dict[str, timedelta]:
    """When each person was first paged, from the incident's start."""
    found: dict[str, timedelta] = {}
    for page in view.paged:
        found.setdefault(page.person, page.at - view.timeline[0].at)
    return found


def kinds(view: IncidentView, kind: str) -> list[str]:
    return [e.detail for e in view.timeline if e.kind == kind]


async def test_a_hand_off_during_a_tier_pages_the_incoming_person_then(env, paging):
    open_incident, _, _ = paging
    handle = await open_incident("rota")
    view = await view_after(env, handle, timedelta(minutes=11))
    at = paged_at(view)
    assert at["alice"] < timedelta(seconds=2)
    assert timedelta(minutes=3) - timedelta(seconds=3) <= at["dave"] <= timedelta(minutes=3, seconds=2)
    assert timedelta(minutes=10) <= at["bob"] < timedelta(minutes=10, seconds=3)  # the tier's own timeout
    answers = kinds(view, "oncall")
    assert "schedule rota (revision 1): Alice Martin; layer main" in answers[0]
    assert "Dave Okafor" in answers[1] and kinds(view, "handoff") == ["tier 1 (primary): Dave Okafor"]


async def test_a_tier_that_keeps_the_outgoing_person_pages_nobody_at_the_hand_off(env, paging):
    open_incident, _, _ = paging
    view = await view_after(env, await open_incident("rota-keep"), timedelta(minutes=11))
    assert set(paged_at(view)) == {"alice", "bob"} and not kinds(view, "handoff")


async def test_an_empty_tier_skips_at_once_by_default(env, paging):
    open_incident, _, _ = paging
    view = await view_after(env, await open_incident("empty-skip"), timedelta(minutes=1))
    assert paged_at(view)["bob"] < timedelta(seconds=2)
    assert kinds(view, "no_one_on_call") == ["nobody on call in tier 1 (primary): escalating at once"]
    assert "nobody on call" in kinds(view, "oncall")[0]


async def test_an_empty_tier_that_waits_escalates_at_its_timeout(env, paging):
    open_incident, _, _ = paging
    view = await view_after(env, await open_incident("empty-wait"), timedelta(minutes=11))
    assert timedelta(minutes=10) <= paged_at(view)["bob"] < timedelta(minutes=10, seconds=3)


async def test_an_empty_tier_pages_its_fallback(env, paging):
    open_incident, _, _ = paging
    view = await view_after(env, await open_incident("empty-fallback"), timedelta(minutes=1))
    assert paged_at(view)["dave"] < timedelta(seconds=2) and "bob" not in paged_at(view)


async def test_a_ladder_that_pages_nobody_pages_the_last_resort(env, paging):
    open_incident, _, _ = paging
    view = await view_after(env, await open_incident("nobody-anywhere"), timedelta(minutes=1))
    assert set(paged_at(view)) == {"carol"}
    assert kinds(view, "last_resort") == ["nobody was on call in any tier: paging Carol Diaz"]
    assert "schedule missing: no such schedule" in kinds(view, "oncall")


async def test_an_override_made_during_an_incident_is_paged_at_the_next_tier(env, paging):
    open_incident, engine, now = paging
    handle = await open_incident("same-schedule-twice")
    await env.sleep(timedelta(minutes=2))
    start_at = (await env.get_current_time()).astimezone(UTC)
    override = OverrideSpec(start=start_at, end=start_at + timedelta(hours=2), add="dave", remove="alice")
    made = stored.add_override(engine, "steady", override, "test")
    view = await view_after(env, handle, timedelta(minutes=9))
    assert set(paged_at(view)) == {"alice", "dave"} and paged_at(view)["dave"] >= timedelta(minutes=10)
    assert f"override {made.id}" in kinds(view, "oncall")[-1]
    await update(handle, IncidentWorkflow.acknowledge, ResponderAction(responder="dave"))
