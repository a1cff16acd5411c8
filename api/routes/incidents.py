"""``/api/incidents``: open, read and act on incidents."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, Query, Response, status
from pydantic import BaseModel
from temporalio.client import WorkflowUpdateFailedError
from temporalio.service import RPCError, RPCStatusCode

from api.deps import ApiKey, ClientDep, DirectoryDep, RepeatsDep, SettingsDep
from api.errors import ACTION_ERRORS, INCIDENT_ERRORS, update_failure
from runbooks import REGISTRY
from runbooks.directory import DirectoryError
from services.incidents import locate, open_or_repeat, prepare, start
from services.settings import Settings
from workflows import contract
from workflows.incident import IncidentWorkflow
from workflows.models import (
    SERVICE_PATTERN,
    IncidentFlag,
    IncidentRequest,
    IncidentView,
    Note,
    ResponderAction,
    Severity,
    State,
)

router = APIRouter(prefix="/api/incidents", tags=["incidents"])

RPC_TIMEOUT = timedelta(seconds=10)
IdempotencyKey = Annotated[
    str | None,
    Header(max_length=128, description=("Optional: a retried request with the same key is applied once")),
]


class IncidentCreated(BaseModel):
    id: str
    state: State
    runbook: str
    url: str
    temporal_ui_url: str


class IncidentSummary(BaseModel):
    """One row of the incident list, read from Temporal visibility (no workflow query)."""

    id: str
    title: str
    severity: Severity
    service: str
    state: State
    tier: int
    runbook: str
    opened_at: datetime
    flags: list[IncidentFlag] = []


def links(settings: Settings, incident_id: str) -> dict[str, str]:
    workflow = contract.workflow_id(incident_id)
    return {
        "url": f"{settings.public_url}/api/incidents/{incident_id}",
        "temporal_ui_url": f"{settings.temporal_ui_url}/namespaces/"
        f"{settings.temporal_namespace}/workflows/{workflow}",
    }


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=IncidentCreated,
    responses={
        200: {
            "model": IncidentCreated,
            "description": "An incident with this dedup_key is already open; "
            "the repeat is recorded on its timeline",
        },
        **INCIDENT_ERRORS,
        422: ACTION_ERRORS[422],
    },
)
async def open_incident(
    request: IncidentRequest,
    response: Response,
    client: ClientDep,
    settings: SettingsDep,
    directory: DirectoryDep,
    repeats: RepeatsDep,
    _: ApiKey,
    idempotency_key: IdempotencyKey = None,
) -> IncidentCreated:
    """Open an incident: pick its runbook, freeze its plan, start its workflow.

    With a `dedup_key` that names an open incident, nothing new is opened: the repeat
    is counted on the open incident (200) and its latest details go into later pages.

    With an `Idempotency-Key` header, a retried request (after a lost answer) gets
    the first answer again: it neither opens a second incident nor counts a repeat.
    """
    try:
        data = prepare(request, REGISTRY, directory, idempotency_key=idempotency_key)
    except (LookupError, DirectoryError) as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None
    if idempotency_key is not None:
        update_id = "idempotency-" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]
        view, created = await open_or_repeat(client, data, settings.task_queue, update_id=update_id)
    elif request.dedup_key is None:
        await start(client, data, settings.task_queue)
        return IncidentCreated(
            id=data.incident.id,
            state=State.TRIGGERED,
            runbook=data.plan.runbook,
            **links(settings, data.incident.id),
        )
    else:
        view, created = await repeats.submit(client, data)
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return IncidentCreated(id=view.id, state=view.state, runbook=view.runbook, **links(settings, view.id))


@router.get("", response_model=list[IncidentSummary], responses=INCIDENT_ERRORS)
async def list_incidents(
    client: ClientDep,
    _: ApiKey,
    state: State | None = None,
    severity: Severity | None = None,
    service: Annotated[str | None, Query(pattern=SERVICE_PATTERN)] = None,
    responder: Annotated[str | None, Query(pattern=SERVICE_PATTERN)] = None,
    flag: IncidentFlag | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[IncidentSummary]:
    """Incidents, newest first, filtered by state, severity, service, a responder
    (paged, acknowledged or resolved it) and a flag (`exhausted`, `runbook-failed`,
    `undeliverable`)."""
    # A long incident continues as new: only the last run of each stands for it.
    clauses = [f"WorkflowType = '{contract.WORKFLOW_NAME}'", "ExecutionStatus != 'ContinuedAsNew'"]
    # Every value below is an enum or matched the service pattern: nothing can
    # escape the quotes of the visibility query.
    filters = (
        (contract.STATE, state),
        (contract.SEVERITY, severity),
        (contract.SERVICE, service),
        (contract.RESPONDERS, responder),
        (contract.FLAGS, flag),
    )
    for key, value in filters:
        if value is not None:
            clauses.append(f"{key.name} = '{value}'")
    rows = []
    async for execution in client.list_workflows(" AND ".join(clauses), limit=limit, rpc_timeout=RPC_TIMEOUT):
        rows.append(await _summary(execution))
    return rows


async def _summary(execution) -> IncidentSummary:
    attributes = execution.typed_search_attributes
    memo = await execution.memo()
    return IncidentSummary(
        id=memo.get("incident_id") or execution.id.removeprefix("incident-"),
        title=memo.get("title", ""),
        severity=attributes.get(contract.SEVERITY) or Severity.SEV4,
        service=attributes.get(contract.SERVICE) or "",
        state=attributes.get(contract.STATE) or State.TRIGGERED,
        tier=attributes.get(contract.TIER) or 0,
        runbook=attributes.get(contract.RUNBOOK) or "",
        opened_at=execution.start_time,
        flags=list(attributes.get(contract.FLAGS) or []),
    )


@router.get("/{incident_id}", response_model=IncidentView, responses=INCIDENT_ERRORS)
async def read_incident(incident_id: str, client: ClientDep, _: ApiKey) -> IncidentView:
    """The incident as its workflow sees it now, with its whole timeline."""
    handle = await locate(client, incident_id)
    return await handle.query(IncidentWorkflow.incident, rpc_timeout=RPC_TIMEOUT)


UPDATES = {
    "acknowledge": IncidentWorkflow.acknowledge,
    "resolve": IncidentWorkflow.resolve,
    "escalate": IncidentWorkflow.escalate,
}


async def perform(
    client, directory, incident_id: str, name: str, action: ResponderAction, update_id: str | None = None
) -> IncidentView:
    """Send one of ``UPDATES`` and return the new view.

    Raises:
        HTTPException: 422 for a responder not in the directory, 409 when the
            workflow refuses (already acknowledged, already resolved...).
    """
    if directory.person(action.responder) is None:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, f"responder {action.responder!r} is not in the directory"
        )
    handle = await locate(client, incident_id)
    try:
        return await handle.execute_update(UPDATES[name], action, id=update_id, rpc_timeout=RPC_TIMEOUT)
    except WorkflowUpdateFailedError as err:
        raise update_failure(err) from None
    except RPCError as err:
        # A resolved incident's workflow has completed: updates find no running
        # execution. Tell the caller why, rather than "not found".
        if err.status != RPCStatusCode.NOT_FOUND:
            raise
        view = await handle.query(IncidentWorkflow.incident, rpc_timeout=RPC_TIMEOUT)
        raise HTTPException(
            status.HTTP_409_CONFLICT, f"incident already resolved by {view.resolved_by}"
        ) from None


def _action_route(name: str, summary: str) -> None:
    async def route(
        incident_id: str,
        action: ResponderAction,
        client: ClientDep,
        directory: DirectoryDep,
        _: ApiKey,
        idempotency_key: IdempotencyKey = None,
    ) -> IncidentView:
        return await perform(client, directory, incident_id, name, action, idempotency_key)

    route.__name__, route.__doc__ = name, summary
    router.post(f"/{{incident_id}}/{name}", response_model=IncidentView, responses=ACTION_ERRORS)(route)


_action_route("acknowledge", "Acknowledge: stops the escalation.")
_action_route("resolve", "Resolve: ends the incident and writes its report.")
_action_route("escalate", "Escalate now: page the next tier without waiting for the timeout.")


@router.post("/{incident_id}/notes", response_model=IncidentView, responses=ACTION_ERRORS)
async def add_note(
    incident_id: str, note: Note, client: ClientDep, directory: DirectoryDep, _: ApiKey
) -> IncidentView:
    """Add a note to the timeline; it travels with every later page (the hand-off)."""
    if directory.person(note.author) is None:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, f"author {note.author!r} is not in the directory"
        )
    handle = await locate(client, incident_id)
    before = _count(await handle.query(IncidentWorkflow.incident, rpc_timeout=RPC_TIMEOUT), note)
    await handle.signal(IncidentWorkflow.add_note, note, rpc_timeout=RPC_TIMEOUT)
    # A signal is applied by the next workflow task: read until the note shows.
    for _ in range(50):
        view = await handle.query(IncidentWorkflow.incident, rpc_timeout=RPC_TIMEOUT)
        if _count(view, note) > before:
            break
        await asyncio.sleep(0.1)
    return view


def _count(view: IncidentView, note: Note) -> int:
    return sum(e.kind == "note" and e.actor == note.author and e.detail == note.text for e in view.timeline)
