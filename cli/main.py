"""``escalate``: the command line.

escalate dev        the whole embedded stack (what ``make run`` runs)
escalate worker     one worker
escalate api        one API process
escalate validate   check every runbook and the directory, and run every scenario
escalate migrate    bring the database (DATABASE_URL) to this release's schema
escalate import     load people, teams and on-call schedules from YAML files into the database
escalate simulate   run a runbook in simulated time: who it pages when (nothing is sent)
escalate verify     replay recorded histories and compare simulated timelines with a base revision
escalate export-histories   save recent incidents' histories for verify
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from pathlib import Path

from services.settings import get_settings


def _validate(_: argparse.Namespace) -> int:
    """Plans first (directory and references), then every scenario on a test server."""
    from runbooks import REGISTRY
    from services.shift_watch import known_schedules
    from services.validate import InvalidRunbooks, scenario_problems, schedule_problems, validated_directory

    settings = get_settings()
    try:
        directory = validated_directory(settings)
    except InvalidRunbooks as exc:
        print(f"invalid:\n{exc}", file=sys.stderr)
        return 1
    print(
        f"directory {settings.directory_file}: {len(directory.people)} people, {len(directory.teams)} teams"
    )
    for runbook in REGISTRY.runbooks.values():
        print(f"runbook {runbook.name}: plans ok - {runbook.description}")
    schedules = known_schedules(settings)  # the database's once it holds one, else the seed's
    wrong, warnings = schedule_problems(REGISTRY, directory, schedules)
    for warning in warnings:
        print(f"warning: {warning}")
    if wrong:
        print("invalid:\n" + "\n".join(wrong), file=sys.stderr)
        return 1
    progress = lambda line: print(line, flush=True)  # noqa: E731
    found = asyncio.run(scenario_problems(directory, progress=progress, schedules=schedules))
    if found:
        print("invalid:\n" + "\n".join(found), file=sys.stderr)
    else:
        print(f"ok: {len(REGISTRY.runbooks)} runbooks planned and run")
    # The Temporal SDK's core threads can crash the interpreter's finalization
    # (PyGILState_Release, sdk-python #300) and turn a clean run into exit code 134:
    # everything is written and shut down, so leave without finalizing.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(1 if found else 0)


def _worker(_: argparse.Namespace) -> int:
    from services.database import SchemaBehind
    from worker import run_worker

    try:
        asyncio.run(run_worker())
    except SchemaBehind as exc:
        print(f"escalate worker: {exc}", file=sys.stderr)
        return 1
    return 0


KEEP_ALIVE_SECONDS = 75


def _api(args: argparse.Namespace) -> int:
    import uvicorn

    uvicorn.run(
        "api.main:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        log_level="info",
        proxy_headers=False,
        # Longer than the idle timeout of the clients that call us (a 5 s server timeout
        # races a client reusing an idle connection: the request is cut off unanswered).
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
    )
    return 0


def _dev(args: argparse.Namespace) -> int:
    from cli.devstack import run_dev_stack

    prepared = _migrate(args, seed=True)
    return prepared or run_dev_stack(api_port=args.port)


def _migrate(_: argparse.Namespace, seed: bool = False) -> int:
    """Bring the database to this release's schema; ``seed``: load the directory into an
    empty one (``escalate dev``)."""
    from runbooks.directory import DirectoryError
    from runbooks.schedule_seed import load_schedules
    from services.database import open_database
    from store.db import current_revision, safe_url
    from store.people import import_directory, is_empty
    from store.schedules import has_schedules, import_schedules

    settings = get_settings()
    try:
        engine = open_database(settings, migrate_now=True)
    except Exception as exc:  # unreachable server, wrong password...: say so, no trace
        print(f"escalate: cannot migrate the database: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    print(f"database {safe_url(engine.url)} at schema {current_revision(engine)}")
    if seed and is_empty(engine):
        counts = import_directory(engine, settings.directory_file)
        print(f"loaded {counts.people} people and {counts.teams} teams from {settings.directory_file}")
    if seed and not has_schedules(engine):
        try:
            loaded = import_schedules(engine, load_schedules(settings.schedules_file), by="escalate dev")
        except DirectoryError as exc:
            print(f"escalate: {exc}", file=sys.stderr)
            return 1
        print(f"loaded {loaded} schedules from {settings.schedules_file}")
    engine.dispose()
    return 0


def _import(args: argparse.Namespace) -> int:
    """Load people and teams from a directory YAML file (new ones added, known ones updated),
    then the schedules of a seed file (a new revision where one differs)."""
    from runbooks.directory import DirectoryError
    from runbooks.schedule_seed import load_schedules
    from services.database import open_database
    from store.people import import_directory
    from store.schedules import import_schedules

    settings = get_settings()
    path = args.file or settings.directory_file
    schedules_path = args.schedules or settings.schedules_file
    try:
        schedules = load_schedules(schedules_path)  # checked before anything is written
        engine = open_database(settings)
        counts = import_directory(engine, path)
    except DirectoryError as exc:
        print(f"escalate import: {exc}", file=sys.stderr)
        return 1
    print(f"imported {counts.people} people, {counts.teams} teams, {counts.members} memberships from {path}")
    revised = import_schedules(engine, schedules)
    print(f"imported {len(schedules)} schedules ({revised} new or changed) from {schedules_path}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="escalate", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("dev", help="run the dev server, a worker and the API together").add_argument(
        "--port",
        type=int,
        default=8000,
        help="the API's port; PUBLIC_URL (the base of email links) follows it unless set (default: 8000)",
    )
    commands.add_parser("worker", help="run one worker")
    api = commands.add_parser("api", help="run one API process")
    api.add_argument("--host", default="127.0.0.1")
    api.add_argument("--port", type=int, default=8000)
    commands.add_parser("validate", help="check runbooks and the directory, run every scenario")
    commands.add_parser("migrate", help="bring the database (DATABASE_URL) to this release's schema")
    imported = commands.add_parser("import", help="load people, teams and schedules from YAML files")
    imported.add_argument(
        "file", nargs="?", type=Path, help="default: DIRECTORY_FILE (runbooks/directory.yaml)"
    )
    imported.add_argument(
        "--schedules", type=Path, help="on-call schedules; default: SCHEDULES_FILE (runbooks/schedules.yaml)"
    )
    from cli.simulate import add_commands

    authoring = add_commands(commands)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)  # one line per plugin otherwise
    handler = {
        "dev": _dev,
        "worker": _worker,
        "api": _api,
        "validate": _validate,
        "migrate": _migrate,
        "import": _import,
        **authoring,
    }
    try:
        return handler[args.command](args)
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
