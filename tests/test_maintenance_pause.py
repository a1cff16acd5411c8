"""Pauses of incidents already open (time-skipping, real worker): a maintenance window
started mid-tier pages nobody during the window, then pages the tier again at its end with
a fresh timer, and the next tier one timeout later; resolving during a window closes the
incident; a window ended early pages at once; a window of another service changes nothing;
an incident opened inside a window pages nobody until it ends; waiting on a vendor moves
the SLA deadline by the paused time."""

from __future__ import annotations

import functools
from datetime import UTC, timedelta

import pytest
from temporalio.client import WorkflowUpdateFailedError
from test_snooze import opened, pages  # noqa: F401 - the fixture

from conftest import update
from workflows import contract
from workflows.incident import IncidentWorkflow
from workflows.models import ClockPause, IncidentView, ResponderAction
from workflows.pauses import MaintenanceNotice, Pause, PauseKind
from workflows.targets import SlaPolicy, Target
from workflows.vocabulary import Goal, Severity

POLICY = SlaPolicy(
    name="default",
    warn_at=[0.5],
    on_breach=[],
    targets={Severity.SEV2: [Target(goal=Goal.RESOLVE, within=timedelta(hours=1))]},
)


@pytest.fixture
def plain(opened):  # noqa: F811 - the fixture imported above
    """The snooze tests' ``opened``, for the plain runbook held to ``POLICY``."""
    return functools.partial(opened, "plain", policies={"default": POLICY})


async def window(env, handle, lasting: timedelta, service: str = "storage", lifted: bool = False) -> None:
    now = (await env.get_current_time()).astimezone(UTC)
    notice = MaintenanceNotice(
        window="mw-1", services=[service], start=now, until=now + lasting, reason="db upgrade", lifted=lifted
    )
    await handle.signal(contract.MAINTENANCE, notice)


async def view_after(env, handle, wait: timedelta) -> IncidentView:
    await env.sleep(wait)
    return await handle.query(IncidentWorkflow.incident)


async def test_a_window_started_mid_tier_pages_nobody_then_the_tier_again_with_a_fresh_timer(env, plain):
    handle = await plain()
    await env.sleep(timedelta(minutes=4))
    await window(env, handle, timedelta(hours=1))  # from +4 min to +64 min
    view = await view_after(env, handle, timedelta(minutes=59))  # +63 min
    assert [who for who, _ in pages(view)] == ["alice"]  # bob was due at +10 min without it
    assert [e.kind for e in view.timeline].count("paused") == 1 and view.pauses
    view = await view_after(env, handle, timedelta(minutes=2))  # +65 min: over, tier 1 again
    (_, _), (again, at) = pages(view)
    assert again == "alice" and timedelta(minutes=64) <= at < timedelta(minutes=64, seconds=2)
    assert "unpaused" in [e.kind for e in view.timeline] and not view.pauses
    view = await view_after(env, handle, timedelta(minutes=10))  # +75 min: a fresh 10-minute timer
    (who, at) = pages(view)[-1]
    assert who == "bob" and timedelta(minutes=74) <= at < timedelta(minutes=74, seconds=2)


async def test_a_resolve_during_a_window_closes_the_incident(env, plain):
    handle = await plain()
    await env.sleep(timedelta(minutes=1))
    await window(env, handle, timedelta(hours=2))
    await env.sleep(timedelta(minutes=30))
    view = await update(handle, IncidentWorkflow.resolve, ResponderAction(responder="alice"))
    assert view.state == "resolved"
    await env.sleep(timedelta(hours=3))
    described = await handle.describe()
    assert described.status.name == "COMPLETED"
    assert [who for who, _ in pages(await handle.result())] == ["alice"]


async def test_a_window_ended_early_pages_the_tier_at_once(env, plain):
    handle = await plain()
    await env.sleep(timedelta(minutes=5))
    await window(env, handle, timedelta(hours=6))
    await env.sleep(timedelta(minutes=20))  # +25 min
    await window(env, handle, timedelta(hours=6), lifted=True)
    view = await view_after(env, handle, timedelta(seconds=5))
    (who, at) = pages(view)[-1]
    assert who == "alice" and timedelta(minutes=25) <= at < timedelta(minutes=25, seconds=5)
    assert "ended early" in [e for e in view.timeline if e.kind == "unpaused"][0].detail


async def test_a_window_of_another_service_changes_nothing(env, plain):
    handle = await plain()
    await env.sleep(timedelta(minutes=4))
    await window(env, handle, timedelta(hours=1), service="payments")
    view = await view_after(env, handle, timedelta(minutes=7))
    assert [who for who, _ in pages(view)] == ["alice", "bob"] and not view.pauses


async def test_an_incident_opened_in_a_window_pages_nobody_until_it_ends(env, plain):
    now = (await env.get_current_time()).astimezone(UTC)
    pause = Pause(
        key="maintenance:mw-2",
        kind=PauseKind.MAINTENANCE,
        reason="deploy",
        since=now,
        until=now + timedelta(hours=1),
    )
    handle = await plain(pauses=[pause])
    view = await view_after(env, handle, timedelta(minutes=59))
    assert view.paged == [] and view.timeline[1].kind == "paused"
    view = await view_after(env, handle, timedelta(minutes=2))
    assert [who for who, _ in pages(view)] == ["alice"]


async def test_waiting_on_a_vendor_moves_the_deadline_by_the_paused_time(env, plain):
    handle = await plain()
    await env.sleep(timedelta(minutes=10))
    due = (await handle.query(IncidentWorkflow.incident)).sla.targets[0].due
    paused = await update(
        handle, IncidentWorkflow.pause_clocks, ClockPause(responder="alice", reason="waiting on the vendor")
    )
    assert paused.sla.paused_since is not None
    await env.sleep(timedelta(minutes=30))
    view = await update(handle, IncidentWorkflow.pause_clocks, ClockPause(responder="alice", resume=True))
    moved = view.sla.targets[0].due - due  # the 30 minutes paused (and the update's few ms)
    assert timedelta(minutes=30) <= moved < timedelta(minutes=30, seconds=1)
    view = await view_after(env, handle, timedelta(minutes=49))  # +89 min: not breached yet
    assert "sla_breached" not in [e.kind for e in view.timeline]
    view = await view_after(env, handle, timedelta(minutes=2))  # +91 min: the moved deadline passed
    assert [e.kind for e in view.timeline].count("sla_breached") == 1
    with pytest.raises(WorkflowUpdateFailedError):  # nothing to resume
        await update(handle, IncidentWorkflow.pause_clocks, ClockPause(responder="alice", resume=True))
