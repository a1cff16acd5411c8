"""Response and resolution targets. On a time-skipping server with the real worker: warnings
at 50 % and 80 % of a target's time, a breach exactly at the deadline and once, written on
the timeline, flagged (``IncidentFlags``, ``SlaBreached``) and paging management; targets
met in time are never breached; a SEV3 raised to SEV1 after 50 minutes breaches its
15-minute acknowledgement target at once. Through the API: the severity route."""

from __future__ import annotations

from datetime import timedelta

import pytest

from conftest import update
from runbooks import REGISTRY
from runbooks.sla_seed import load_policies
from services.opening import prepare, start
from services.settings import RUNBOOKS_DIR
from workflows import contract
from workflows.incident import IncidentWorkflow
from workflows.models import IncidentRequest, IncidentView, ResponderAction, SeverityChange
from workflows.targets import SlaPolicy

POLICY = SlaPolicy.model_validate(
    {
        "name": "default",
        "targets": {
            "SEV1": [{"goal": "acknowledge", "within": "PT15M"}, {"goal": "resolve", "within": "PT4H"}],
            "SEV3": [{"goal": "acknowledge", "within": "PT2H"}, {"goal": "resolve", "within": "PT24H"}],
            "SEV2": [{"goal": "acknowledge", "within": "PT10M"}],
        },
    }
)
POLICIES = {"default": POLICY, "demo": POLICY}  # whichever the runbook names


def entries(view: IncidentView, kind: str) -> list[tuple[timedelta, str]]:
    """(time since the start, detail) of each timeline entry of ``kind``."""
    start = view.timeline[0].at
    return [(e.at - start, e.detail) for e in view.timeline if e.kind == kind]


async def opened(env, settings, directory, severity: str, runbook: str = "default"):
    request = IncidentRequest(
        title="Checkout is failing", severity=severity, service="checkout", runbook=runbook
    )
    data = prepare(request, REGISTRY, directory, policies=POLICIES)
    return await start(env.client, data, settings.task_queue)


@pytest.fixture
async def worker(env, settings):
    from worker import build_worker

    async with build_worker(env.client, settings):
        yield


async def test_warn_then_breach_at_the_deadline_once(env, settings, directory, worker):
    handle = await opened(env, settings, directory, "SEV2", runbook="demo")  # nobody acknowledges
    await env.sleep(timedelta(minutes=30))
    view = await handle.query(IncidentWorkflow.incident)
    warnings = entries(view, "sla_warning")
    assert [round(at.total_seconds()) for at, _ in warnings] == [300, 480]
    assert warnings[0][1].startswith("acknowledge: 50% of 10 min gone")
    [(at, detail)] = entries(view, "sla_breached")
    assert timedelta(minutes=10) <= at < timedelta(minutes=10, seconds=1)
    assert detail == "acknowledge not within 10 min"
    assert "sla-breached" in view.flags
    assert view.sla is not None and view.sla.breached and view.sla.targets[0].breached_at is not None
    # management (Carol, for the demo runbook) is paged by the breach, as the policy says
    assert [
        p for p in view.paged if p.person == "carol" and p.at - view.timeline[0].at >= timedelta(minutes=10)
    ]
    attributes = (await handle.describe()).typed_search_attributes
    assert attributes.get(contract.SLA_BREACHED) is True
    await handle.terminate("test finished")


async def test_targets_met_in_time_are_never_breached(env, settings, directory, worker):
    handle = await opened(env, settings, directory, "SEV1")
    await env.sleep(timedelta(minutes=9))  # a warning at 7.5 min, then the acknowledgement
    await update(handle, IncidentWorkflow.acknowledge, ResponderAction(responder="alice"))
    await env.sleep(timedelta(minutes=20))
    await update(handle, IncidentWorkflow.resolve, ResponderAction(responder="alice"))
    view = await handle.result()
    assert [d for _, d in entries(view, "sla_warning")] == [
        "acknowledge: 50% of 15 min gone, due " + view.sla.targets[0].due.strftime("%H:%M:%S UTC")
    ]
    assert not entries(view, "sla_breached") and "sla-breached" not in view.flags
    assert all(t.met_at is not None and t.breached_at is None for t in view.sla.targets)


async def test_a_raise_to_sev1_after_50_minutes_breaches_at_once(env, settings, directory, worker):
    handle = await opened(env, settings, directory, "SEV3")
    await env.sleep(timedelta(minutes=50))
    change = SeverityChange(responder="bob", severity="SEV1", note="customers affected")
    await update(handle, IncidentWorkflow.set_severity, change)
    await env.sleep(timedelta(seconds=2))
    view = await handle.query(IncidentWorkflow.incident)
    assert view.severity == "SEV1"
    [(changed_at, detail)] = entries(view, "severity_changed")
    assert detail == "SEV3 -> SEV1: customers affected"
    [(at, breach)] = entries(view, "sla_breached")
    assert at - changed_at < timedelta(seconds=1)  # at once, and it says why
    assert breach == "acknowledge not within 15 min (already 35 min past it)"
    assert not [w for w in entries(view, "sla_warning") if w[0] >= changed_at]  # no stale warnings
    assert (await handle.describe()).typed_search_attributes.get(contract.SEVERITY) == "SEV1"
    await handle.terminate("test finished")


def test_the_shipped_policies_load_and_the_demo_has_second_scale_targets():
    policies = load_policies(RUNBOOKS_DIR / "sla.yaml")
    assert {"default", "demo"} <= set(policies)
    assert max(t.within for t in policies["demo"].targets["SEV2"]) < timedelta(minutes=2)


async def test_change_the_severity_through_the_api(api):
    key = {"Authorization": "Bearer test-key"}
    body = {"title": "Checkout is failing", "severity": "SEV3", "service": "checkout", "runbook": "demo"}
    created = (await api.post("/api/incidents", json=body, headers=key)).json()
    url = f"/api/incidents/{created['id']}/severity"
    raised = await api.post(url, json={"responder": "bob", "severity": "SEV1"}, headers=key)
    assert raised.status_code == 200, raised.text
    assert raised.json()["severity"] == "SEV1"
    assert raised.json()["sla"]["policy"] == "demo" and raised.json()["sla"]["severity"] == "SEV1"
    again = await api.post(url, json={"responder": "bob", "severity": "SEV1"}, headers=key)
    assert again.status_code == 409 and "already SEV1" in again.text
    stranger = await api.post(url, json={"responder": "mallory", "severity": "SEV2"}, headers=key)
    assert stranger.status_code == 422
    wrong = await api.post(url, json={"responder": "bob", "severity": "SEV9"}, headers=key)
    assert wrong.status_code == 422
    unknown = await api.post(
        "/api/incidents/nosuch/severity", json={"responder": "bob", "severity": "SEV1"}, headers=key
    )
    assert unknown.status_code == 404


ALIGNED = SlaPolicy.model_validate(
    {"name": "demo", "warn_at": [0.5], "targets": {"SEV2": [{"goal": "acknowledge", "within": "PT19S"}]}}
)


async def test_a_warning_due_just_before_a_tier_timeout_fires_with_it(env, settings, directory, worker):
    """The demo ladder's 10-second tiers and a 19-second target warned at 50 %: the warning
    is due 9.5 s after the start, half a second before tier 1's timeout. Temporal would make
    the tier's timer task only once the warning's fired, and put it off by up to a second
    (its timer read-ahead), so the warning waits for the tier's timer and fires with it.
    The breach, due a second before tier 2's timeout, keeps its own time."""
    request = IncidentRequest(
        title="Checkout is failing", severity="SEV2", service="checkout", runbook="demo"
    )
    data = prepare(request, REGISTRY, directory, policies={"demo": ALIGNED})
    handle = await start(env.client, data, settings.task_queue)
    await env.sleep(timedelta(seconds=25))
    view = await handle.query(IncidentWorkflow.incident)
    start_at, first, second = view.timeline[0].at, view.paged[0], view.paged[1]
    assert timedelta(seconds=10) <= second.at - first.at < timedelta(seconds=10.5)
    [warning] = [e for e in view.timeline if e.kind == "sla_warning"]
    assert warning.at - start_at >= timedelta(seconds=10), "not at 9.5 s: with the tier's timer"
    assert abs(warning.at - second.at) < timedelta(milliseconds=100)
    [breach] = [e for e in view.timeline if e.kind == "sla_breached"]
    assert timedelta(seconds=19) <= breach.at - start_at < timedelta(seconds=19.5)
    await handle.terminate("test finished")
