"""The runbook authoring API: what a module in ``runbooks/`` builds on.

A runbook has two halves:

* ``plan(incident)`` is *policy*: which tiers exist for this incident, who is in
  each (``person:<id>`` / ``team:<id>`` / ``schedule:<id>``) and how long each waits
  for an acknowledgement. It runs once, when the incident is opened; its result is
  resolved against the directory and frozen into the workflow's input, so a
  later edit of the runbook or the directory never changes a running incident.
  Schedules are the exception by design: they are resolved when the tier pages.
* ``run(esc)`` is the *scenario*: durable Python that drives the escalation
  with the primitives of :class:`workflows.escalation.Escalation`. It runs
  inside the workflow, so it must be deterministic (no I/O, no clock, no
  randomness) and any change to its logic must keep running incidents
  replayable (``workflow.patched``; the replay test in CI catches the rest).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, ClassVar, Protocol

from workflows.models import Incident, IncidentPlan, OnEmpty, OnHandoff, Person, Severity, Tier
from workflows.vocabulary import TargetKind

if TYPE_CHECKING:
    from workflows.escalation import Escalation


class Directory(Protocol):
    """What planning needs of the people directory (``runbooks.directory.Directory``)."""

    @property
    def people(self) -> Sequence[Person]:
        """Everyone in the directory."""
        ...

    def resolve(self, ref: str) -> Sequence[Person]:
        """The people a ``person:<id>`` / ``team:<id>`` reference names, in order."""
        ...


@dataclass(frozen=True)
class TierSpec:
    """One tier as a runbook declares it, before the directory resolves it.

    ``targets`` are ``person:<id>``, ``team:<id>`` or ``schedule:<id>``; a schedule is
    resolved to whoever is on call when the tier pages (and again at a hand-off before the
    tier's timeout, unless ``on_handoff`` is ``keep``). When nobody is on call and the tier
    names nobody else, ``on_empty`` decides: ``skip`` (escalate at once), ``wait`` (let the
    timeout run) or ``fallback`` (page ``fallback``'s people instead).
    """

    name: str
    targets: tuple[str, ...]
    ack_timeout: timedelta
    on_empty: OnEmpty = OnEmpty.SKIP
    fallback: tuple[str, ...] = ()
    on_handoff: OnHandoff = OnHandoff.PAGE_INCOMING


@dataclass(frozen=True)
class PlanSpec:
    """A runbook's plan for one incident, as ``Runbook.plan`` returns it, before the
    directory resolves its references: the tiers in order, how many times the whole
    ladder is walked again (``repeat``), who is kept informed and how often, who
    is told when every tier has gone unacknowledged (``management``), and who is paged
    when the whole ladder found nobody on call (``last_resort``)."""

    tiers: list[TierSpec]
    repeat: int = 0
    stakeholders: tuple[str, ...] = ()
    management: tuple[str, ...] = ()
    stakeholder_interval: timedelta | None = None
    last_resort: tuple[str, ...] = ()
    sla: str | None = None  # the SLA policy's name (``runbooks/sla.yaml``); None: ``default``
    # Acknowledged but not resolved within this: back to triggered, the acknowledger paged again.
    ack_timeout: timedelta | None = None


def by_severity(minutes: Mapping[Severity, float], severity: Severity) -> timedelta:
    """A timeout looked up by severity, e.g. ``by_severity({SEV1: 5, ...}, sev)``."""
    return timedelta(minutes=minutes[severity])


class Runbook:
    """Base class of every runbook.

    Class attributes:
        name: how the API and the registry refer to it.
        description: one line shown by ``escalate validate`` and in the docs.
        services: match rule; an empty set matches every service.
        severities: match rule; an empty set matches every severity.
        auto_match: set False for a runbook that is only ever chosen by name.
        sample_services: services ``escalate validate`` plans for, to reach branches.
    """

    name: ClassVar[str]
    description: ClassVar[str] = ""
    services: ClassVar[frozenset[str]] = frozenset()
    severities: ClassVar[frozenset[Severity]] = frozenset()
    auto_match: ClassVar[bool] = True
    sample_services: ClassVar[tuple[str, ...]] = ("example",)

    def plan(self, incident: Incident) -> PlanSpec:
        """The policy for this incident: its tiers, targets and timeouts; every runbook
        overrides it. Called when the incident is opened (and by ``escalate validate``),
        never inside the workflow."""
        raise NotImplementedError

    async def run(self, esc: Escalation) -> None:
        """The scenario. The default walks the tiers in order: a plain ladder."""
        await esc.escalate(resumable=True)

    def on_severity_change(self, esc: Escalation, before: Severity, after: Severity) -> None:
        """Called when someone changes the incident's severity (inside the update, after the
        targets were recomputed): react here, e.g. ``esc.escalate_now("raised to SEV1")``
        to page the next tier at once. Keep it quick: it cannot wait. Default: nothing."""

    def matches(self, incident: Incident) -> bool:
        """Whether the registry may choose this runbook for the incident unasked: it
        auto-matches and both its service and severity rules accept the incident."""
        return (
            self.auto_match
            and (not self.services or incident.service in self.services)
            and (not self.severities or incident.severity in self.severities)
        )


@dataclass
class Registry:
    """Runbooks by name, with the rule that picks one for an incident."""

    default: str
    runbooks: dict[str, Runbook] = field(default_factory=dict)

    def register(self, *runbooks: Runbook) -> None:
        """Add runbooks; the order they are added in is the order ``select`` tries them.

        Raises:
            ValueError: a runbook's name is already taken.
        """
        for runbook in runbooks:
            if runbook.name in self.runbooks:
                raise ValueError(f"two runbooks are named {runbook.name!r}")
            self.runbooks[runbook.name] = runbook

    def get(self, name: str) -> Runbook:
        """The runbook called ``name``.

        Raises:
            LookupError: no runbook has that name (the message lists the known ones).
        """
        try:
            return self.runbooks[name]
        except KeyError:
            known = ", ".join(sorted(self.runbooks))
            raise LookupError(f"no runbook named {name!r} (known: {known})") from None

    def select(self, incident: Incident, requested: str | None = None) -> Runbook:
        """The runbook named by the caller, else the first whose rules match, else the default."""
        if requested:
            return self.get(requested)
        specific = (r for r in self.runbooks.values() if r.name != self.default)
        return next((r for r in specific if r.matches(incident)), self.get(self.default))

    def plan(self, incident: Incident, directory: Directory, requested: str | None = None) -> IncidentPlan:
        """Choose the runbook and freeze its plan for this incident.

        Raises:
            LookupError: ``requested`` names no runbook.
            runbooks.directory.DirectoryError: the plan names someone unknown.
        """
        runbook = self.select(incident, requested)
        spec = runbook.plan(incident)
        tiers = [
            Tier(
                number=i,
                name=t.name,
                targets=_people(directory, [r for r in t.targets if not _is_schedule(r)]),
                schedules=list(dict.fromkeys(schedule_id(r) for r in t.targets if _is_schedule(r))),
                ack_timeout=t.ack_timeout,
                on_empty=t.on_empty,
                fallback=_people(directory, t.fallback),
                on_handoff=t.on_handoff,
            )
            for i, t in enumerate(spec.tiers, start=1)
        ]
        return IncidentPlan(
            runbook=runbook.name,
            tiers=tiers,
            repeat=spec.repeat,
            stakeholders=_people(directory, spec.stakeholders),
            management=_people(directory, spec.management),
            stakeholder_interval=spec.stakeholder_interval,
            last_resort=_people(directory, spec.last_resort),
            sla_policy=spec.sla,
            ack_timeout=spec.ack_timeout,
        )


def _is_schedule(ref: str) -> bool:
    return ref.startswith(f"{TargetKind.SCHEDULE.value}:")


def schedule_id(ref: str) -> str:
    """The id in a ``schedule:<id>`` reference."""
    return ref.partition(":")[2]


def _people(directory: Directory, refs: Iterable[str]) -> list[Person]:
    """Resolve references to people, in order, each person once."""
    people: dict[str, Person] = {}
    for ref in refs:
        for person in directory.resolve(ref):
            people.setdefault(person.id, person)
    return list(people.values())
