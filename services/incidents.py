"""Opening an incident: the one place that turns a request into a running workflow."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from temporalio.client import (
    Client,
    WithStartWorkflowOperation,
    WorkflowHandle,
    WorkflowUpdateFailedError,
)
from temporalio.common import SearchAttributePair, TypedSearchAttributes, WorkflowIDConflictPolicy
from temporalio.service import RPCError, RPCStatusCode

from runbooks.directory import Directory
from workflows import contract
from workflows.incident import IncidentWorkflow
from workflows.models import Incident, IncidentRequest, IncidentView, State, Trigger
from workflows.run_state import IncidentInput
from workflows.runbook import Registry

_ID_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: readable over the phone


class RetryLater(Exception):
    """Temporal is reachable but the alert could not be placed yet (the API answers 503)."""


ALERT_RPC_TIMEOUT = timedelta(seconds=30)
LOOKUP_TIMEOUT = timedelta(seconds=10)


def new_id() -> str:
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
) -> IncidentInput:
    """Give the incident an id and freeze its plan.

    An id derived from a key (dedup key, idempotency key) names a workflow that
    can be opened again; each opening then gets its own incident id.

    Raises:
        LookupError: the request names an unknown runbook.
        runbooks.directory.DirectoryError: the runbook names someone not in the directory.
    """
    if incident_id is None and request.dedup_key:
        incident_id = dedup_id(request.dedup_key)
    elif incident_id is None and idempotency_key:
        incident_id = idempotency_id(idempotency_key)
    incident = Incident(
        id=incident_id or new_id(),
        created_at=datetime.now(UTC),
        **request.model_dump(exclude={"runbook"}),
    )
    return IncidentInput(
        incident=incident,
        plan=registry.plan(incident, directory, request.runbook),
        opening_ids=incident_id is not None,
    )


async def locate(client: Client, incident_id: str) -> WorkflowHandle:
    """The handle of one incident, by its id.

    An id without an opening (``abc``) is the workflow ``incident-abc``'s latest
    run. An opening's id (``dxyz-1a2b3c4d``) is the run chain that opening
    started: the workflow's current chain when it is that one (updates are then
    bound to it by its first run id, so they can never reach a later opening),
    else the last run of an earlier, finished opening.

    Raises:
        RPCError: NOT_FOUND when no such incident exists.
    """
    workflow_id = contract.workflow_id(incident_id)
    base = contract.base_id(incident_id)
    if base == incident_id:
        return client.get_workflow_handle(workflow_id)
    latest = await client.get_workflow_handle(workflow_id).describe(rpc_timeout=LOOKUP_TIMEOUT)
    first = latest.raw_description.workflow_execution_info.first_run_id or latest.run_id
    if contract.opening_id(base, first) == incident_id:
        return client.get_workflow_handle(workflow_id, first_execution_run_id=first)
    query = f"WorkflowId = '{workflow_id}' AND ExecutionStatus != 'ContinuedAsNew'"
    async for execution in client.list_workflows(query, rpc_timeout=LOOKUP_TIMEOUT):
        if (await execution.memo()).get("incident_id") == incident_id:
            return client.get_workflow_handle(workflow_id, run_id=execution.run_id)
    raise RPCError(f"no incident {incident_id}", RPCStatusCode.NOT_FOUND, b"")


def start_options(data: IncidentInput, task_queue: str) -> dict[str, Any]:
    """Workflow id, search attributes and UI summary for ``client.start_workflow``."""
    incident, plan = data.incident, data.plan
    ladder = " -> ".join(f"{t.name} ({', '.join(p.name for p in t.targets)})" for t in plan.tiers)
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
        "memo": {"title": incident.title, "created_at": incident.created_at.isoformat()},
        "static_summary": f"{incident.severity} {incident.service}: {incident.title}"[:200],
        "static_details": f"Runbook **{plan.runbook}**, repeat {plan.repeat}\n\n{ladder}",
    }


async def start(client: Client, data: IncidentInput, task_queue: str) -> WorkflowHandle:
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


@dataclass
class _Batch:
    data: IncidentInput
    count: int = 0
    created: bool = False
    result: asyncio.Future = field(default_factory=lambda: asyncio.get_running_loop().create_future())


class RepeatCoalescer:
    """Coalesces repeats of one dedup key during an alert storm.

    One update per dedup key is in flight at a time; alerts that arrive while it
    is in flight ride together in the next one, which counts them all. Each
    caller is answered once the update that carries its alert has been durably
    accepted by the workflow, so nothing is acknowledged early and nothing is lost.
    """

    def __init__(self, task_queue: str) -> None:
        self._task_queue = task_queue
        self._locks: dict[str, asyncio.Lock] = {}
        self._waiting: dict[str, _Batch] = {}

    async def submit(self, client: Client, data: IncidentInput) -> tuple[IncidentView, bool]:
        """Open the incident or count a repeat; True when this very alert opened it."""
        key = data.incident.id
        batch = self._waiting.get(key)
        if batch is None:
            batch = self._waiting[key] = _Batch(data=data)
            asyncio.ensure_future(self._flush(client, key, batch))
        batch.data = data  # the latest details win
        batch.count += 1
        position = batch.count
        view = await asyncio.shield(batch.result)
        return view, batch.created and position == 1

    async def _flush(self, client: Client, key: str, batch: _Batch) -> None:
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            self._waiting.pop(key, None)  # alerts from now on form the next batch
            try:
                view, batch.created = await open_or_repeat(
                    client, batch.data, self._task_queue, count=batch.count
                )
                batch.result.set_result(view)
            except Exception as exc:  # every caller of the batch gets the failure
                batch.result.set_exception(exc)
        if key not in self._waiting:
            self._locks.pop(key, None)
