"""What an operator sees in the Temporal UI: current search attributes, the incident's
summary, and a readable summary on every activity and timer."""

from datetime import timedelta

from temporalio.contrib.pydantic import pydantic_data_converter

from conftest import update
from workflows import contract
from workflows.incident import IncidentWorkflow
from workflows.models import ResponderAction


async def test_search_attributes_follow_tier_and_state(env, incidents):
    handle = await incidents.open(runbook="demo", severity="SEV1", service="checkout")
    await env.sleep(timedelta(seconds=11))
    attributes = (await handle.describe()).typed_search_attributes
    assert attributes[contract.SEVERITY] == "SEV1"
    assert attributes[contract.SERVICE] == "checkout"
    assert attributes[contract.RUNBOOK] == "demo"
    assert attributes[contract.TIER] == 2
    assert attributes[contract.STATE] == "triggered"

    await update(handle, IncidentWorkflow.acknowledge, ResponderAction(responder="bob"))
    attributes = (await handle.describe()).typed_search_attributes
    assert attributes[contract.STATE] == "acknowledged"


async def test_workflow_and_every_activity_carry_a_summary(env, incidents):
    handle = await incidents.open(runbook="demo", title="Checkout is failing")
    await env.sleep(timedelta(seconds=11))
    await update(handle, IncidentWorkflow.resolve, ResponderAction(responder="bob"))
    await handle.result()

    description = await handle.describe()
    assert await description.static_summary() == "SEV2 checkout: Checkout is failing"
    assert "first-line (on call in schedule first-line)" in await description.static_details()

    history = await handle.fetch_history()
    summaries = []
    for event in history.events:
        if event.HasField("activity_task_scheduled_event_attributes") or event.HasField(
            "timer_started_event_attributes"
        ):
            assert event.user_metadata.HasField("summary"), event
            summaries.append(
                pydantic_data_converter.payload_converter.from_payload(event.user_metadata.summary, str)
            )
    assert "email Alice Martin (tier 1)" in summaries
    assert "email Bob Chen (tier 2)" in summaries
    assert "acknowledgement from tier 1 within 10 s" in summaries
    assert "write incident report" in summaries
