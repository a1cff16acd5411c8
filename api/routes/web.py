"""Server-rendered pages for people: the incident list and the form to open one.

The incident page and its forms are in ``api.routes.web_incident``, the outbox in
``api.routes.outbox``, signing in and out in ``api.web_session``; this router includes
them all. Jinja2 through ``api.pages.render`` (autoescaped, strict, security headers on
every page), no script anywhere, forms posted as ``application/x-www-form-urlencoded``
with a CSRF token bound to the browser session. The pages reuse the JSON API's
functions, so a page and an API call always do the same thing.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from api.deps import IncidentsDep
from api.pages import SERVICE_HELP, filter_problems, render
from api.routes import (
    outbox,
    web_incident,
    web_maintenance,
    web_reports,
    web_review,
    web_runbooks,
    web_schedules,
)
from api.web_session import SessionDep, WebSession, forbidden, nav, redirect
from api.web_session import router as session_router
from runbooks import REGISTRY
from workflows.errors import UnknownRunbook, UnknownTarget
from workflows.models import IncidentRequest, Severity, State

router = APIRouter(include_in_schema=False)
router.include_router(session_router)

Form_ = Annotated[str, Form()]
FIELD_HELP = {
    "title": "Give the incident a title (1 to 200 characters, control characters removed).",
    "severity": "Choose a severity.",
    "service": SERVICE_HELP,
    "description": "The description is limited to 10,000 characters.",
    "runbook": "Choose a runbook from the list.",
}


@router.get("/")
async def home() -> RedirectResponse:
    """The incident list is the home page."""
    return redirect("/incidents")


@router.get("/incidents", response_class=HTMLResponse)
async def incident_list(
    request: Request,
    incidents: IncidentsDep,
    session: SessionDep,
    state: str = "",
    severity: str = "",
    service: str = "",
) -> HTMLResponse:
    """Incidents, newest first, filtered by state, severity and service (Temporal visibility)."""
    errors = []
    if state and state not in {s.value for s in State}:
        errors.append("Unknown state.")
    errors += filter_problems(severity, service)
    rows = (
        []
        if errors
        else await incidents.list(
            state=State(state) if state else None,
            severity=Severity(severity) if severity else None,
            service=service or None,
            limit=100,
        )
    )
    return render(
        "incidents.html",
        status.HTTP_422_UNPROCESSABLE_CONTENT if errors else 200,
        nav=nav(request, session),
        rows=rows,
        errors=errors,
        states=list(State),
        severities=list(Severity),
        filters={"state": state, "severity": severity, "service": service},
        maintenance=await web_maintenance.banner(request),
    )


def _new_form(
    request: Request, session: WebSession, values: dict, errors: list[str], status_code: int = 200
) -> HTMLResponse:
    return render(
        "new_incident.html",
        status_code,
        nav=nav(request, session),
        values=values,
        errors=errors,
        csrf=session.csrf,
        severities=list(Severity),
        runbooks=list(REGISTRY.runbooks.values()),
    )


@router.get("/incidents/new", response_class=HTMLResponse)
async def new_incident_form(request: Request, session: SessionDep) -> HTMLResponse:
    """The form to open an incident."""
    values = {"title": "", "severity": "SEV3", "service": "", "description": "", "runbook": ""}
    return _new_form(request, session, values, [])


@router.post("/incidents/new", response_class=HTMLResponse)
async def new_incident(
    request: Request,
    incidents: IncidentsDep,
    session: SessionDep,
    csrf: Form_ = "",
    title: Form_ = "",
    severity: Form_ = "",
    service: Form_ = "",
    description: Form_ = "",
    runbook: Form_ = "",
) -> Response:
    """Open an incident as ``POST /api/incidents`` does, then show it."""
    if not session.csrf_ok(csrf):
        return forbidden(request, session)
    values = {
        "title": title,
        "severity": severity,
        "service": service.strip(),
        "description": description,
        "runbook": runbook,
    }
    try:
        opened = await incidents.open(IncidentRequest(**{**values, "runbook": runbook or None}))
    except ValidationError as exc:
        fields = dict.fromkeys(str(error["loc"][0]) for error in exc.errors())
        errors = [FIELD_HELP.get(field, f"{field}: not valid") for field in fields]
        return _new_form(request, session, values, errors, status.HTTP_422_UNPROCESSABLE_CONTENT)
    except (UnknownRunbook, UnknownTarget) as exc:
        return _new_form(request, session, values, [str(exc)], status.HTTP_422_UNPROCESSABLE_CONTENT)
    return redirect(f"/incidents/{opened.id}?done=open")


# After /incidents/new above: /incidents/{incident_id} would take "new" for an id.
router.include_router(web_incident.router)
router.include_router(outbox.router)
router.include_router(web_reports.router)
router.include_router(web_review.router)
router.include_router(web_schedules.router)
router.include_router(web_maintenance.router)
router.include_router(web_runbooks.router)
