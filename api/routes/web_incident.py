"""The incident page and its forms: acknowledge, resolve or escalate, and add a note.

Until people sign in as themselves, a form acts as the person chosen in it, and the
timeline records beside that person the name of the key the browser signed in with
(``via the web, signed in with key ops``): the detail of the action, after the text of
a note. The pages reuse the JSON API's functions (``api.routes.incidents``).
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request, status
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from api.deps import IncidentsDep
from api.errors import status_of
from api.pages import render
from api.web_session import SessionDep, WebSession, forbidden, nav, not_found, redirect
from services.incidents import IncidentService
from workflows.errors import DomainError, UnknownIncident
from workflows.models import Note, ResponderAction, State
from workflows.vocabulary import Action

router = APIRouter(include_in_schema=False)

Form_ = Annotated[str, Form()]
DONE = {**{action.value: action.past for action in Action}, "note": "Note added", "open": "Opened"}
NOTE_MAX = 2_000


async def _detail(
    request: Request,
    incidents: IncidentService,
    session: WebSession,
    incident_id: str,
    status_code: int = 200,
    refusal: str = "",
    notice: str = "",
) -> HTMLResponse:
    try:
        view = await incidents.read(incident_id)
    except UnknownIncident:
        return not_found(request, session, "incident")
    people = incidents.directory.people
    current = view.tier.number if view.tier else None
    # Once someone has it, those paged are history, not people being paged now.
    paged_now = {p.person: p for p in view.paged if p.tier == current and view.state == State.TRIGGERED}
    return render(
        "incident.html",
        status_code,
        nav=nav(request, session),
        incident=view,
        names={person.id: person.name for person in people},
        paged_now=paged_now,
        people=people,
        refusal=refusal,
        notice=notice,
        csrf=session.csrf,
        live_url="" if status_code == 200 else f"/incidents/{incident_id}",
        temporal_ui_url=incidents.links(incident_id)["temporal_ui_url"],
    )


@router.get("/incidents/{incident_id}", response_class=HTMLResponse)
async def incident_page(
    request: Request,
    incident_id: str,
    incidents: IncidentsDep,
    session: SessionDep,
    done: str = "",
    by: str = "",
) -> HTMLResponse:
    """The incident: who is paged now, its timeline, and forms to act on it. Refreshes itself."""
    notice = ""
    if done in DONE:  # the message is built here from known words: a link cannot inject text
        person = incidents.directory.person(by)
        notice = DONE[done] + (f" by {person.name}." if person else ".")
    return await _detail(request, incidents, session, incident_id, notice=notice)


def _reason(err: DomainError | ValidationError, session: WebSession) -> tuple[int, str]:
    """The status and the sentence a refused form is shown with."""
    if isinstance(err, DomainError):
        reason = str(err)
        return status_of(err), reason[:1].upper() + reason[1:]
    fields = {str(error["loc"][0]) for error in err.errors()}
    if "text" in fields:
        room = NOTE_MAX - len(_signed(session, ""))
        return status.HTTP_422_UNPROCESSABLE_CONTENT, f"Write the note first: 1 to {room:,} characters."
    return status.HTTP_422_UNPROCESSABLE_CONTENT, "Choose who you are and fill in the form."


async def _refused(
    request: Request,
    incidents: IncidentService,
    session: WebSession,
    incident_id: str,
    err: DomainError | ValidationError,
) -> HTMLResponse:
    if isinstance(err, UnknownIncident):
        return not_found(request, session, "incident")
    code, reason = _reason(err, session)
    if code >= 500:  # Temporal is away: the JSON 503 with Retry-After (api.errors)
        raise err
    return await _detail(request, incidents, session, incident_id, code, refusal=reason)


def _signed(session: WebSession, text: str) -> str:
    return f"{text} ({session.via})"


@router.post("/incidents/{incident_id}/act", response_class=HTMLResponse)
async def act(
    request: Request,
    incident_id: str,
    incidents: IncidentsDep,
    session: SessionDep,
    csrf: Form_ = "",
    action: Form_ = "",
    responder: Form_ = "",
) -> Response:
    """Acknowledge, resolve or escalate as the chosen responder (the workflow's update),
    with the signed-in key's name as the action's detail."""
    if not session.csrf_ok(csrf):
        return forbidden(request, session)
    if action not in set(Action):
        code = status.HTTP_422_UNPROCESSABLE_CONTENT
        return await _detail(request, incidents, session, incident_id, code, refusal="Unknown action")
    try:
        performed = ResponderAction(responder=responder, note=session.via)
        await incidents.act(incident_id, Action(action), performed)
    except (DomainError, ValidationError) as err:
        return await _refused(request, incidents, session, incident_id, err)
    return redirect(f"/incidents/{incident_id}?" + urlencode({"done": action, "by": responder}))


@router.post("/incidents/{incident_id}/notes", response_class=HTMLResponse)
async def add_note(
    request: Request,
    incident_id: str,
    incidents: IncidentsDep,
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
        await incidents.note(incident_id, Note(author=typed.author, text=_signed(session, typed.text)))
    except (DomainError, ValidationError) as err:
        return await _refused(request, incidents, session, incident_id, err)
    return redirect(f"/incidents/{incident_id}?" + urlencode({"done": "note", "by": author}))
