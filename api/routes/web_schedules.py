"""``/oncall`` and ``/schedules/{id}``: who is on call, and a schedule's next 14 days.

``/oncall`` lists every schedule with who is on call now and the next hand-off;
``/schedules/{id}`` draws the next 14 days as a server-side SVG timeline (a lane per
layer, the final lane, gaps in red) and has the forms to add and remove overrides (times
typed in the schedule's own zone), posted with the session's CSRF token like every form.
Both answer from ``services.schedules``, as ``/api/schedules`` does.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from api.errors import form_problem
from api.pages import render
from api.routes.schedules import schedules_of
from api.timeline import colour, timeline
from api.web_session import SessionDep, WebSession, forbidden, nav, not_found, redirect
from schedules.models import OverrideSpec
from services.calendars import CalendarLinks
from services.schedules import period
from workflows.errors import DomainError, NotFound

router = APIRouter(include_in_schema=False)
Text = Annotated[str, Form()]
NOTICES = {"added": "Override added.", "removed": "Override removed."}
FIELDS = {"start": "Start", "end": "End", "add": "Add", "remove": "Remove", "reason": "Reason"}


def _names(request: Request) -> dict[str, str]:
    return {p.id: p.name for p in request.app.state.directory.current().people}


@router.get("/oncall", response_class=HTMLResponse)
async def oncall_board(request: Request, session: SessionDep) -> HTMLResponse:
    """Who is on call now in every schedule, and when that may change next."""
    board = await schedules_of(request).board()
    return render("oncall.html", nav=nav(request, session), board=board, names=_names(request), colour=colour)


async def _page(
    request: Request,
    session: WebSession,
    schedule_id: str,
    code: int = 200,
    errors: list[str] | None = None,
    values: dict[str, str] | None = None,
    notice: str = "",
) -> HTMLResponse:
    service = schedules_of(request)
    now = datetime.now(UTC)
    schedule = await service.get(schedule_id, now)
    since, until = period(now, None)
    coverage = await service.shifts(schedule_id, since, until)
    names = _names(request)
    settings = request.app.state.settings
    token = CalendarLinks(settings.link_secrets).sign("schedule", schedule_id)
    return render(
        "schedule.html",
        code,
        nav=nav(request, session),
        csrf=session.csrf,
        schedule=schedule,
        now=await service.oncall(schedule_id, now),
        coverage=coverage,
        chart=timeline(coverage, [layer.name for layer in schedule.layers], names, schedule.time_zone),
        names=names,
        people=sorted(names.items(), key=lambda item: item[1]),
        zone=ZoneInfo(schedule.time_zone),
        calendar_url=f"{settings.public_url}/calendars/{token}.ics",
        errors=errors or [],
        values=values or {"start": "", "end": "", "add": "", "remove": "", "reason": ""},
        notice=notice,
    )


@router.get("/schedules/{schedule_id}", response_class=HTMLResponse)
async def schedule_page(
    request: Request, schedule_id: str, session: SessionDep, done: str = ""
) -> HTMLResponse:
    """The schedule's next 14 days, its overrides, and the forms to change them."""
    try:
        return await _page(request, session, schedule_id, notice=NOTICES.get(done, ""))
    except NotFound:
        return not_found(request, session, "schedule")


def _local(value: str, field: str, zone: ZoneInfo) -> datetime:
    """A ``datetime-local`` field, read as wall-clock time in the schedule's zone."""
    try:
        return datetime.fromisoformat(value).replace(tzinfo=zone)
    except ValueError:
        raise ValueError(f"{field}: a date and time (YYYY-MM-DDTHH:MM).") from None


@router.post("/schedules/{schedule_id}/overrides", response_class=HTMLResponse)
async def add_override(
    request: Request,
    schedule_id: str,
    session: SessionDep,
    csrf: Text = "",
    start: Text = "",
    end: Text = "",
    add: Text = "",
    remove: Text = "",
    reason: Text = "",
) -> Response:
    """Add an override, as the signed-in key, then show the schedule again."""
    if not session.csrf_ok(csrf):
        return forbidden(request, session)
    values = {"start": start, "end": end, "add": add, "remove": remove, "reason": reason}
    service = schedules_of(request)
    try:
        zone = ZoneInfo((await service.get(schedule_id)).time_zone)
        spec = OverrideSpec(
            start=_local(start, "Start", zone),
            end=_local(end, "End", zone),
            add=add or None,
            remove=remove or None,
            reason=reason,
        )
        await service.add_override(schedule_id, spec, by=session.key_name or "web")
    except NotFound:
        return not_found(request, session, "schedule")
    except (ValueError, ValidationError, DomainError) as err:
        code, reason = form_problem(err, FIELDS)
        return await _page(request, session, schedule_id, code, [reason], values)
    return redirect(f"/schedules/{schedule_id}?done=added")


@router.post("/schedules/{schedule_id}/overrides/{override_id}/delete", response_class=HTMLResponse)
async def remove_override(
    request: Request, schedule_id: str, override_id: str, session: SessionDep, csrf: Text = ""
) -> Response:
    """Remove an override, then show the schedule again."""
    if not session.csrf_ok(csrf):
        return forbidden(request, session)
    try:
        await schedules_of(request).delete_override(schedule_id, override_id)
    except NotFound:
        return not_found(request, session, "override")
    return redirect(f"/schedules/{schedule_id}?done=removed")
