"""Calendar feeds of final on-call shifts: per schedule and per person.

``GET /api/schedules/{id}/calendar-link`` and ``GET /api/people/{id}/calendar-link`` (API
key) give the address to subscribe to, ``/calendars/<token>.ics``: calendar apps send no
header, so the signed token in the address is the credential (``services.calendars``). The
feed lists the next 60 days of final shifts; an unknown or forged token is a 404.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, Response, status
from pydantic import BaseModel

from api.deps import ApiKey
from api.errors import INCIDENT_ERRORS, Responses, error_doc
from api.routes.schedules import READ_ERRORS, schedules_of
from runbooks.directory import Directory
from services.calendars import BadCalendarToken, CalendarLinks, Kind, ical
from services.people import DirectoryService
from services.schedules import UnknownSchedule

FEED_DAYS = 60
FEED_HEADERS = {"Cache-Control": "private, max-age=300", "Referrer-Policy": "no-referrer"}
router = APIRouter(tags=["on-call calendars"])
PERSON_ERRORS: Responses = {**READ_ERRORS, 404: error_doc("No such person")}
FEED_ANSWERS: Responses = {
    200: {"content": {"text/calendar": {}}, "description": "An iCalendar feed of final shifts"},
    404: error_doc("No such calendar: the link is not valid, or what it showed is gone"),
    503: INCIDENT_ERRORS[503],
}


class CalendarLink(BaseModel):
    """The address a calendar app subscribes to (keep it private: it is the credential)."""

    url: str


def _links(request: Request) -> CalendarLinks:
    return CalendarLinks(request.app.state.settings.link_secrets)


def _link(request: Request, kind: Kind, ident: str) -> CalendarLink:
    token = _links(request).sign(kind, ident)
    return CalendarLink(url=f"{request.app.state.settings.public_url}/calendars/{token}.ics")


def _directory(request: Request) -> DirectoryService:
    service: DirectoryService = request.app.state.directory
    return service


@router.get("/api/schedules/{schedule_id}/calendar-link", response_model=CalendarLink, responses=READ_ERRORS)
async def schedule_calendar_link(schedule_id: str, request: Request, _: ApiKey) -> CalendarLink:
    """The address of the schedule's calendar feed: its final shifts, the next 60 days."""
    await schedules_of(request).get(schedule_id)
    return _link(request, "schedule", schedule_id)


@router.get("/api/people/{person_id}/calendar-link", response_model=CalendarLink, responses=PERSON_ERRORS)
async def person_calendar_link(person_id: str, request: Request, _: ApiKey) -> CalendarLink:
    """The address of a person's calendar feed: their final shifts in every schedule."""
    _directory(request).person(person_id)
    return _link(request, "person", person_id)


def _gone() -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, "no such calendar", headers=FEED_HEADERS)


@router.get("/calendars/{token}.ics", response_class=Response, responses=FEED_ANSWERS)
async def calendar_feed(token: str, request: Request) -> Response:
    """The feed a calendar app subscribes to: the next 60 days of final shifts, one event
    per shift with a UID that stays the same at every refresh. No API key: the token is one."""
    try:
        kind, ident = _links(request).verify(token)
    except BadCalendarToken:
        raise _gone() from None
    service = schedules_of(request)
    directory: Directory = _directory(request).current()
    names = {person.id: person.name for person in directory.people}
    try:
        if kind == "schedule":
            title = (await service.get(ident)).name
            shifts = await service.feed(None, ident, FEED_DAYS)
        elif ident in names:
            title = names[ident]
            shifts = await service.feed(ident, None, FEED_DAYS)
        else:
            raise _gone()
    except UnknownSchedule:
        raise _gone() from None
    body = ical(f"On call: {title}", shifts, names, ident if kind == "person" else None)
    return Response(body, media_type="text/calendar; charset=utf-8", headers=FEED_HEADERS)
