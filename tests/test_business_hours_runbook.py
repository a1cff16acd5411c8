"""A runbook can route and defer by business hours: a SEV4 opened outside them pages nobody
until the next opening, then pages; a SEV2 pages at once (time-skipping, real worker)."""

from __future__ import annotations

from datetime import UTC, timedelta

import hours_runbooks

from services.opening import prepare, start
from worker import build_worker
from workflows.incident import IncidentWorkflow
from workflows.models import IncidentRequest
from workflows.scenario_registry import registry_on


async def test_a_sev4_outside_hours_waits_for_the_opening_and_a_sev2_does_not(env, settings, directory):
    now = (await env.get_current_time()).astimezone(UTC)
    labels = {
        "opens": (now + timedelta(hours=2)).strftime("%H:%M"),
        "closes": (now + timedelta(hours=3)).strftime("%H:%M"),
    }
    handles = {}
    with registry_on(settings.task_queue, hours_runbooks.MODULE):
        async with build_worker(env.client, settings):
            for severity in ("SEV4", "SEV2"):
                request = IncidentRequest(
                    title="Disk full", severity=severity, service="storage", labels=labels
                )
                data = prepare(request, hours_runbooks.REGISTRY, directory)
                handles[severity] = await start(env.client, data, settings.task_queue)
            await env.sleep(timedelta(hours=1, minutes=50))
            deferred = await handles["SEV4"].query(IncidentWorkflow.incident)
            urgent = await handles["SEV2"].query(IncidentWorkflow.incident)
            assert not deferred.paged and [e.kind for e in deferred.timeline][-1] == "deferred"
            assert [p.person for p in urgent.paged] == ["alice"]
            await env.sleep(timedelta(minutes=12))
            deferred = await handles["SEV4"].query(IncidentWorkflow.incident)
            assert [p.person for p in deferred.paged] == ["alice"]
            waited = deferred.paged[0].at - deferred.timeline[0].at
            assert timedelta(hours=1, minutes=59) <= waited <= timedelta(hours=2)
            for handle in handles.values():
                await handle.terminate("test finished")
