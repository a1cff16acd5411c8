"""The incident page and its forms: acknowledge, resolve or escalate, and add a note.

Until people sign in as themselves, a form acts as the person chosen in it, and the
timeline records beside that person the name of the key the browser signed in with
(``via the web, signed in with key ops``): the detail of the action, after the text of
a note. The pages reuse the JSON API's functions (``api.routes.incidents``).
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, HTTPException, Request, status
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from temporalio.service import RPCError, RPCStatusCode

from api.deps import ClientDep, DirectoryDep, SettingsDep
from api.pages import render
from api.routes import incidents as rest
from api.web_session import SessionDep, WebSession, forbidden, nav, not_found, redirect
from services.incidents import locate
from workflows.incident import IncidentWorkflow
from workflows.models import Note, ResponderAction, State

router = APIRouter(include_in_schema=False)

Form_ = Annotated[str, Form()]
DONE = {
    "acknowledge": "Acknowledged",
    "resolve": "Resolved",
    "escalate": "Escalated",
    "note": "Note added",
    "open": "Opened",
}
NOTE_MAX = 2_000


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
    try:
        handle = await locate(client, incident_id)
        view = await handle.query(IncidentWorkflow.incident, rpc_timeout=rest.RPC_TIMEOUT)
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            return not_found(request, session, "incident")
        raise
    names = {person.id: person.name for person in directory.people}
    current = view.tier.number if view.tier else None
    # Once someone has it, those paged are history, not people being paged now.
    paged_now = {p.person: p for p in view.paged if p.tier == current and view.state == State.TRIGGERED}
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


def _reason(err: HTTPException | ValidationError, session: WebSession) -> tuple[int, str]:
    """The status and the sentence a refused form is shown with."""
    if isinstance(err, HTTPException):
        reason = str(err.detail)
        return err.status_code, reason[:1].upper() + reason[1:]
    fields = {str(error["loc"][0]) for error in err.errors()}
    if "text" in fields:
        room = NOTE_MAX - len(_signed(session, ""))
        return status.HTTP_422_UNPROCESSABLE_CONTENT, f"Write the note first: 1 to {room:,} characters."
    return status.HTTP_422_UNPROCESSABLE_CONTENT, "Choose who you are and fill in the form."


async def _refused(
    request, client, settings, directory, session, incident_id: str, err: HTTPException | ValidationError
) -> HTMLResponse:
    code, reason = _reason(err, session)
    return await _detail(request, client, settings, directory, session, incident_id, code, refusal=reason)


def _signed(session: WebSession, text: str) -> str:
    return f"{text} ({session.via})"


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
    """Acknowledge, resolve or escalate as the chosen responder (the workflow's update),
    with the signed-in key's name as the action's detail."""
    if not session.csrf_ok(csrf):
        return forbidden(request, session)
    if action not in rest.UPDATES:
        return await _refused(
            request, client, settings, directory, session, incident_id, HTTPException(422, "unknown action")
        )
    try:
        performed = ResponderAction(responder=responder, note=session.via)
        await rest.perform(client, directory, incident_id, action, performed)
    except (HTTPException, ValidationError) as err:
        return await _refused(request, client, settings, directory, session, incident_id, err)
    except RPCError as err:
        if err.status != RPCStatusCode.NOT_FOUND:
            raise
        return not_found(request, session, "incident")
    return redirect(f"/incidents/{incident_id}?" + urlencode({"done": action, "by": responder}))


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
    """Add a note to the timeline as the chosen person (trimmed; a blank note is refused)."""
    if not session.csrf_ok(csrf):
        return forbidden(request, session)
    try:
        typed = Note(author=author, text=text)
        note = Note(author=typed.author, text=_signed(session, typed.text))
        await rest.add_note(incident_id, note, client, directory, "web")
    except (HTTPException, ValidationError) as err:
        return await _refused(request, client, settings, directory, session, incident_id, err)
    except RPCError as err:
        if err.status != RPCStatusCode.NOT_FOUND:
            raise
        return not_found(request, session, "incident")
    return redirect(f"/incidents/{incident_id}?" + urlencode({"done": "note", "by": author}))
