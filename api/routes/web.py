"""Server-rendered pages for people: the incident list and view, acting, opening, the outbox.

Jinja2 through ``api.pages.render`` (autoescaped, strict, security headers on every
page), no script anywhere, forms posted as ``application/x-www-form-urlencoded`` with a
CSRF token bound to the browser session (``api.web_session``). The pages reuse the
JSON API's functions, so a page and an API call always do the same thing.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, HTTPException, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from temporalio.service import RPCError, RPCStatusCode

from api.deps import ClientDep, DirectoryDep, SettingsDep
from api.pages import SECURITY_HEADERS, render
from api.routes import incidents as rest
from api.web_session import SessionDep, WebSession, forbidden, nav
from api.web_session import router as session_router
from escalate.incidents import prepare, start
from runbooks import REGISTRY
from runbooks.directory import DirectoryError
from workflows import contract
from workflows.incident import IncidentWorkflow
from workflows.models import SERVICE_PATTERN, IncidentRequest, Note, ResponderAction, Severity, State

router = APIRouter(include_in_schema=False)
router.include_router(session_router)

Form_ = Annotated[str, Form()]
DONE = {
    "acknowledge": "Acknowledged",
    "resolve": "Resolved",
    "escalate": "Escalated",
    "note": "Note added",
    "open": "Opened",
}
FIELD_HELP = {
    "title": "Give the incident a title (1 to 200 characters).",
    "severity": "Choose a severity.",
    "service": "Service: lowercase letters, digits, '.', '_' or '-' (at most 63), "
    "starting with a letter or digit.",
    "description": "The description is limited to 10,000 characters.",
    "runbook": "Choose a runbook from the list.",
}
OUTBOX_NAME = re.compile(r"[a-z0-9-]+\.json")
OUTBOX_LIMIT = 200


def _redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status.HTTP_303_SEE_OTHER, headers=SECURITY_HEADERS)


def _not_found(request: Request, session: WebSession, what: str) -> HTMLResponse:
    return render(
        "result.html",
        status.HTTP_404_NOT_FOUND,
        ok=False,
        incident=None,
        headline=f"No such {what}",
        detail="Check the address, or go back to the list.",
        nav=nav(request, session),
    )


@router.get("/")
async def home() -> RedirectResponse:
    """The incident list is the home page."""
    return _redirect("/incidents")


@router.get("/incidents", response_class=HTMLResponse)
async def incident_list(
    request: Request,
    client: ClientDep,
    session: SessionDep,
    state: str = "",
    severity: str = "",
    service: str = "",
) -> HTMLResponse:
    """Incidents, newest first, filtered by state, severity and service (Temporal visibility)."""
    errors = []
    if state and state not in {s.value for s in State}:
        errors.append("Unknown state.")
    if severity and severity not in {s.value for s in Severity}:
        errors.append("Unknown severity.")
    if service and not re.fullmatch(SERVICE_PATTERN, service):
        errors.append(FIELD_HELP["service"])
    rows = (
        []
        if errors
        else await rest.list_incidents(
            client,
            "web",
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
    client: ClientDep,
    settings: SettingsDep,
    directory: DirectoryDep,
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
        incident = IncidentRequest(**{**values, "runbook": runbook or None})
        data = prepare(incident, REGISTRY, directory)
    except ValidationError as exc:
        fields = dict.fromkeys(str(error["loc"][0]) for error in exc.errors())
        errors = [FIELD_HELP.get(field, f"{field}: not valid") for field in fields]
        return _new_form(request, session, values, errors, status.HTTP_422_UNPROCESSABLE_CONTENT)
    except (LookupError, DirectoryError) as exc:
        return _new_form(request, session, values, [str(exc)], status.HTTP_422_UNPROCESSABLE_CONTENT)
    await start(client, data, settings.task_queue)
    return _redirect(f"/incidents/{data.incident.id}?done=open")


async def _detail(
    request: Request,
    client,
    settings,
    directory,
    session: WebSession,
    incident_id: str,
    status_code: int = 200,
    refusal: str = "",
    notice: str = "",
) -> HTMLResponse:
    handle = client.get_workflow_handle(contract.workflow_id(incident_id))
    try:
        view = await handle.query(IncidentWorkflow.incident, rpc_timeout=rest.RPC_TIMEOUT)
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            return _not_found(request, session, "incident")
        raise
    names = {person.id: person.name for person in directory.people}
    current = view.tier.number if view.tier else None
    paged_now = {p.person: p.at for p in view.paged if p.tier == current}
    return render(
        "incident.html",
        status_code,
        nav=nav(request, session),
        incident=view,
        names=names,
        paged_now=paged_now,
        people=directory.people,
        refusal=refusal,
        notice=notice,
        csrf=session.csrf,
        live_url="" if status_code == 200 else f"/incidents/{incident_id}",
        temporal_ui_url=rest.links(settings, incident_id)["temporal_ui_url"],
    )


@router.get("/incidents/{incident_id}", response_class=HTMLResponse)
async def incident_page(
    request: Request,
    incident_id: str,
    client: ClientDep,
    settings: SettingsDep,
    directory: DirectoryDep,
    session: SessionDep,
    done: str = "",
    by: str = "",
) -> HTMLResponse:
    """The incident: who is paged now, its timeline, and forms to act on it. Refreshes itself."""
    notice = ""
    if done in DONE:  # the message is built here from known words: a link cannot inject text
        person = directory.person(by)
        notice = DONE[done] + (f" by {person.name}." if person else ".")
    return await _detail(request, client, settings, directory, session, incident_id, notice=notice)


async def _refused(
    request, client, settings, directory, session, incident_id: str, err: HTTPException | ValidationError
) -> HTMLResponse:
    if isinstance(err, ValidationError):
        code, reason = status.HTTP_422_UNPROCESSABLE_CONTENT, "Choose who you are and fill in the form."
    else:
        code, reason = err.status_code, str(err.detail)
    return await _detail(
        request,
        client,
        settings,
        directory,
        session,
        incident_id,
        code,
        refusal=reason[:1].upper() + reason[1:],
    )


@router.post("/incidents/{incident_id}/act", response_class=HTMLResponse)
async def act(
    request: Request,
    incident_id: str,
    client: ClientDep,
    settings: SettingsDep,
    directory: DirectoryDep,
    session: SessionDep,
    csrf: Form_ = "",
    action: Form_ = "",
    responder: Form_ = "",
) -> Response:
    """Acknowledge, resolve or escalate as the chosen responder (the workflow's update)."""
    if not session.csrf_ok(csrf):
        return forbidden(request, session)
    if action not in rest.UPDATES:
        return await _refused(
            request, client, settings, directory, session, incident_id, HTTPException(422, "unknown action")
        )
    try:
        await rest.perform(client, directory, incident_id, action, ResponderAction(responder=responder))
    except (HTTPException, ValidationError) as err:
        return await _refused(request, client, settings, directory, session, incident_id, err)
    except RPCError as err:
        if err.status != RPCStatusCode.NOT_FOUND:
            raise
        return _not_found(request, session, "incident")
    return _redirect(f"/incidents/{incident_id}?" + urlencode({"done": action, "by": responder}))


@router.post("/incidents/{incident_id}/notes", response_class=HTMLResponse)
async def add_note(
    request: Request,
    incident_id: str,
    client: ClientDep,
    settings: SettingsDep,
    directory: DirectoryDep,
    session: SessionDep,
    csrf: Form_ = "",
    author: Form_ = "",
    text: Form_ = "",
) -> Response:
    """Add a note to the timeline as the chosen person."""
    if not session.csrf_ok(csrf):
        return forbidden(request, session)
    try:
        await rest.add_note(incident_id, Note(author=author, text=text.strip()), client, directory, "web")
    except (HTTPException, ValidationError) as err:
        return await _refused(request, client, settings, directory, session, incident_id, err)
    except RPCError as err:
        if err.status != RPCStatusCode.NOT_FOUND:
            raise
        return _not_found(request, session, "incident")
    return _redirect(f"/incidents/{incident_id}?" + urlencode({"done": "note", "by": author}))


# -- the outbox (embedded mode only: without SENDGRID_API_KEY) --------------------------


def _outbox(request: Request) -> Path | None:
    settings = request.app.state.settings
    return settings.outbox if settings.sendgrid_api_key is None else None


def _read_email(path: Path) -> dict | None:
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
        return {
            "name": path.name,
            "to": payload["personalizations"][0]["to"][0]["email"],
            "subject": payload["subject"],
            "html": next(c["value"] for c in payload["content"] if c["type"] == "text/html"),
            "at": datetime.fromtimestamp(path.stat().st_mtime, UTC),
        }
    except (OSError, ValueError, KeyError, IndexError, TypeError, StopIteration):
        return None


@router.get("/outbox", response_class=HTMLResponse)
async def outbox(request: Request, session: SessionDep) -> Response:
    """The emails written instead of sent, newest first."""
    folder = _outbox(request)
    if folder is None:
        return _not_found(request, session, "outbox: email goes through SendGrid")
    files = [p for p in folder.glob("*.json") if OUTBOX_NAME.fullmatch(p.name)] if folder.is_dir() else []
    files.sort(key=lambda p: (p.stat().st_mtime, p.name), reverse=True)
    emails = [email for p in files[:OUTBOX_LIMIT] if (email := _read_email(p))]
    return render("outbox.html", nav=nav(request, session), emails=emails, folder=str(folder))


@router.get("/outbox/{name}", response_class=HTMLResponse)
async def outbox_email(request: Request, name: str, session: SessionDep) -> Response:
    """One email's HTML part, exactly as its recipient sees it (under a CSP without scripts)."""
    folder = _outbox(request)
    if folder is None or not OUTBOX_NAME.fullmatch(name):
        return _not_found(request, session, "email")
    path = folder / name
    email = None if path.is_symlink() or not path.is_file() else _read_email(path)
    if email is None:
        return _not_found(request, session, "email")
    return HTMLResponse(email["html"], headers=SECURITY_HEADERS)
