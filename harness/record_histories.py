"""Record fresh histories of today's incident workflow into ``tests/histories/``.

``python -m harness.record_histories`` runs four incidents on a time-skipping server
with the real activities writing into a temporary folder, and saves each run's history
as JSON: acknowledged then resolved; every tier exhausted, then resolved; a long one
that continues as new with stakeholder updates (each run saved); and one opened and
resolved by the Alertmanager integration; named ``feedback-*``, one that asks for
feedback once resolved, with the feedback workflow's own history; named ``oncall-*``, one
whose first tier pages whoever a schedule has on call; named ``pause-*``, one that a
maintenance window pauses mid-tier; named ``sla-*``, one held to a resolution target
that warns and breaches.
``tests/test_replay.py`` replays them all, so a later change that would break incidents in
flight fails in CI. ``python -m harness.record_histories NAME...`` records only those named;
``--prefix P`` saves each under ``P<name>`` (a new set beside the old ones, which must stay:
they are the incidents recorded by earlier releases).
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import uuid
from datetime import UTC, timedelta
from pathlib import Path

from temporalio.client import WorkflowHandle, WorkflowUpdateStage
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from runbooks import REGISTRY
from runbooks.directory import load_directory
from services.opening import prepare, start
from services.servers import binary, register_search_attributes
from services.settings import RUNBOOKS_DIR, Settings
from worker import build_worker
from workflows import contract
from workflows.incident import IncidentWorkflow
from workflows.models import IncidentRequest, ResponderAction
from workflows.pauses import MaintenanceNotice
from workflows.targets import SlaPolicy

OUT = Path(__file__).resolve().parent.parent / "tests" / "histories"


async def _update(handle: WorkflowHandle, method, responder: str) -> None:
    accepted = await handle.start_update(
        method, ResponderAction(responder=responder), wait_for_stage=WorkflowUpdateStage.ACCEPTED
    )
    await accepted.result()


async def _save(env: WorkflowEnvironment, handle: WorkflowHandle, name: str, prefix: str = "") -> None:
    """Every run of the incident, first to last (a continued incident has several)."""
    name = prefix + name
    histories, run_id = [], handle.first_execution_run_id or handle.result_run_id
    while run_id:
        history = await env.client.get_workflow_handle(handle.id, run_id=run_id).fetch_history()
        histories.append(history)
        last = history.events[-1]
        continued = last.workflow_execution_continued_as_new_event_attributes
        run_id = (
            continued.new_execution_run_id
            if last.HasField("workflow_execution_continued_as_new_event_attributes")
            else None
        )
    for number, history in enumerate(histories, start=1):
        suffix = f"-run{number}" if len(histories) > 1 else ""
        (OUT / f"{name}{suffix}.json").write_text(history.to_json())
        print(f"saved {name}{suffix}.json ({len(history.events)} events)")


async def record(only: set[str], prefix: str = "") -> None:
    """Record every scenario, or those named in ``only``, saved under ``prefix``."""

    def wanted(name: str) -> bool:
        return not only or name in only

    directory = load_directory(RUNBOOKS_DIR / "directory.yaml")
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=pydantic_data_converter, test_server_existing_path=binary("temporal-test-server")
    )
    await register_search_attributes(env.client)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            settings = Settings(data_dir=Path(tmp), task_queue=f"record-{uuid.uuid4()}")
            async with build_worker(env.client, settings):

                async def open_(runbook: str | None, severity: str, service: str, **extra):
                    request = IncidentRequest(
                        title="Recorded incident", severity=severity, service=service, runbook=runbook
                    )
                    data = prepare(request, REGISTRY, directory)
                    data = data.model_copy(update=extra)
                    return await start(env.client, data, settings.task_queue)

                if wanted("feedback"):
                    asking = await open_("demo", "SEV2", "checkout", feedback_delay=timedelta(minutes=10))
                    await env.sleep(timedelta(seconds=15))
                    await _update(asking, IncidentWorkflow.resolve, "bob")
                    view = await asking.result()
                    await _save(env, asking, "feedback-demo_resolved_asks_for_feedback", prefix)
                    await env.sleep(timedelta(minutes=11))
                    feedback_id = contract.feedback_workflow_id(view.id)
                    run_id = (await env.client.get_workflow_handle(feedback_id).describe()).run_id
                    follow_up = env.client.get_workflow_handle(feedback_id, first_execution_run_id=run_id)
                    await env.sleep(timedelta(hours=24))  # the reminder is due at 24 h
                    await _save(env, follow_up, "feedback-workflow_asked_and_reminded", prefix)
                if wanted("oncall"):  # the demo's first tier pages the first-line schedule
                    paged = await open_("demo", "SEV2", "checkout")
                    await env.sleep(timedelta(seconds=15))
                    await _update(paged, IncidentWorkflow.resolve, "bob")
                    await paged.result()
                    await _save(env, paged, "oncall-demo_schedule_then_team_lead_resolved", prefix)
                if wanted("pause"):  # a maintenance window pauses it mid-tier, then it pages again
                    paused = await open_("default", "SEV2", "checkout")
                    await env.sleep(timedelta(minutes=2))
                    now = (await env.get_current_time()).astimezone(UTC)
                    notice = MaintenanceNotice(
                        window="mw-recorded",
                        services=["checkout"],
                        start=now,
                        until=now + timedelta(minutes=30),
                        reason="recorded",
                    )
                    await paused.signal(contract.MAINTENANCE, notice)
                    await env.sleep(timedelta(minutes=35))
                    await _update(paused, IncidentWorkflow.resolve, "bob")
                    await paused.result()
                    await _save(env, paused, "pause-default_window_mid_tier_then_resolved", prefix)
                if wanted("sla"):  # held to a resolution target, its clock beside the ladder
                    policy = SlaPolicy.model_validate(
                        {"name": "demo", "targets": {"SEV2": [{"goal": "resolve", "within": "PT2M"}]}}
                    )
                    request = IncidentRequest(
                        title="Recorded incident", severity="SEV2", service="checkout", runbook="demo"
                    )
                    data = prepare(request, REGISTRY, directory, policies={"demo": policy})
                    held = await start(env.client, data, settings.task_queue)
                    await env.sleep(timedelta(minutes=3))  # warned at 50 % and 80 %, then breached
                    await _update(held, IncidentWorkflow.resolve, "bob")
                    await held.result()
                    await _save(env, held, "sla-demo_warned_breached_resolved", prefix)
                if not wanted("incidents"):
                    return
                acked = await open_("default", "SEV2", "checkout")
                await env.sleep(timedelta(minutes=12))
                await _update(acked, IncidentWorkflow.acknowledge, "bob")
                await env.sleep(timedelta(minutes=3))
                await _update(acked, IncidentWorkflow.resolve, "bob")
                await acked.result()
                await _save(env, acked, "default_ack_at_tier_two_resolved", prefix)

                exhausted = await open_("demo", "SEV3", "checkout")
                await env.sleep(timedelta(minutes=2))
                await _update(exhausted, IncidentWorkflow.resolve, "carol")
                await exhausted.result()
                await _save(env, exhausted, "demo_exhausted_then_resolved", prefix)

                long = await open_(None, "SEV1", "security", history_limit=300)
                await env.sleep(timedelta(minutes=2))
                await _update(long, IncidentWorkflow.acknowledge, "heidi")
                await env.sleep(timedelta(hours=16))
                latest = env.client.get_workflow_handle(long.id)
                await _update(latest, IncidentWorkflow.resolve, "heidi")
                await latest.result()
                await _save(env, long, "security_breach_continued_as_new", prefix)

                alert = await open_("demo", "SEV2", "checkout", opening_ids=True)
                await env.sleep(timedelta(seconds=5))
                await _update(alert, IncidentWorkflow.resolve, "alertmanager")
                await alert.result()
                await _save(env, alert, "alert_opening_resolved_by_alertmanager", prefix)
    finally:
        await env.shutdown()


if __name__ == "__main__":
    names = sys.argv[1:]
    prefix = ""
    if names[:1] == ["--prefix"] and len(names) > 1:
        prefix, names = names[1], names[2:]
    asyncio.run(record(set(names), prefix))
