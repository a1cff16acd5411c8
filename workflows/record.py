"""The runtime state of one incident, kept apart from the policy that drives it.

``IncidentRecord`` is plain Python: it knows the lifecycle rules (who may
acknowledge what, when) and keeps the timeline, but it never talks to Temporal.
The workflow owns one and passes it the time (``workflow.now()``) explicitly.
"""

from __future__ import annotations

from datetime import datetime

from workflows.errors import AlreadyAcknowledged, AlreadyResolved
from workflows.models import (
    Delivery,
    Incident,
    IncidentFlag,
    IncidentPlan,
    IncidentView,
    Page,
    Person,
    State,
    Tier,
    TierRef,
    TimelineEntry,
    Trigger,
)
from workflows.vocabulary import SYSTEM_ACTORS, EventKind

MAX_TRIGGER_KEYS = 500
# A long incident keeps this many timeline entries and pages in its state; older
# entries go to the archive (the document activity), older pages are dropped.
TIMELINE_KEPT = 1_000
PAGES_KEPT = 500


class IncidentRecord:
    def __init__(self, incident: Incident, plan: IncidentPlan) -> None:
        self.incident = incident
        self.plan = plan
        self.state = State.TRIGGERED
        self.tier: TierRef | None = None
        self.paged: list[Page] = []
        self.timeline: list[TimelineEntry] = []
        self.acknowledged_by: str | None = None
        self.acknowledged_at: datetime | None = None
        self.resolved_by: str | None = None
        self.resolved_at: datetime | None = None
        self.exhausted = False
        self.triggers = 0
        self.trigger_keys: list[str] = []  # the latest alert keys seen, each counted once
        self.flags: set[IncidentFlag] = set()
        self.timeline_archived = 0
        self.names: dict[str, str] = {}  # actors' names, as the incident service sent them

    def restore(self, view: IncidentView, triggers: int) -> None:
        """Take over the state a previous run carried across continue-as-new."""
        self.incident = self.incident.model_copy(
            update={"title": view.title, "description": view.description, "labels": view.labels}
        )
        self.state, self.tier, self.exhausted = view.state, view.tier, view.exhausted
        self.flags = set(view.flags)
        self.timeline_archived = view.timeline_archived
        self.paged, self.timeline = list(view.paged), list(view.timeline)
        self.acknowledged_by, self.acknowledged_at = view.acknowledged_by, view.acknowledged_at
        self.resolved_by, self.resolved_at = view.resolved_by, view.resolved_at
        self.triggers = triggers

    # -- lifecycle rules, used by the update validators and handlers -------------

    # Who the actor is was checked by the incident service (the one identity check);
    # the rules here are about the incident's state.

    def check_acknowledge(self) -> None:
        self.check_open()
        if self.state is State.ACKNOWLEDGED:
            raise AlreadyAcknowledged(f"incident already acknowledged by {self.acknowledged_by}")

    def check_open(self) -> None:
        """Resolve and escalate apply to any incident that is not resolved yet."""
        if self.state is State.RESOLVED:
            raise AlreadyResolved(f"incident already resolved by {self.resolved_by}")

    def acknowledge(self, person_id: str, at: datetime, note: str | None) -> None:
        self.state = State.ACKNOWLEDGED
        self.acknowledged_by, self.acknowledged_at = person_id, at
        self.add(at, EventKind.ACKNOWLEDGED, person_id, note or "")

    def resolve(self, person_id: str, at: datetime, note: str | None) -> None:
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
        if first and trigger.count == 1:
            return
        self.incident = self.incident.model_copy(
            update={
                "title": trigger.title,
                "description": trigger.description,
                "labels": trigger.labels or self.incident.labels,
            }
        )
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
        page = Page(person=person.id, tier=tier.number, at=at, delivery=delivery)
        self.paged.append(page)
        if self.tier is None or tier.number >= self.tier.number:
            self.tier = TierRef(number=tier.number, name=tier.name)
        return page

    def name(self, person_id: str | None) -> str:
        """A person's name: from the plan, else as sent with their action, else the id."""
        person = self.plan.people().get(person_id or "")
        if person is not None:
            return person.name
        return self.names.get(person_id or "", person_id or "someone")

    def people_paged(self) -> list[Person]:
        """Everyone paged so far, each once, in order."""
        ids = dict.fromkeys(p.person for p in self.paged)
        people = self.plan.people()
        return [people[i] for i in ids if i in people]

    def responders(self) -> list[str]:
        """Everyone who was paged, acknowledged or resolved (for the responder search)."""
        people = [p.person for p in self.paged] + [self.acknowledged_by or "", self.resolved_by or ""]
        return sorted({p for p in people if p and p not in SYSTEM_ACTORS})

    def previously_paged(self) -> list[str]:
        """Names of everyone paged so far, in order, without repeats (for the hand-off)."""
        names: list[str] = []
        people = self.plan.people()
        for page in self.paged:
            person = people.get(page.person)
            name = person.name if person else page.person
            if name not in names:
                names.append(name)
        return names

    def view(self) -> IncidentView:
        incident = self.incident
        return IncidentView(
            id=incident.id,
            title=incident.title,
            severity=incident.severity,
            service=incident.service,
            description=incident.description,
            labels=incident.labels,
            dedup_key=incident.dedup_key,
            runbook=self.plan.runbook,
            state=self.state,
            tier=self.tier,
            paged=list(self.paged),
            created_at=incident.created_at,
            acknowledged_by=self.acknowledged_by,
            acknowledged_at=self.acknowledged_at,
            resolved_by=self.resolved_by,
            resolved_at=self.resolved_at,
            exhausted=self.exhausted,
            timeline=list(self.timeline),
            repeats=max(self.triggers - 1, 0),
            flags=sorted(self.flags),
            timeline_archived=self.timeline_archived,
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
