"""``/maintenance``: the maintenance windows in force and to come, a form to add one and a
button to end one; and the banner the incident list shows while any is in force.

Times are typed and shown in UTC. The forms are posted with the session's CSRF token like
every form, and go through ``services.maintenance`` as ``/api/maintenance-windows`` does.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from api.errors import form_problem
from api.pages import render
from api.routes.maintenance import maintenance_of
from api.web_session import SessionDep, WebSession, forbidden, nav, not_found, redirect
from workflows.errors import DomainError, NotFound, Unavailable
from workflows.maintenance import MaintenanceWindow, MaintenanceWindowSpec, describe

router = APIRouter(include_in_schema=False)
Text = Annotated[str, Form()]
NOTICES = {"added": "Maintenance window added.", "ended": "Maintenance window ended."}
FIELDS = {
    "services": "Services",
    "labels": "Labels",
    "start": "Start",
    "end": "End",
    "reason": "Reason",
}
EMPTY = {"services": "", "labels": "", "start": "", "end": "", "reason": "", "suppress_all": ""}


def shown(window: MaintenanceWindow) -> dict[str, object]:
    """What a page shows of a window."""
    return {
        "id": window.id,
        "scope": describe(window),
        "start": window.start,
        "until": window.until,
        "reason": window.reason,
        "suppress_all": window.suppress_all,
        "by": window.created_by,
    }


async def banner(request: Request) -> list[dict[str, object]]:
    """The windows in force now, for the banner; none when the database does not answer
    (the incident list must not fail for it)."""
    try:
        return [shown(w) for w in await maintenance_of(request).active()]
    except Unavailable:
        return []


async def _page(
    request: Request,
    session: WebSession,
    code: int = 200,
    errors: list[str] | None = None,
    values: dict[str, str] | None = None,
    notice: str = "",
) -> HTMLResponse:
    now = datetime.now(UTC)
    windows = await maintenance_of(request).list_windows()
    return render(
        "maintenance.html",
        code,
        nav=nav(request, session),
        csrf=session.csrf,
        maintenance=[shown(w) for w in windows if w.start <= now],
        coming=[shown(w) for w in windows if w.start > now],
        errors=errors or [],
        values=values or EMPTY,
        notice=notice,
    )


@router.get("/maintenance", response_class=HTMLResponse)
async def maintenance_page(request: Request, session: SessionDep, done: str = "") -> HTMLResponse:
    """The windows in force and to come, and the form to add one."""
    return await _page(request, session, notice=NOTICES.get(done, ""))


def _utc(value: str, field: str) -> datetime:
    """A ``datetime-local`` field, read as UTC."""
    try:
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    except ValueError:
        raise ValueError(f"{field}: a date and time (YYYY-MM-DDTHH:MM).") from None


def _labels(text: str) -> dict[str, str]:
    found = {}
    for line in text.splitlines():
        if line.strip():
            key, sep, value = line.partition("=")
            if not sep or not key.strip():
                raise ValueError("Labels: one key=value a line.")
            found[key.strip()] = value.strip()
    return found


@router.post("/maintenance", response_class=HTMLResponse)
async def add_window(
    request: Request,
    session: SessionDep,
    csrf: Text = "",
    services: Text = "",
    labels: Text = "",
    start: Text = "",
    end: Text = "",
    reason: Text = "",
    suppress_all: Text = "",
) -> Response:
    """Add a window, as the signed-in key, then show the list again."""
    if not session.csrf_ok(csrf):
        return forbidden(request, session)
    values = {
        "services": services,
        "labels": labels,
        "start": start,
        "end": end,
        "reason": reason,
        "suppress_all": suppress_all,
    }
    try:
        now, until = datetime.now(UTC), _utc(end, "End")
        if until <= now:
            raise ValueError("End: the maintenance window's end is in the past.")
        spec = MaintenanceWindowSpec(
            services=[s for s in re.split(r"[,\s]+", services) if s],
            labels=_labels(labels),
            start=_utc(start, "Start") if start else now,
            end=until,
            reason=reason,
            suppress_all=bool(suppress_all),
        )
        await maintenance_of(request).create(spec, by=session.key_name or "web")
    except (ValueError, ValidationError, DomainError) as err:
        code, reason = form_problem(err, FIELDS)
        return await _page(request, session, code, [reason], values)
    return redirect("/maintenance?done=added")


@router.post("/maintenance/{window_id}/end", response_class=HTMLResponse)
async def end_window(request: Request, window_id: str, session: SessionDep, csrf: Text = "") -> Response:
    """End a window now (cancel one to come), then show the list again."""
    if not session.csrf_ok(csrf):
        return forbidden(request, session)
    try:
        await maintenance_of(request).delete(window_id)
    except NotFound:
        return not_found(request, session, "maintenance window")
    return redirect("/maintenance?done=ended")
