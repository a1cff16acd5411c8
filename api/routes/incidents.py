"""``/api/incidents``: open, read and act on incidents (through ``IncidentService``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Response, status
from pydantic import BaseModel

from api.deps import ApiKey, IncidentsDep
from api.errors import ACTION_ERRORS, INCIDENT_ERRORS
from services import drills
from services.incidents import IncidentSummary
from workflows import contract
from workflows.drills import DrillReport
from workflows.models import (
    SERVICE_PATTERN,
    ClockPause,
    IncidentFlag,
    IncidentRequest,
    IncidentView,
    Note,
    ResponderAction,
    Severity,
    SeverityChange,
    Snooze,
    State,
)
from workflows.vocabulary import Action

router = APIRouter(prefix="/api/incidents", tags=["incidents"])

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
    incidents: IncidentsDep,
    _: ApiKey,
    idempotency_key: IdempotencyKey = None,
) -> IncidentCreated:
    """Open an incident: pick its runbook, freeze its plan, start its workflow.

    With a `dedup_key` that names an open incident, nothing new is opened: the repeat
    is counted on the open incident (200) and its latest details go into later pages.

    With an `Idempotency-Key` header, a retried request (after a lost answer) gets
    the first answer again: it neither opens a second incident nor counts a repeat.
    """
    opened = await incidents.open(request, idempotency_key)
    response.status_code = status.HTTP_201_CREATED if opened.created else status.HTTP_200_OK
    return IncidentCreated(
        id=opened.id, state=opened.state, runbook=opened.runbook, **incidents.links(opened.id)
    )


@router.get("", response_model=list[IncidentSummary], responses=INCIDENT_ERRORS)
async def list_incidents(
    incidents: IncidentsDep,
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
    return await incidents.list(state, severity, service, responder, flag, limit)


@router.get("/{incident_id}", response_model=IncidentView, responses=INCIDENT_ERRORS)
async def read_incident(incident_id: str, incidents: IncidentsDep, _: ApiKey) -> IncidentView:
    """The incident as its workflow sees it now, with its whole timeline."""
    return await incidents.read(incident_id)


@router.get("/{incident_id}/drill-report", response_model=DrillReport, responses=INCIDENT_ERRORS)
async def drill_report(incident_id: str, incidents: IncidentsDep, _: ApiKey) -> DrillReport:
    """How the team did in a drill: each tier paged, when (from the drill's start), and who
    acknowledged it how long after their page, or how long it went unanswered. 404 for an
    incident that is not a drill."""
    return await drills.report(incidents, incident_id)


def _action_route(action: Action, summary: str) -> None:
    async def route(
        incident_id: str,
        body: ResponderAction,
        incidents: IncidentsDep,
        _: ApiKey,
        idempotency_key: IdempotencyKey = None,
    ) -> IncidentView:
        return await incidents.act(incident_id, action, body, idempotency_key)

    route.__name__, route.__doc__ = action.value, summary
    router.post(f"/{{incident_id}}/{action.value}", response_model=IncidentView, responses=ACTION_ERRORS)(
        route
    )


_action_route(Action.ACKNOWLEDGE, "Acknowledge: stops the escalation.")
_action_route(Action.RESOLVE, "Resolve: ends the incident and writes its report.")
_action_route(Action.ESCALATE, "Escalate now: page the next tier without waiting for the timeout.")


@router.post("/{incident_id}/severity", response_model=IncidentView, responses=ACTION_ERRORS)
async def change_severity(
    incident_id: str, change: SeverityChange, incidents: IncidentsDep, _: ApiKey
) -> IncidentView:
    """Raise or lower the severity. The response and resolution targets are recomputed
    from the incident's start, so a raise can breach a target at once (and says so)."""
    return await incidents.act(incident_id, contract.SET_SEVERITY, change)


@router.post("/{incident_id}/snooze", response_model=IncidentView, responses=ACTION_ERRORS)
async def snooze(incident_id: str, request: Snooze, incidents: IncidentsDep, _: ApiKey) -> IncidentView:
    """Snooze an acknowledged incident until ``until`` (at most 24 hours): nobody is paged
    until then, then the acknowledger is paged again. Resolving ends it."""
    return await incidents.act(incident_id, contract.SNOOZE, request)


@router.post("/{incident_id}/pause", response_model=IncidentView, responses=ACTION_ERRORS)
async def pause_clocks(
    incident_id: str, request: ClockPause, incidents: IncidentsDep, _: ApiKey
) -> IncidentView:
    """Pause the incident's SLA clocks while it waits on someone else (a vendor, say), until
    ``until`` (at most 7 days) or until ``"resume": true`` is sent: each open deadline moves
    by the paused time. Paging goes on as usual."""
    return await incidents.act(incident_id, contract.PAUSE_CLOCKS, request)


@router.post("/{incident_id}/notes", response_model=IncidentView, responses=ACTION_ERRORS)
async def add_note(incident_id: str, note: Note, incidents: IncidentsDep, _: ApiKey) -> IncidentView:
    """Add a note to the timeline; it travels with every later page (the hand-off)."""
    return await incidents.note(incident_id, note)
