"""The runtime state of one incident, kept apart from the policy that drives it.

``IncidentRecord`` is plain Python: it knows the lifecycle rules (who may
acknowledge what, when) and keeps the timeline, but it never talks to Temporal.
The workflow owns one and passes it the time (``workflow.now()``) explicitly.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Generic, TypeVar, cast, overload

from workflows.errors import ActionRejected, AlreadyAcknowledged, AlreadyResolved
from workflows.models import (
    Delivery,
    Incident,
    IncidentFlag,
    IncidentPlan,
    IncidentView,
    Page,
    Person,
    Severity,
    State,
    Tier,
    TierRef,
    TimelineEntry,
    Trigger,
)
from workflows.pauses import Pause
from workflows.targets import SlaState
from workflows.vocabulary import SYSTEM_ACTORS, Actor, EventKind

MAX_TRIGGER_KEYS = 500
# A long incident keeps this many timeline entries and pages in its state; older
# entries go to the archive (the document activity), older pages are dropped.
TIMELINE_KEPT = 1_000
PAGES_KEPT = 500
T = TypeVar("T")


MAX_SNOOZE = timedelta(hours=24)


class _InView(Generic[T]):
    """An attribute of the record that lives in its one view (no copy kept beside it)."""

    def __set_name__(self, owner: type, name: str) -> None:
        self._name = name

    @overload
    def __get__(self, record: None, owner: type) -> _InView[T]: ...
    @overload
    def __get__(self, record: IncidentRecord, owner: type) -> T: ...
    def __get__(self, record: IncidentRecord | None, owner: type) -> T | _InView[T]:
        return self if record is None else cast(T, getattr(record._view, self._name))

    def __set__(self, record: IncidentRecord, value: T) -> None:
        setattr(record._view, self._name, value)


class IncidentRecord:
    """One incident's state: one ``IncidentView`` it keeps current, plus the alert count."""

    state = _InView[State]()
    tier = _InView[TierRef | None]()
    paged = _InView[list[Page]]()
    timeline = _InView[list[TimelineEntry]]()
    acknowledged_by = _InView[str | None]()
    acknowledged_at = _InView[datetime | None]()
    resolved_by = _InView[str | None]()
    resolved_at = _InView[datetime | None]()
    exhausted = _InView[bool]()
    timeline_archived = _InView[int]()
    sla = _InView[SlaState | None]()
    snoozed_until = _InView[datetime | None]()
    pauses = _InView[list[Pause]]()

    def __init__(self, incident: Incident, plan: IncidentPlan) -> None:
        self.incident = incident
        self.plan = plan
        self._view = IncidentView(
            id=incident.id,
            title=incident.title,
            severity=incident.severity,
            service=incident.service,
            description=incident.description,
            labels=incident.labels,
            dedup_key=incident.dedup_key,
            runbook=plan.runbook,
            state=State.TRIGGERED,
            created_at=incident.created_at,
            drill=incident.drill,
        )
        self.triggers = 0
        self.trigger_keys: list[str] = []  # the latest alert keys seen, each counted once
        self.names: dict[str, str] = {}  # actors' names, as the incident service sent them
        self.oncall: dict[str, Person] = {}  # people schedules put on call, by id

    def restore(self, view: IncidentView, triggers: int, oncall: list[Person] | None = None) -> None:
        """Take over the state a previous run carried across continue-as-new."""
        self.oncall = {p.id: p for p in oncall or []}
        self._details(view.title, view.description, view.labels)
        self._view = view.model_copy(update={"paged": list(view.paged), "timeline": list(view.timeline)})
        self.triggers = triggers
        self._view.repeats = max(triggers - 1, 0)

    def _details(self, title: str, description: str, labels: dict[str, str]) -> None:
        """The latest alert's details, which later pages carry."""
        self.incident = self.incident.model_copy(
            update={"title": title, "description": description, "labels": labels}
        )
        self._view.title, self._view.description, self._view.labels = title, description, labels

    @property
    def flags(self) -> frozenset[IncidentFlag]:
        """The flags raised so far (a copy: raise one with ``flag``)."""
        return frozenset(self._view.flags)

    def flag(self, flag: IncidentFlag) -> None:
        """Raise a flag an operator must be able to find (kept sorted, each once)."""
        self._view.flags = sorted({*self._view.flags, flag})

    # -- lifecycle rules, used by the update validators and handlers -------------

    # Who the actor is was checked by the incident service (the one identity check);
    # the rules here are about the incident's state.

    def check_acknowledge(self) -> None:
        """Refuse an acknowledgement the incident's state does not allow.

        Raises:
            AlreadyResolved: the incident is resolved.
            AlreadyAcknowledged: someone has acknowledged it already.
        """
        self.check_open()
        if self.state is State.ACKNOWLEDGED:
            raise AlreadyAcknowledged(f"incident already acknowledged by {self.acknowledged_by}")

    def check_open(self) -> None:
        """Resolve and escalate apply to any incident that is not resolved yet."""
        if self.state is State.RESOLVED:
            raise AlreadyResolved(f"incident already resolved by {self.resolved_by}")

    def check_snooze(self, until: datetime, now: datetime) -> None:
        """A snooze applies to an acknowledged incident, for at most 24 hours."""
        self.check_open()
        if self.state is not State.ACKNOWLEDGED:
            raise ActionRejected("only an acknowledged incident can be snoozed")
        if not now < until <= now + MAX_SNOOZE:
            raise ActionRejected("a snooze ends in the future, at most 24 hours from now")

    def snooze(self, until: datetime, by: str, at: datetime, note: str | None) -> None:
        self.snoozed_until = until
        self.add(
            at, EventKind.SNOOZED, by, f"until {until:%Y-%m-%d %H:%M:%S} UTC" + (f": {note}" if note else "")
        )

    def hold_until(self, ack_timeout: timedelta | None) -> datetime | None:
        """When an acknowledged incident goes back to triggered: the snooze's end, else the
        acknowledgement plus ``ack_timeout``; None: it stays acknowledged."""
        if self.snoozed_until is not None:
            return self.snoozed_until
        if ack_timeout is not None and self.acknowledged_at is not None:
            return self.acknowledged_at + ack_timeout
        return None

    def retrigger(self, at: datetime, why: str) -> None:
        """Back to triggered: acknowledged too long, or a snooze is over."""
        self.state = State.TRIGGERED
        self.snoozed_until = None
        self.add(at, EventKind.RETRIGGERED, Actor.RUNBOOK, why)

    def check_severity(self, severity: Severity) -> None:
        """A severity change applies to an open incident, to another severity."""
        self.check_open()
        if severity == self.incident.severity:
            raise ActionRejected(f"the incident is already {severity}")

    def change_severity(self, severity: Severity, by: str, at: datetime, note: str | None) -> None:
        """Set the severity (later pages and the search attribute carry it) and say so."""
        before = self.incident.severity
        self.incident = self.incident.model_copy(update={"severity": severity})
        self._view.severity = severity
        self.add(
            at, EventKind.SEVERITY_CHANGED, by, f"{before} -> {severity}" + (f": {note}" if note else "")
        )

    def acknowledge(self, person_id: str, at: datetime, note: str | None) -> None:
        """Record the acknowledgement and its timeline entry (checked beforehand by
        ``check_acknowledge``; this does not check again)."""
        self.state = State.ACKNOWLEDGED
        self.acknowledged_by, self.acknowledged_at = person_id, at
        self.add(at, EventKind.ACKNOWLEDGED, person_id, note or "")

    def resolve(self, person_id: str, at: datetime, note: str | None) -> None:
        """Record the resolution and its timeline entry (checked beforehand by
        ``check_open``; this does not check again)."""
        self.state = State.RESOLVED
        self.resolved_by, self.resolved_at = person_id, at
        self.add(at, EventKind.RESOLVED, person_id, note or "")

    def trigger(self, trigger: Trigger, at: datetime) -> None:
        """Count alerts (``trigger.count`` of them); a repeat updates the details later pages carry."""
        if trigger.key is not None:
            if trigger.key in self.trigger_keys:
                return  # the same alert re-sent: already counted
            self.trigger_keys = [*self.trigger_keys[-(MAX_TRIGGER_KEYS - 1) :], trigger.key]
        first = self.triggers == 0
        self.triggers += trigger.count
        self._view.repeats = max(self.triggers - 1, 0)
        if first and trigger.count == 1:
            return
        self._details(trigger.title, trigger.description, trigger.labels or self.incident.labels)
        times = "" if trigger.count - first == 1 else f" {trigger.count - first} times"
        detail = f"alert repeated{times} ({self.triggers - 1} so far)"
        self.add(at, EventKind.REPEATED, trigger.source, detail)

    def reopen_for_escalation(self) -> None:
        """An acknowledged incident that someone escalates goes back to triggered."""
        self.state = State.TRIGGERED
        self.acknowledged_by = self.acknowledged_at = None

    # -- documentation --------------------------------------------------------

    def add(self, at: datetime, kind: str, actor: str, detail: str = "") -> None:
        """Append a timeline entry (``kind`` an ``EventKind``, or a runbook's own word)."""
        self.timeline.append(TimelineEntry(at=at, kind=str(kind), actor=actor, detail=detail))

    def mark_paged(self, person: Person, tier: Tier, at: datetime, delivery: Delivery | None = None) -> Page:
        """Add a page of ``person`` in ``tier`` and return it; the current tier moves up
        to ``tier``, never down. Writes no timeline entry (the caller does)."""
        page = Page(person=person.id, tier=tier.number, at=at, delivery=delivery)
        self.paged.append(page)
        if self.tier is None or tier.number >= self.tier.number:
            self.tier = TierRef(number=tier.number, name=tier.name)
        return page

    def name(self, person_id: str | None) -> str:
        """A person's name: from the plan, else as sent with their action, else the id."""
        person = self.people().get(person_id or "")
        if person is not None:
            return person.name
        return self.names.get(person_id or "", person_id or "someone")

    def people(self) -> dict[str, Person]:
        """Everyone the plan names, and everyone a schedule has put on call, by id."""
        return {**self.plan.people(), **self.oncall}

    def people_paged(self) -> list[Person]:
        """Everyone paged so far, each once, in order."""
        ids = dict.fromkeys(p.person for p in self.paged)
        people = self.people()
        return [people[i] for i in ids if i in people]

    def people_told(self) -> list[Person]:
        """Everyone paged so far and the plan's stakeholders, each once."""
        people = {p.id: p for p in [*self.people_paged(), *self.plan.stakeholders]}
        return list(people.values())

    def responders(self) -> list[str]:
        """Everyone who was paged, acknowledged or resolved (for the responder search)."""
        people = [p.person for p in self.paged] + [self.acknowledged_by or "", self.resolved_by or ""]
        return sorted({p for p in people if p and p not in SYSTEM_ACTORS})

    def previously_paged(self) -> list[str]:
        """Names of everyone paged so far, in order, without repeats (for the hand-off)."""
        names: list[str] = []
        people = self.people()
        for page in self.paged:
            person = people.get(page.person)
            name = person.name if person else page.person
            if name not in names:
                names.append(name)
        return names

    def view(self) -> IncidentView:
        """A copy of the view to hand out: later changes to the record do not show in it."""
        view = self._view
        return view.model_copy(
            update={"paged": list(view.paged), "timeline": list(view.timeline), "flags": list(view.flags)}
        )

    def compact(self) -> tuple[list[TimelineEntry], int]:
        """Keep a long incident's state bounded: the oldest timeline entries (beyond
        ``TIMELINE_KEPT``) are returned for the archive with their first entry's number."""
        self.paged = self.paged[-PAGES_KEPT:]
        excess = len(self.timeline) - TIMELINE_KEPT
        if excess <= 0:
            return [], self.timeline_archived
        moved, self.timeline = self.timeline[:excess], self.timeline[excess:]
        start, self.timeline_archived = self.timeline_archived, self.timeline_archived + excess
        return moved, start
