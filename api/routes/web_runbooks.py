"""``/runbooks``: the runbooks this API runs, and on each one's page the simulation of an
incident (``simulation/``): who it pages when, as a table and a picture, before anything
pages anyone.

The form is posted with the session's CSRF token like every form; ``api.simulate_page``
reads it, runs the runbook's real workflow in simulated time against the directory,
schedules and SLA policies this API serves, one simulation at a time per process (a
second waits a few seconds, then gets 429), and nothing is sent.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Form, Request, status
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from api.pages import render
from api.simulate_page import (
    MAX_LENGTH,
    MAX_STEPS,
    Busy,
    FormProblem,
    Overrun,
    scenario_of,
    simulate,
    table,
    totals,
)
from api.simulate_page import Form as SimulationForm
from api.web_session import SessionDep, WebSession, forbidden, nav, not_found
from runbooks import REGISTRY
from simulation.engine import SimulationError
from simulation.picture import svg
from simulation.script import spoken
from simulation.timeline import Timeline
from workflows.errors import Unavailable
from workflows.models import Severity
from workflows.runbook import Runbook

router = APIRouter(include_in_schema=False)
Text = Annotated[str, Form()]
RETRY_AFTER = 10


@router.get("/runbooks", response_class=HTMLResponse)
async def runbook_list(request: Request, session: SessionDep) -> HTMLResponse:
    """Every runbook by name, with its description."""
    runbooks = sorted(REGISTRY.runbooks.values(), key=lambda r: r.name)
    return render("runbooks.html", nav=nav(request, session), runbooks=runbooks)


def _page(
    request: Request,
    session: WebSession,
    runbook: Runbook,
    form: SimulationForm,
    code: int = 200,
    error: str = "",
    timeline: Timeline | None = None,
) -> HTMLResponse:
    result = None
    if timeline is not None:
        # svg() escapes every text it draws: the drawing is safe markup as it stands.
        picture = Markup(svg(timeline))
        result = {"rows": table(timeline), "totals": totals(timeline), "picture": picture}
    response = render(
        "runbook.html",
        code,
        nav=nav(request, session),
        csrf=session.csrf,
        runbook=runbook,
        values=asdict(form),
        severities=list(Severity),
        error=error,
        result=result,
        max_length=spoken(MAX_LENGTH),
        max_steps=MAX_STEPS,
    )
    if code == status.HTTP_429_TOO_MANY_REQUESTS:
        response.headers["Retry-After"] = str(RETRY_AFTER)
    return response


def _sample(runbook: Runbook) -> str:
    """The service a simulation of ``runbook`` opens on when the form names none."""
    return runbook.sample_services[0] if runbook.sample_services else "example"


@router.get("/runbooks/{name}", response_class=HTMLResponse)
async def runbook_page(request: Request, name: str, session: SessionDep) -> HTMLResponse:
    """A runbook and the form to simulate an incident it runs (an example script filled in)."""
    runbook = REGISTRY.runbooks.get(name)
    if runbook is None:
        return not_found(request, session, "runbook")
    form = SimulationForm.blank(_sample(runbook), datetime.now(UTC))
    return _page(request, session, runbook, form)


@router.post("/runbooks/{name}", response_class=HTMLResponse)
async def simulate_runbook(
    request: Request,
    name: str,
    session: SessionDep,
    csrf: Text = "",
    severity: Text = "",
    service: Text = "",
    start: Text = "",
    zone: Text = "",
    title: Text = "",
    length: Text = "",
    script: Text = "",
) -> Response:
    """Simulate the incident the form describes and show its timeline (nothing is sent)."""
    if not session.csrf_ok(csrf):
        return forbidden(request, session)
    runbook = REGISTRY.runbooks.get(name)
    if runbook is None:
        return not_found(request, session, "runbook")
    form = SimulationForm(severity, service, start, zone, title, length, script)
    try:
        timeline = await simulate(request, scenario_of(runbook.name, form, _sample(runbook)))
    except (FormProblem, SimulationError) as exc:
        return _page(request, session, runbook, form, status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc))
    except Busy as exc:
        return _page(request, session, runbook, form, status.HTTP_429_TOO_MANY_REQUESTS, str(exc))
    except Overrun as exc:
        return _page(request, session, runbook, form, status.HTTP_503_SERVICE_UNAVAILABLE, str(exc))
    except Unavailable:
        error = "The schedules could not be read from the database: try again in a moment."
        return _page(request, session, runbook, form, status.HTTP_503_SERVICE_UNAVAILABLE, error)
    return _page(request, session, runbook, form, timeline=timeline)
