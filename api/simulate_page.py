"""What the runbook page's simulation form does: read the form into a scenario, run it
against the world the API holds, and shape the timeline for the page.

The world is the directory, the schedules and the SLA policies this process already
serves (``app.state``): the same people and rotas the incidents of this API would page.

One simulation at a time per API process: each runs its own time-skipping test server
and worker, so a second request waits up to :data:`BUSY_WAIT` seconds for the first to
finish and is then refused (:class:`Busy`, 429 with Retry-After). A script is at most
:data:`MAX_SCRIPT_CHARS` characters and :data:`MAX_STEPS` steps, a scenario at most
:data:`MAX_LENGTH` long, and a run that takes more than :data:`RUN_TIMEOUT` seconds is
stopped.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from fastapi import Request
from pydantic import ValidationError

from simulation.engine import Scenario, Simulator
from simulation.script import Script, ScriptError, parse_duration, script_from, spoken
from simulation.timeline import Timeline
from simulation.world import World
from workflows.models import IncidentRequest, Severity

MAX_LENGTH = timedelta(days=31)
MAX_STEPS = 50
MAX_SCRIPT_CHARS = 10_000
BUSY_WAIT = 10.0  # seconds a second simulation waits for the first
RUN_TIMEOUT = 120.0  # seconds one simulation may take
_ZONE = re.compile(r"[A-Za-z0-9_+\-]+(/[A-Za-z0-9_+\-]+){0,2}")
FIELDS = {"title": "Title", "service": "Service", "severity": "Severity"}
EXAMPLE_SCRIPT = """\
name: tier 1 acknowledges at 7m, resolved at 40m
steps:
  - {at: 7m, do: acknowledge, by: tier 1}   # whoever tier 1 paged last
  - {at: 40m, do: resolve}
"""


class FormProblem(ValueError):
    """The form cannot be simulated: one sentence saying why (422)."""


class Busy(RuntimeError):
    """Another simulation held this process for longer than :data:`BUSY_WAIT` (429)."""


class Overrun(RuntimeError):
    """The run took longer than :data:`RUN_TIMEOUT`, or its test server stalled (503)."""


@dataclass(frozen=True)
class Form:
    """The simulation form as typed (shown again with the result or the problem)."""

    severity: str = Severity.SEV2.value
    service: str = ""
    start: str = ""  # datetime-local: YYYY-MM-DDTHH:MM
    zone: str = "UTC"
    title: str = "Simulated incident"
    length: str = ""  # empty: the whole ladder and a margin
    script: str = EXAMPLE_SCRIPT

    @classmethod
    def blank(cls, sample_service: str, now: datetime) -> Form:
        return cls(service=sample_service, start=now.strftime("%Y-%m-%dT%H:%M"))


def zone_of(name: str) -> ZoneInfo:
    """The IANA time zone ``name``; FormProblem if there is none."""
    try:
        if not _ZONE.fullmatch(name):
            raise ValueError(name)
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise FormProblem(
            "Time zone: an IANA time zone name such as America/Chicago, Europe/Paris or UTC."
        ) from None


def scenario_of(runbook: str, form: Form, sample_service: str = "example") -> Scenario:
    """The scenario the form asks for (an empty service: ``sample_service``). Raises
    FormProblem with one sentence."""
    zone = zone_of(form.zone.strip())
    try:
        start = datetime.fromisoformat(form.start).replace(tzinfo=zone)
    except ValueError:
        raise FormProblem("Start: a date and time (YYYY-MM-DDTHH:MM).") from None
    length = None
    if form.length.strip():
        try:
            length = parse_duration(form.length)
        except ValueError as exc:
            raise FormProblem(f"Length: {exc}.") from None
        if not timedelta() < length <= MAX_LENGTH:
            raise FormProblem(f"Length: more than 0s and at most {spoken(MAX_LENGTH)}.")
    try:
        request = IncidentRequest(
            title=form.title,
            severity=form.severity,
            service=form.service.strip() or sample_service,
            runbook=runbook,
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        where = FIELDS.get(str(first["loc"][0]), "Incident") if first["loc"] else "Incident"
        raise FormProblem(f"{where}: {str(first['msg']).removeprefix('Value error, ')}.") from None
    return Scenario(
        runbook=runbook,
        start=start,
        zone=zone.key,
        severity=request.severity,
        service=request.service,
        title=request.title,
        script=_script(form.script),
        length=length,
    )


def _script(text: str) -> Script:
    if len(text) > MAX_SCRIPT_CHARS:
        raise FormProblem(f"Script: at most {MAX_SCRIPT_CHARS:,} characters.")
    try:
        data = yaml.safe_load(text) if text.strip() else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise FormProblem(f"Script: not valid YAML{where}.") from None
    steps = data.get("steps") if isinstance(data, dict) else None
    if isinstance(steps, list) and len(steps) > MAX_STEPS:
        raise FormProblem(f"Script: at most {MAX_STEPS} steps.")
    try:
        return script_from(data, "Script")
    except ScriptError as exc:
        raise FormProblem(f"{exc}.") from None


async def world_of(request: Request) -> World:
    """The directory, schedules and SLA policies this API serves now.

    Raises:
        Unavailable: the database holding the schedules does not answer.
    """
    state = request.app.state
    schedules = await state.schedules.list_schedules()
    return World(state.directory.current(), tuple(schedules), dict(state.sla_policies.current()))


def _gate(request: Request) -> asyncio.Semaphore:
    """The process's one permit to simulate (made on first use, on the app's loop)."""
    gate = getattr(request.app.state, "simulation_gate", None)
    if gate is None:
        gate = request.app.state.simulation_gate = asyncio.Semaphore(1)
    return gate


async def simulate(request: Request, scenario: Scenario) -> Timeline:
    """Run ``scenario``, one at a time in this process.

    Raises:
        Busy: another simulation ran for all of :data:`BUSY_WAIT`.
        SimulationError: the incident could not be opened (an unknown person, a plan
            that fails).
        Overrun: the run took longer than :data:`RUN_TIMEOUT`, or stalled.
        Unavailable: the database holding the schedules does not answer.
    """
    gate = _gate(request)
    try:
        await asyncio.wait_for(gate.acquire(), BUSY_WAIT)
    except TimeoutError:
        raise Busy("Another simulation is running: try again in a few seconds.") from None
    limit = asyncio.timeout(RUN_TIMEOUT)
    try:
        world = await world_of(request)
        async with limit, Simulator(world) as simulator:
            return await simulator.run(scenario)
    except TimeoutError:
        if limit.expired():
            raise Overrun(
                f"The simulation took longer than {RUN_TIMEOUT:.0f} seconds: try a shorter length."
            ) from None
        raise Overrun("The simulation stalled: its test server stopped moving on. Try again.") from None
    finally:
        gate.release()


def table(timeline: Timeline) -> list[dict[str, str]]:
    """The timeline's rows as the page's table shows them."""
    names = ("offset", "at", "tier", "action", "who", "why")
    return [dict(zip(names, row.cells(), strict=True)) for row in timeline.rows]


def totals(timeline: Timeline) -> list[tuple[str, str]]:
    """The timeline's totals, in words."""
    return timeline.totals.words(timeline.length)
