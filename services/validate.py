"""``escalate validate``: the runbooks checked against the directory, then run.

Two halves. :func:`problems` plans every runbook for every severity and sample
service: fast and without a server, so the worker runs it before it polls.
:func:`scenario_problems` then runs every runbook's scenario as a real incident
on a time-skipping test server (see ``escalate/scenario_check.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta

from pydantic import ValidationError

from runbooks import REGISTRY
from runbooks.directory import Directory, DirectoryError, load_directory
from runbooks.schedule_seed import load_schedules
from runbooks.sla_seed import load_policies
from schedules.models import Schedule
from schedules.oncall import gaps_within
from services.settings import Settings
from workflows.models import Incident, Severity
from workflows.runbook import Registry, Runbook
from workflows.scenario_registry import SHIPPED
from workflows.targets import SlaPolicy

GAP_HORIZON = timedelta(days=14)


class InvalidRunbooks(ValueError):
    """One or more runbooks or the directory have problems; the message lists them all."""


def problems(registry: Registry, directory: Directory) -> list[str]:
    """Every problem found by planning each runbook for each severity and sample service."""
    found: list[str] = []
    for runbook, incident in sample_incidents(registry):
        try:
            registry.plan(incident, directory, runbook.name)
        except (DirectoryError, ValidationError, LookupError, ValueError) as exc:
            message = f"runbook {runbook.name!r}: {exc}"
            if message not in found:
                found.append(message)
    return found


def sample_incidents(registry: Registry) -> Iterator[tuple[Runbook, Incident]]:
    """An incident of each severity and sample service, for each runbook of ``registry``."""
    for runbook in registry.runbooks.values():
        for severity in Severity:
            for service in runbook.sample_services:
                yield (
                    runbook,
                    Incident(
                        id="validate",
                        title="validation",
                        severity=severity,
                        service=service,
                        created_at=datetime.now(UTC),
                    ),
                )


def schedule_problems(
    registry: Registry, directory: Directory, schedules: Sequence[Schedule], now: datetime | None = None
) -> tuple[list[str], list[str]]:
    """Problems (a runbook naming a schedule that does not exist, a schedule naming someone
    not in the directory) and warnings (a gap with nobody on call in the next 14 days of a
    schedule a runbook pages)."""
    now = now or datetime.now(UTC)
    known = {s.id: s for s in schedules}
    people = {p.id for p in directory.people}
    found: list[str] = []
    warnings: list[str] = []
    used: dict[str, set[str]] = {}
    for runbook in registry.runbooks.values():
        for severity in Severity:
            for service in runbook.sample_services:
                incident = Incident(
                    id="validate", title="validation", severity=severity, service=service, created_at=now
                )
                try:
                    plan = registry.plan(incident, directory, runbook.name)
                except (DirectoryError, ValidationError, LookupError, ValueError):
                    continue  # problems() names it
                for tier in plan.tiers:
                    for schedule_id in tier.schedules:
                        used.setdefault(schedule_id, set()).add(runbook.name)
    for schedule_id, runbooks in sorted(used.items()):
        names = ", ".join(sorted(runbooks))
        schedule = known.get(schedule_id)
        if schedule is None:
            found.append(f"runbook {names}: schedule:{schedule_id} does not exist")
            continue
        named = {p for layer in schedule.layers for p in layer.rotation.participants}
        named |= {p for o in schedule.overrides for p in (o.add, o.remove) if p}
        if unknown := sorted(named - people):
            found.append(f"schedule {schedule_id!r}: not in the directory: {', '.join(unknown)}")
        for gap in gaps_within(schedule, now, now + GAP_HORIZON):
            warnings.append(
                f"schedule {schedule_id!r} (paged by {names}) has nobody on call "
                f"from {gap.start.isoformat()} to {gap.end.isoformat()}"
            )
    return found, warnings


def policy_problems(registry: Registry, policies: Mapping[str, SlaPolicy]) -> list[str]:
    """A runbook naming an SLA policy that does not exist (incidents would be held to none)."""
    found = []
    for runbook in registry.runbooks.values():
        incident = Incident(
            id="validate",
            title="validation",
            severity=Severity.SEV1,
            service="validate",
            created_at=datetime.now(UTC),
        )
        try:
            named = runbook.plan(incident).sla
        except Exception:  # noqa: BLE001 - problems() reports a plan that fails
            continue
        if named is not None and named not in policies:
            found.append(f"runbook {runbook.name!r}: SLA policy {named!r} does not exist")
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
    try:  # schedules may live in the database only: `escalate validate` checks them
        load_schedules(settings.schedules_file)
        found += policy_problems(REGISTRY, load_policies(settings.sla_file))
    except DirectoryError as exc:
        found.append(str(exc))
    if found:
        raise InvalidRunbooks("\n".join(found))
    return directory


async def scenario_problems(
    directory: Directory,
    module: str = SHIPPED,
    progress: Callable[[str], None] | None = None,
    schedules: Sequence[Schedule] = (),
) -> list[str]:
    """Run every scenario of ``module.REGISTRY``; each problem as ``file:line: runbook 'name': ...``.

    ``progress`` receives one line as each runbook's runs are done.
    """
    # Imported here: the worker needs only the static half, not the test server's client.
    from services import scenario_check

    return await scenario_check.scenario_problems(directory, module, progress, schedules)
