"""``escalate validate``: the runbooks checked against the directory, then run.

Two halves. :func:`problems` plans every runbook for every severity and sample
service: fast and without a server, so the worker runs it before it polls.
:func:`scenario_problems` then runs every runbook's scenario as a real incident
on a time-skipping test server (see ``escalate/scenario_check.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from pydantic import ValidationError

from runbooks import REGISTRY
from runbooks.directory import Directory, DirectoryError, load_directory
from services.settings import Settings
from workflows.models import Incident, Severity
from workflows.runbook import Registry
from workflows.scenario_registry import SHIPPED


class InvalidRunbooks(ValueError):
    """One or more runbooks or the directory have problems; the message lists them all."""


def problems(registry: Registry, directory: Directory) -> list[str]:
    """Every problem found by planning each runbook for each severity and sample service."""
    found: list[str] = []
    for runbook in registry.runbooks.values():
        for severity in Severity:
            for service in runbook.sample_services:
                incident = Incident(
                    id="validate",
                    title="validation",
                    severity=severity,
                    service=service,
                    created_at=datetime.now(UTC),
                )
                try:
                    registry.plan(incident, directory, runbook.name)
                except (DirectoryError, ValidationError, LookupError, ValueError) as exc:
                    message = f"runbook {runbook.name!r}: {exc}"
                    if message not in found:
                        found.append(message)
    return found


def validated_directory(settings: Settings) -> Directory:
    """Load the directory and check every runbook's plans against it.

    Raises:
        InvalidRunbooks: listing each problem.
    """
    try:
        directory = load_directory(settings.directory_file)
    except DirectoryError as exc:
        raise InvalidRunbooks(str(exc)) from None
    found = problems(REGISTRY, directory)
    if found:
        raise InvalidRunbooks("\n".join(found))
    return directory


async def scenario_problems(
    directory: Directory, module: str = SHIPPED, progress: Callable[[str], None] | None = None
) -> list[str]:
    """Run every scenario of ``module.REGISTRY``; each problem as ``file:line: runbook 'name': ...``.

    ``progress`` receives one line as each runbook's runs are done.
    """
    # Imported here: the worker needs only the static half, not the test server's client.
    from services import scenario_check

    return await scenario_check.scenario_problems(directory, module, progress)
