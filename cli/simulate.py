"""The author's commands: ``escalate simulate``, ``escalate verify`` and
``escalate export-histories`` (argument parsing and printing; the work is in ``simulation``)."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from simulation.script import spoken
from workflows.models import Severity


def add_commands(commands: argparse._SubParsersAction) -> dict[str, Callable[[argparse.Namespace], int]]:
    """Add the three commands to ``escalate``'s parser; their handlers by name."""
    simulate = commands.add_parser(
        "simulate", help="run a runbook in simulated time and show who it pages when (nothing is sent)"
    )
    simulate.add_argument("runbook", help="the runbook's name (escalate validate lists them)")
    simulate.add_argument("--start", help="local date and time the incident opens, e.g. 2026-03-08T01:30")
    simulate.add_argument("--tz", default="UTC", help="the time zone of --start and of the times shown")
    simulate.add_argument("--severity", default="SEV2", choices=[s.value for s in Severity])
    simulate.add_argument("--service", help="default: the runbook's first sample service")
    simulate.add_argument("--title", default="Simulated incident")
    simulate.add_argument("--script", type=Path, help="what people do, a YAML file (docs/runbooks.md)")
    simulate.add_argument("--until", help="how long to simulate, e.g. 6h or 30d (default: the ladder and 1h)")
    simulate.add_argument("--format", choices=["table", "json"], default="table")
    simulate.add_argument("--picture", type=Path, help="also draw the timeline into this SVG file")
    simulate.add_argument("--directory", type=Path, help="people and teams from this file, not the database")
    simulate.add_argument("--schedules", type=Path, help="on-call schedules from this file, not the database")
    simulate.add_argument("--sla", type=Path, help="SLA policies from this file, not the database")
    simulate.add_argument("--module", default="runbooks", help="the module whose REGISTRY holds the runbook")

    verify = commands.add_parser("verify", help="replay recorded histories and compare simulated timelines")
    verify.add_argument(
        "--base", default="HEAD", help="git revision to compare timelines with (default HEAD)"
    )
    verify.add_argument("--no-base", action="store_true", help="do not compare with a base revision")
    verify.add_argument("--histories", type=Path, action="append", default=[], help="more history folders")
    verify.add_argument("--strict", action="store_true", help="fail on any difference of the timelines")

    export = commands.add_parser("export-histories", help="save recent incidents' histories for verify")
    export.add_argument("--to", type=Path, default=None, help="folder (default: histories)")
    export.add_argument("--limit", type=int, default=20, help="how many of the latest incidents (default 20)")
    return {
        name: _leaving(handler)
        for name, handler in [("simulate", _simulate), ("verify", _verify), ("export-histories", _export)]
    }


def _leaving(handler: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Run ``handler`` and leave the process with its code (see :func:`_leave`)."""

    def run(args: argparse.Namespace) -> int:
        try:
            code = handler(args)
        except KeyboardInterrupt:
            code = 130
        except Exception as exc:  # reported in one line; the trace helps nobody at 3 a.m.
            print(f"escalate {args.command}: {type(exc).__name__}: {exc}", file=sys.stderr)
            code = 1
        return _leave(code)

    return run


def _fail(message: str) -> int:
    print(f"escalate: {message}", file=sys.stderr)
    return 2


def _simulate(args: argparse.Namespace) -> int:
    from runbooks.directory import DirectoryError
    from services.settings import get_settings
    from simulation.engine import Scenario, SimulationError
    from simulation.picture import svg
    from simulation.script import Script, ScriptError, load_script, parse_duration
    from simulation.world import World

    try:
        zone = ZoneInfo(args.tz)
    except (ZoneInfoNotFoundError, ValueError):
        return _fail(f"--tz {args.tz!r} is not a time zone (e.g. Europe/Paris, America/Chicago, UTC)")
    try:
        start = datetime.fromisoformat(args.start) if args.start else datetime.now(UTC).replace(second=0)
    except ValueError:
        return _fail(f"--start {args.start!r} is not a date and time (e.g. 2026-03-08T01:30)")
    start = start.replace(microsecond=0, tzinfo=start.tzinfo or zone)
    try:
        length = parse_duration(args.until) if args.until else None
        script = load_script(args.script) if args.script else Script()
        world = World.load(get_settings(), args.directory, args.schedules, args.sla)
    except (ValueError, ScriptError, DirectoryError) as exc:
        return _fail(str(exc))
    scenario = Scenario(
        runbook=args.runbook,
        start=start,
        zone=args.tz,
        severity=Severity(args.severity),
        service=args.service,
        title=args.title,
        script=script,
        length=length,
    )
    show = _progress() if length and length > timedelta(days=1) else None
    try:
        timeline = asyncio.run(_run(world, args.module, scenario, show))
    except (SimulationError, TimeoutError) as exc:
        return _fail(f"cannot simulate {args.runbook!r}: {exc}")
    if args.picture:
        args.picture.write_text(svg(timeline), encoding="utf-8")
    sys.stdout.write(timeline.to_json() if args.format == "json" else timeline.table())
    return 0


async def _run(world, module: str, scenario, progress):  # noqa: ANN001, ANN202
    from simulation.engine import Simulator

    async with Simulator(world, module=module, progress=progress) as simulator:
        return await simulator.run(scenario)


def _progress() -> Callable[[timedelta, timedelta], None]:
    """Report a long run on stderr, at most every 5 % of it."""
    shown = [-1]

    def show(done: timedelta, length: timedelta) -> None:
        step = int(20 * done / length) if length else 0
        if step > shown[0]:
            shown[0] = step
            print(f"simulated {_human(done)} of {_human(length)}", file=sys.stderr, flush=True)

    return show


def _human(delta: timedelta) -> str:
    return spoken(timedelta(seconds=int(delta.total_seconds())))


def _verify(args: argparse.Namespace) -> int:
    from simulation.replay import EXPORTED_HISTORIES, SHIPPED_HISTORIES
    from simulation.verify import verify

    folders = [SHIPPED_HISTORIES, EXPORTED_HISTORIES, *args.histories]
    missing = [str(f) for f in args.histories if not f.is_dir()]
    if missing:
        return _fail(f"no such history folder: {', '.join(missing)}")
    report = lambda line: print(line, file=sys.stderr, flush=True)  # noqa: E731
    verdict = asyncio.run(verify(folders, None if args.no_base else args.base, report))
    replayed_ok = sum(1 for r in verdict.replayed if r.failure is None)
    print(f"histories: {replayed_ok} of {len(verdict.replayed)} replay")
    for replayed in verdict.replayed:
        if replayed.failure:
            print(f"  {replayed}")
    print(f"scenarios: {verdict.scenarios - len(verdict.broken)} of {verdict.scenarios} run")
    for broken in verdict.broken:
        print(f"  {broken}")
    if verdict.base_note:
        print(f"timelines: {verdict.base_note}")
    else:
        print(f"timelines: {len(verdict.changes)} difference(s) from {args.base}")
        for change in verdict.changes:
            print(f"  {change}")
    failed = verdict.failed(args.strict)
    print("FAILED" if failed else "ok")
    return 1 if failed else 0


def _export(args: argparse.Namespace) -> int:
    from services.settings import get_settings
    from simulation.replay import EXPORTED_HISTORIES

    if args.limit < 1:
        return _fail("--limit must be at least 1")
    folder = args.to or EXPORTED_HISTORIES
    try:
        written = asyncio.run(_export_to(folder, args.limit, get_settings()))
    except Exception as exc:  # an unreachable server: say so, no trace
        return _fail(f"cannot export histories: {type(exc).__name__}: {exc}")
    print(f"exported {written} histories to {folder}")
    return 0


async def _export_to(folder: Path, limit: int, settings) -> int:  # noqa: ANN001
    from services.temporal import connect
    from workflows import contract

    client = await connect(settings)
    folder.mkdir(parents=True, exist_ok=True)
    written = 0
    query = f"WorkflowType = '{contract.WORKFLOW_NAME}'"
    async for execution in client.list_workflows(query, limit=limit):
        handle = client.get_workflow_handle(execution.id, run_id=execution.run_id)
        history = await handle.fetch_history()
        path = folder / f"{execution.id}-{execution.run_id[:8]}.json"
        path.write_text(history.to_json(), encoding="utf-8")
        written += 1
    return written


def _leave(code: int) -> int:
    """Exit without finalizing: the SDK's core threads can crash the interpreter's
    finalization (sdk-python #300) and turn a clean run into exit code 134."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
