"""Static checks of the runbooks against the directory (``escalate validate``)."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import ValidationError

from escalate.settings import Settings
from runbooks import REGISTRY
from runbooks.directory import Directory, DirectoryError, load_directory
from workflows.models import Incident, Severity
from workflows.runbook import Registry


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
    """Load the directory and check every runbook against it.

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
