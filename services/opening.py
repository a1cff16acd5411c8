"""Opening an incident: ids, the frozen plan, and the one round trip that starts a workflow
or counts a repeat on the open one. ``services.incidents.IncidentService`` calls these."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from temporalio.client import Client, WithStartWorkflowOperation, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.common import SearchAttributePair, TypedSearchAttributes, WorkflowIDConflictPolicy

from runbooks.directory import Directory, DirectoryError
from runbooks.sla_seed import DEFAULT_POLICY
from workflows import contract
from workflows.errors import RetryLater, UnknownRunbook, UnknownTarget
from workflows.incident import IncidentWorkflow
from workflows.models import Incident, IncidentRequest, IncidentView, State, Tier, Trigger
from workflows.run_state import IncidentInput
from workflows.runbook import Registry
from workflows.targets import SlaPolicy

_ID_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: readable over the phone


ALERT_RPC_TIMEOUT = timedelta(seconds=30)


def new_id() -> str:
    """A random incident id: ten characters of an alphabet easy to read aloud."""
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(10))


def _derived(prefix: str, key: str) -> str:
    digest = hashlib.sha256(key.encode()).digest()
    return prefix + base64.b32encode(digest).decode().lower()[:15]


def dedup_id(dedup_key: str) -> str:
    """The base id every alert with this dedup key maps to (each opening adds its own suffix)."""
    return _derived("d", dedup_key)


def idempotency_id(key: str) -> str:
    """The base id of an incident opened with an ``Idempotency-Key`` and no dedup key."""
    return _derived("k", key)


def prepare(
    request: IncidentRequest,
    registry: Registry,
    directory: Directory,
    incident_id: str | None = None,
    idempotency_key: str | None = None,
    feedback_delay: timedelta | None = None,
    policies: Mapping[str, SlaPolicy] | None = None,
) -> IncidentInput:
    """Give the incident an id and freeze its plan.

    An id derived from a key (dedup key, idempotency key) names a workflow that
    can be opened again; each opening then gets its own incident id. With a
    ``feedback_delay``, everyone paged or notified is asked for feedback that long
    after the resolution (``FEEDBACK_DELAY``). With ``policies``, the incident is held to
    the one its runbook names, else to ``default`` (none if neither exists).

    Raises:
        UnknownRunbook: the request names a runbook that does not exist.
        UnknownTarget: the runbook's plan names someone not in the directory.
    """
    if incident_id is None and request.dedup_key:  # a drill never counts on a real incident
        incident_id = dedup_id(("drill:" if request.drill else "") + request.dedup_key)
    elif incident_id is None and idempotency_key:
        incident_id = idempotency_id(idempotency_key)
    incident = Incident(
        id=incident_id or new_id(),
        created_at=datetime.now(UTC),
        **request.model_dump(exclude={"runbook"}),
    )
    try:
        plan = registry.plan(incident, directory, request.runbook)
    except LookupError as exc:
        raise UnknownRunbook(str(exc)) from None
    except DirectoryError as exc:
        raise UnknownTarget(str(exc)) from None
    sla = (policies or {}).get(plan.sla_policy or DEFAULT_POLICY)
    return IncidentInput(
        incident=incident,
        plan=plan,
        opening_ids=incident_id is not None,
        feedback_delay=feedback_delay,
        sla=sla,
    )


async def locate(client: Client, incident_id: str, timeout: timedelta) -> WorkflowHandle | None:
    """The handle of one incident, by its id; None when there is no such opening.

    An id without an opening (``abc``) is the workflow ``incident-abc``'s latest
    run. An opening's id (``dxyz-1a2b3c4d``) is the run chain that opening
    started: the workflow's current chain when it is that one (updates are then
    bound to it by its first run id, so they can never reach a later opening),
    else the last run of an earlier, finished opening.

    Raises:
        RPCError: NOT_FOUND when the workflow does not exist at all.
    """
    workflow_id = contract.workflow_id(incident_id)
    base = contract.base_id(incident_id)
    if base == incident_id:
        return client.get_workflow_handle(workflow_id)
    latest = await client.get_workflow_handle(workflow_id).describe(rpc_timeout=timeout)
    first = latest.raw_description.workflow_execution_info.first_run_id or latest.run_id
    if contract.opening_id(base, first) == incident_id:
        return client.get_workflow_handle(workflow_id, first_execution_run_id=first)
    query = f"WorkflowId = '{workflow_id}' AND ExecutionStatus != 'ContinuedAsNew'"
    async for execution in client.list_workflows(query, rpc_timeout=timeout):
        if (await execution.memo()).get("incident_id") == incident_id:
            return client.get_workflow_handle(workflow_id, run_id=execution.run_id)
    return None


def start_options(data: IncidentInput, task_queue: str) -> dict[str, Any]:
    """Workflow id, search attributes and UI summary for ``client.start_workflow``."""
    incident, plan = data.incident, data.plan
    ladder = " -> ".join(f"{t.name} ({_who(t)})" for t in plan.tiers)
    return {
        "id": contract.workflow_id(incident.id),
        "task_queue": task_queue,
        "search_attributes": TypedSearchAttributes(
            [
                SearchAttributePair(contract.SEVERITY, incident.severity.value),
                SearchAttributePair(contract.SERVICE, incident.service),
                SearchAttributePair(contract.STATE, State.TRIGGERED.value),
                SearchAttributePair(contract.TIER, 0),
                SearchAttributePair(contract.RUNBOOK, plan.runbook),
            ]
        ),
        "memo": {"title": incident.title, "created_at": incident.created_at.isoformat()}
        | ({"drill": True} if incident.drill else {}),
        "static_summary": (
            ("DRILL " if incident.drill else "") + f"{incident.severity} {incident.service}: {incident.title}"
        )[:200],
        "static_details": f"Runbook **{plan.runbook}**, repeat {plan.repeat}\n\n{ladder}",
    }


async def start(client: Client, data: IncidentInput, task_queue: str) -> WorkflowHandle:
    """Start the incident's workflow with its search attributes and summary; its handle.
    For an incident opened without a key (one with a key goes through ``open_or_repeat``).

    Raises:
        WorkflowAlreadyStartedError: a workflow with that id is already running.
    """
    return await client.start_workflow(IncidentWorkflow.run, data, **start_options(data, task_queue))


async def open_or_repeat(
    client: Client,
    data: IncidentInput,
    task_queue: str,
    source: str = "api",
    update_id: str | None = None,
    count: int = 1,
    key: str | None = None,
) -> tuple[IncidentView, bool]:
    """Open the incident, or record a repeat on the open one with the same id.

    One round trip (update-with-start, conflict policy *use existing*): Temporal,
    not a lookup table, decides whether the incident exists. Returns the view and
    whether this call opened it. When it returns, the workflow has durably
    accepted the alert. The same ``update_id`` sent again to the same open
    incident is applied once (an integration re-sending the same alert).

    Temporal answers an update id already used on a run that has since closed
    with that old result and starts nothing: right for a retried request
    (``update_id`` from an Idempotency-Key), wrong for an alert re-sent while it
    still fires after a person resolved its incident. Alerts therefore pass
    ``key`` instead: the open incident counts each key once, and once it is
    resolved the same alert opens a new incident.
    """
    incident = data.incident
    trigger = Trigger(
        title=incident.title,
        description=incident.description,
        labels=incident.labels,
        source=source,
        count=count,
        key=key,
    )
    for attempt in range(3):
        operation = WithStartWorkflowOperation(
            IncidentWorkflow.run,
            data,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            **start_options(data, task_queue),
        )
        try:
            view = await client.execute_update_with_start_workflow(
                IncidentWorkflow.trigger,
                trigger,
                start_workflow_operation=operation,
                id=update_id,
                rpc_timeout=ALERT_RPC_TIMEOUT,
            )
        except WorkflowUpdateFailedError:
            # The open incident is resolved but its run has not closed yet: the
            # next attempt finds it closed and opens a new incident.
            await asyncio.sleep(0.2 * (attempt + 1))
            continue
        return view, view.repeats == count - 1  # every alert counted was ours: we opened it
    raise RetryLater(f"incident {incident.id} is closing and kept refusing the alert; retry shortly")


def _who(tier: Tier) -> str:
    """A tier's people and schedules, for the UI: ``Alice Martin, on call in schedule first-line``."""
    return ", ".join([p.name for p in tier.targets] + [f"on call in schedule {s}" for s in tier.schedules])
