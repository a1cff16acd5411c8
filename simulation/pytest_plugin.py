"""The ``simulate`` pytest fixture: a runbook's timeline to assert on, in a test of a few lines.

Installed with the project, pytest loads this plugin through its entry point
(``escalation-simulate``); no conftest is needed. A test::

    from datetime import timedelta

    def test_tier_two_comes_ten_seconds_after_the_first_page(simulate):
        timeline = simulate("demo")
        assert timeline.paged(1) == ["Alice Martin"]
        assert timeline.when("paged", tier=2) == timedelta(seconds=10)

    def test_an_ack_at_seven_minutes(simulate):
        timeline = simulate("default", [{"at": "7m", "do": "acknowledge", "by": "tier 1"}])
        assert timeline.totals.time_to_acknowledge == timedelta(minutes=7)

``simulate`` is a plain function, the same in ``def`` and ``async def`` tests. It runs the
real runbook and workflow code on a time-skipping test server with recording activities
(nothing is sent); see :class:`Simulate` for its arguments. One server is started for the
whole test session, on first use, in a thread of its own, and stopped at the session's end.

Two fixtures choose what is simulated; override them in a ``conftest.py`` or a test module::

    @pytest.fixture(scope="session")
    def simulation_world():  # who can be paged: fixture files instead of the seed files
        return World.load(get_settings(), directory=HERE / "directory.yaml",
                          schedules=HERE / "schedules.yaml", sla=HERE / "sla.yaml")

    @pytest.fixture
    def simulation_module():  # the module whose REGISTRY holds the runbooks under test
        return "my_runbooks"
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import pytest

from simulation.session import SimulationSession

# Only the standard library and pytest above: pytest imports this module at every start-up,
# so the engine (Temporal, the workflows) is imported on the first simulation only.
if TYPE_CHECKING:
    from simulation.engine import Scenario
    from simulation.script import Script, Step
    from simulation.timeline import Timeline
    from simulation.world import World

DEFAULT_START = datetime(2026, 3, 4, 14, 0, tzinfo=UTC)
"""When a simulated incident opens unless a test says otherwise: a Wednesday afternoon
(the simulation suite's start). Fixed, so a test gives the same timeline on every run."""
SHIPPED = "runbooks"  # the shipped registry module (workflows.scenario_registry.SHIPPED)

ScriptInput = Any  # a Script, a list of step dicts, a dict with name and steps, a YAML path


class Simulate(Protocol):
    def __call__(
        self,
        runbook: str,
        script: ScriptInput = None,
        *,
        start: datetime | str | None = None,
        zone: str = "UTC",
        severity: str = "SEV2",
        service: str | None = None,
        title: str = "Simulated incident",
        length: timedelta | str | None = None,
    ) -> Timeline:
        """Simulate one incident of ``runbook``; its :class:`~simulation.timeline.Timeline`.

        ``script``: what the people do, as a ``Script``, a list of steps
        (``[{"at": "7m", "do": "acknowledge", "by": "tier 1"}]``), a dict
        (``{"name": ..., "steps": [...]}``) or the path of a YAML script file; none: nobody
        acknowledges. ``start``: an aware datetime or an ISO string (a naive one is read in
        ``zone``); default :data:`DEFAULT_START`. ``zone``: the IANA zone of the wall times.
        ``length``: how long to run (``timedelta`` or ``"30m"``); default the whole ladder
        and an hour, past the script. Raises ScriptError for a bad script and
        SimulationError for any other bad input or a scenario that cannot run.
        """
        ...


def scenario_of(
    registry_module: str,
    runbook: str,
    script: ScriptInput = None,
    *,
    start: datetime | str | None = None,
    zone: str = "UTC",
    severity: str = "SEV2",
    service: str | None = None,
    title: str = "Simulated incident",
    length: timedelta | str | None = None,
) -> Scenario:
    """The scenario ``simulate`` runs (arguments as :class:`Simulate`'s); ScriptError for a
    bad script, SimulationError for anything else bad."""
    from simulation.engine import Scenario, SimulationError
    from workflows.models import Severity

    runbooks = _registry(registry_module).runbooks
    if runbook not in runbooks:
        known = ", ".join(sorted(runbooks)) or "none"
        raise SimulationError(f"no runbook {runbook!r} in {registry_module}.REGISTRY (it has: {known})")
    where = _zone(zone)
    try:
        chosen = Severity(str(severity).upper())
    except ValueError:
        raise SimulationError(f"severity: one of SEV1, SEV2, SEV3, SEV4, not {severity!r}") from None
    return Scenario(
        runbook=runbook,
        start=_start(start, where),
        severity=chosen,
        service=service,
        title=title,
        zone=zone,
        script=_script(script),
        length=_length(length),
    )


def _registry(module: str) -> Any:
    from simulation.engine import SimulationError
    from workflows.runbook import Registry

    try:
        registry = getattr(importlib.import_module(module), "REGISTRY", None)
    except ImportError as exc:
        raise SimulationError(f"simulation_module {module!r} cannot be imported: {exc}") from None
    if not isinstance(registry, Registry):
        raise SimulationError(f"simulation_module {module!r} has no REGISTRY (a workflows.runbook.Registry)")
    return registry


def _zone(zone: str) -> Any:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    from simulation.engine import SimulationError

    try:
        return ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError, OSError, TypeError):
        raise SimulationError(
            f"zone: an IANA time zone such as America/Chicago or UTC, not {zone!r}"
        ) from None


def _start(start: datetime | str | None, zone: Any) -> datetime:
    from simulation.engine import SimulationError

    if start is None:
        return DEFAULT_START
    if isinstance(start, str):
        try:
            start = datetime.fromisoformat(start.strip())
        except ValueError:
            raise SimulationError(
                f"start: an ISO date and time such as 2026-03-08T01:30, not {start!r}"
            ) from None
    if not isinstance(start, datetime):
        raise SimulationError(f"start: a datetime or an ISO string, not {type(start).__name__}")
    return start if start.tzinfo is not None else start.replace(tzinfo=zone)


def _length(length: timedelta | str | None) -> timedelta | None:
    from simulation.engine import MAX_LENGTH, SimulationError
    from simulation.script import parse_duration, spoken

    if length is None:
        return None
    try:
        found = parse_duration(length)
    except ValueError as exc:
        raise SimulationError(f"length: {exc}") from None
    if not timedelta() < found <= MAX_LENGTH:
        raise SimulationError(f"length: more than 0s and at most {spoken(MAX_LENGTH)}, not {spoken(found)}")
    return found


def _script(script: ScriptInput) -> Script:
    from simulation.script import Script, ScriptError, load_script, script_from

    if script is None:
        return Script()
    if isinstance(script, Script):
        return script
    if isinstance(script, str | os.PathLike):
        if not Path(script).is_file():
            raise ScriptError(
                f"script: no file {str(script)!r} (give a Script, a list of steps, a dict or a path)"
            )
        return load_script(Path(script))
    if isinstance(script, list | tuple):
        steps: list[dict[str, Any] | Step] = list(script)
        return script_from({"name": "the test's script", "steps": steps})
    if isinstance(script, dict):
        return script_from(script)
    raise ScriptError(
        f"script: a Script, a list of steps, a dict or a YAML path, not {type(script).__name__}"
    )


@pytest.fixture(scope="session")
def _simulation_session() -> Iterator[SimulationSession]:
    session = SimulationSession()
    yield session
    session.close()


@pytest.fixture(scope="session")
def simulation_world() -> World:
    """Who ``simulate`` can page: the seed files' directory, schedules and SLA policies
    (``runbooks/*.yaml``), never a database. Override it to simulate fixture files."""
    from simulation.suite import seed_world

    return seed_world()


@pytest.fixture(scope="session")
def simulation_module() -> str:
    """The module whose ``REGISTRY`` ``simulate`` runs: the shipped ``runbooks``. Override it
    (a fixture returning a module name) to simulate your own registry."""
    return SHIPPED


@pytest.fixture
def simulate(
    _simulation_session: SimulationSession, simulation_world: World, simulation_module: str
) -> Simulate:
    """``simulate(runbook, script=None, *, start=None, zone="UTC", severity="SEV2",
    service=None, title="Simulated incident", length=None) -> Timeline``.

    Runs one incident of ``runbook`` in simulated time and returns its timeline::

        def test_demo_pages_alice_first(simulate):
            assert simulate("demo").paged(1) == ["Alice Martin"]

    Arguments as :class:`Simulate`; the world and registry from ``simulation_world`` and
    ``simulation_module``.
    """

    def run(runbook: str, script: ScriptInput = None, **options: Any) -> Timeline:
        scenario = scenario_of(simulation_module, runbook, script, **options)
        return _simulation_session.run(simulation_module, simulation_world, scenario)

    run.__doc__ = Simulate.__call__.__doc__
    return run
