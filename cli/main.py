"""``escalate``: the command line.

escalate dev        the whole embedded stack (what ``make run`` runs)
escalate worker     one worker
escalate api        one API process
escalate validate   check every runbook and the directory, and run every scenario
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys

from services.settings import get_settings


def _validate(_: argparse.Namespace) -> int:
    """Plans first (directory and references), then every scenario on a test server."""
    from runbooks import REGISTRY
    from services.validate import InvalidRunbooks, scenario_problems, validated_directory

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
    found = asyncio.run(scenario_problems(directory, progress=lambda line: print(line, flush=True)))
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
    from worker import run_worker

    asyncio.run(run_worker())
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

    return run_dev_stack(api_port=args.port)


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
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    handler = {"dev": _dev, "worker": _worker, "api": _api, "validate": _validate}
    try:
        return handler[args.command](args)
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
