"""Opening an incident: the one place that turns a request into a running workflow."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

from temporalio.client import Client, WorkflowHandle
from temporalio.common import SearchAttributePair, TypedSearchAttributes

from runbooks.directory import Directory
from workflows import contract
from workflows.incident import IncidentWorkflow
from workflows.models import Incident, IncidentInput, IncidentRequest, State
from workflows.runbook import Registry

_ID_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: readable over the phone


def new_id() -> str:
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(10))


def prepare(request: IncidentRequest, registry: Registry, directory: Directory,
            incident_id: str | None = None) -> IncidentInput:
    """Give the incident an id and freeze its plan.

    Raises:
        LookupError: the request names an unknown runbook.
        runbooks.directory.DirectoryError: the runbook names someone not in the directory.
    """
    incident = Incident(
        id=incident_id or new_id(),
        created_at=datetime.now(UTC),
        **request.model_dump(exclude={"runbook"}),
    )
    return IncidentInput(incident=incident, plan=registry.plan(incident, directory, request.runbook))


def start_options(data: IncidentInput, task_queue: str) -> dict[str, Any]:
    """Workflow id, search attributes and UI summary for ``client.start_workflow``."""
    incident, plan = data.incident, data.plan
    ladder = " -> ".join(f"{t.name} ({', '.join(p.name for p in t.targets)})" for t in plan.tiers)
    return {
        "id": contract.workflow_id(incident.id),
        "task_queue": task_queue,
        "search_attributes": TypedSearchAttributes([
            SearchAttributePair(contract.SEVERITY, incident.severity.value),
            SearchAttributePair(contract.SERVICE, incident.service),
            SearchAttributePair(contract.STATE, State.TRIGGERED.value),
            SearchAttributePair(contract.TIER, 0),
            SearchAttributePair(contract.RUNBOOK, plan.runbook),
        ]),
        "static_summary": f"{incident.severity} {incident.service}: {incident.title}"[:200],
        "static_details": f"Runbook **{plan.runbook}**, repeat {plan.repeat}\n\n{ladder}",
    }


async def start(client: Client, data: IncidentInput, task_queue: str) -> WorkflowHandle:
    return await client.start_workflow(IncidentWorkflow.run, data, **start_options(data, task_queue))
