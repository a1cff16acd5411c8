"""The simulation suite ``escalate verify`` runs: every runbook under five scripts.

Each shipped runbook, at every severity, under:

- **no-ack**: nobody acknowledges; the whole ladder runs;
- **ack-at-tier-2**: whoever tier 2 paged acknowledges a minute after that page is due,
  then resolves half an hour later;
- **flapping-alert**: the alert fires again every two minutes for ten minutes, then the
  first person paged resolves it;
- **hand-off-mid-tier**: the incident opens three minutes before the first shift change
  of the schedules, and nobody acknowledges;
- **DST-night**: the incident opens at 01:30 on the night the clocks go forward in
  Chicago, and nobody acknowledges.

The world is the seed files' (directory, schedules, SLA policies), never a database, so
the suite gives the same timelines on every machine. ``python -m simulation.suite
OUT.json`` writes them as one JSON object keyed by scenario name: how ``escalate
verify`` reads the suite of another git revision.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from runbooks.directory import load_directory
from runbooks.schedule_seed import load_schedules
from runbooks.sla_seed import load_policies
from schedules.oncall import next_change
from services.settings import get_settings
from simulation.engine import Scenario, SimulationError, Simulator
from simulation.script import Do, Script, Step
from simulation.world import World
from workflows.models import Incident, Severity
from workflows.runbook import Registry
from workflows.scenario_registry import SHIPPED

START = datetime(2026, 3, 4, 14, 0, tzinfo=UTC)  # a Wednesday afternoon
DST_NIGHT = datetime(2026, 3, 8, 1, 30, tzinfo=ZoneInfo("America/Chicago"))
SCRIPTS = ("no-ack", "ack-at-tier-2", "flapping-alert", "hand-off-mid-tier", "DST-night")


def seed_world() -> World:
    """The seed files' directory, schedules and SLA policies."""
    settings = get_settings()
    return World(
        directory=load_directory(settings.directory_file),
        schedules=tuple(load_schedules(settings.schedules_file)),
        policies=load_policies(settings.sla_file),
    )


def scenarios(registry: Registry, world: World) -> list[tuple[str, Scenario]]:
    """Every (name, scenario) of the suite, in a fixed order."""
    changes = [at for s in world.schedules if (at := next_change(s, START)) is not None]
    handoff = min(changes, default=START + timedelta(hours=1))
    found = []
    for name in sorted(registry.runbooks):
        runbook = registry.runbooks[name]
        service = runbook.sample_services[0] if runbook.sample_services else "simulated"
        for severity in Severity:
            incident = Incident(
                id="suite", title="suite", severity=severity, service=service, created_at=START
            )
            try:
                plan = registry.plan(incident, world.directory, name)
            except Exception:  # a plan that fails is validate's to report
                continue
            first = plan.tiers[0].ack_timeout if plan.tiers else timedelta(minutes=5)
            for script_name in SCRIPTS:
                start, zone, script = START, "UTC", _script(script_name, first)
                if script_name == "hand-off-mid-tier":
                    start = handoff - timedelta(minutes=3)
                elif script_name == "DST-night":
                    start, zone = DST_NIGHT, "America/Chicago"
                scenario = Scenario(
                    runbook=name, start=start, zone=zone, script=script, severity=severity, service=service
                )
                found.append((f"{name} {severity} {script_name}", scenario))
    return found


def _script(name: str, first_timeout: timedelta) -> Script:
    minute = timedelta(minutes=1)
    steps: list[Step] = []
    if name == "ack-at-tier-2":
        steps = [
            Step(at=first_timeout + minute, do=Do.ACKNOWLEDGE, by="tier 2"),
            Step(at=first_timeout + 31 * minute, do=Do.RESOLVE, by="tier 2"),
        ]
    elif name == "flapping-alert":
        steps = [Step(at=n * 2 * minute, do=Do.REPEAT) for n in range(1, 6)]
        steps.append(Step(at=12 * minute, do=Do.RESOLVE, by="paged"))
    return Script(name=name, steps=tuple(steps))


async def run_suite(
    module: str = SHIPPED, world: World | None = None, progress: Callable[[str], None] | None = None
) -> dict[str, dict]:
    """Every scenario's timeline as JSON, by scenario name; a scenario that cannot run
    gives ``{"error": ...}``."""
    world = world or seed_world()
    registry: Registry = importlib.import_module(module).REGISTRY
    results: dict[str, dict] = {}
    async with Simulator(world, module=module) as simulator:
        named = scenarios(registry, world)
        for count, (name, scenario) in enumerate(named, 1):
            try:
                results[name] = (await simulator.run(scenario)).as_json()
            except (SimulationError, TimeoutError) as exc:
                results[name] = {"error": f"{type(exc).__name__}: {exc}"}
            if progress is not None:
                progress(f"[{count}/{len(named)}] {name}")
    return results


def main() -> None:
    """``python -m simulation.suite OUT.json``: the timelines into OUT.json (a file: the
    SDK's own log lines go to standard output)."""
    results = asyncio.run(run_suite(progress=lambda line: print(line, file=sys.stderr, flush=True)))
    Path(sys.argv[1]).write_text(json.dumps(results, ensure_ascii=False, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
