"""``/r/{token}``: the action links in responders' emails.

GET only shows a confirmation page and never acts: mail scanners open every
link (some run its script), so the action happens on the button's POST. The
page has no script at all, so nothing can submit the form but a person.
"""

from __future__ import annotations

import hashlib

from fastapi import APIRouter, Request, status
from fastapi.responses import HTMLResponse

from api.deps import IncidentsDep
from api.errors import status_of
from api.link_pages import PAGE, refusal, verified
from api.pages import local_time, render
from security.links import LinkClaim, LinkSigner
from services.handles import acted_at
from services.incidents import IncidentService
from workflows.errors import DomainError, UnknownIncident, UnknownResponder
from workflows.models import IncidentView, Person, ResponderAction

router = APIRouter(tags=["action links"], include_in_schema=True)
NOTHING_CHANGED = "Nothing was changed. Use the latest email, or open the incident another way."


def _signer(request: Request) -> LinkSigner:
    settings = request.app.state.settings
    return LinkSigner(settings.link_secrets, settings.link_max_age)


def _refuse(reason: str, code: int = status.HTTP_400_BAD_REQUEST) -> HTMLResponse:
    return refusal(reason, code, NOTHING_CHANGED)


def _claim(
    token: str, request: Request, incidents: IncidentService
) -> tuple[LinkClaim, Person] | HTMLResponse:
    """The link's claim and its responder, or the refusal page to show instead."""
    claim = verified(_signer(request).verify, token, NOTHING_CHANGED)
    if isinstance(claim, HTMLResponse):
        return claim
    try:
        return claim, incidents.person(claim.responder)
    except UnknownResponder:
        return _refuse("This link's responder is no longer in the directory", 403)


@router.get("/r/{token}", response_class=HTMLResponse, responses={200: PAGE, 400: PAGE, 403: PAGE, 404: PAGE})
async def confirm(token: str, request: Request, incidents: IncidentsDep):
    """A confirmation page for the link's action. Changes nothing."""
    checked = _claim(token, request, incidents)
    if isinstance(checked, HTMLResponse):
        return checked
    claim, person = checked
    incident = await _incident(incidents, claim.incident)
    if isinstance(incident, HTMLResponse):
        return incident
    return render("confirm.html", action=claim.action, incident=incident, person=person)


async def _incident(incidents: IncidentService, incident_id: str) -> IncidentView | HTMLResponse:
    """The link's incident (its own opening), or the page to show instead: a link
    is read by a person, so it never answers with JSON."""
    try:
        return await incidents.read(incident_id)
    except UnknownIncident:
        return _refuse("This incident no longer exists", 404)
    except DomainError:
        return _unavailable()


def _unavailable() -> HTMLResponse:
    return refusal(
        "The incident cannot be reached right now",
        status.HTTP_503_SERVICE_UNAVAILABLE,
        "Nothing was changed. Try again in a minute; if it persists, tell the on-call operator.",
    )


@router.post(
    "/r/{token}",
    response_class=HTMLResponse,
    responses={200: PAGE, 400: PAGE, 403: PAGE, 404: PAGE, 409: PAGE},
)
async def perform(token: str, request: Request, incidents: IncidentsDep):
    """Perform the link's action (the confirmation page's button)."""
    checked = _claim(token, request, incidents)
    if isinstance(checked, HTMLResponse):
        return checked
    claim, person = checked
    # The same link pressed twice is one update: Temporal returns the first result.
    update_id = f"link-{claim.action}-" + hashlib.sha256(token.encode()).hexdigest()[:24]
    try:
        view = await incidents.act(
            claim.incident, claim.action, ResponderAction(responder=person.id), update_id
        )
    except UnknownIncident:
        return _refuse("This incident no longer exists", 404)
    except DomainError as err:
        code = status_of(err)
        if code >= 500:
            return _unavailable()
        incident = await _incident(incidents, claim.incident)
        if isinstance(incident, HTMLResponse):
            return incident
        reason = str(err)
        return render(
            "result.html",
            code,
            ok=False,
            incident=incident,
            headline=reason[:1].upper() + reason[1:],
            detail="",
        )
    return render(
        "result.html",
        ok=True,
        incident=view,
        headline=f"{claim.action.past} by {person.name} at "
        f"{local_time(acted_at(view, claim.action), person.timezone)}",
        detail="",
    )
