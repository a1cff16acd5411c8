"""Domain models shared by the API, the workflows and the activities.

They cross Temporal through the pydantic data converter, so the rule for every
model here is: only ever add *optional* fields. A field removed or made
required breaks the histories of incidents that are already running.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from pydantic import AwareDatetime, Field, StrictBool, StringConstraints, field_validator, model_validator

from workflows.pauses import Pause
from workflows.targets import SlaState

# The basic value types live in workflows.text; these names stay importable from here.
from workflows.text import SERVICE_PATTERN as SERVICE_PATTERN
from workflows.text import Email as Email
from workflows.text import LongText as LongText
from workflows.text import Model as Model
from workflows.text import ShortText as ShortText
from workflows.text import Slug as Slug
from workflows.text import clean_text as clean_text

# The enums live in workflows.vocabulary; these names stay importable from here.
from workflows.vocabulary import SYSTEM_ACTORS as SYSTEM_ACTORS
from workflows.vocabulary import Delivery as Delivery
from workflows.vocabulary import IncidentFlag as IncidentFlag
from workflows.vocabulary import NotificationKind as NotificationKind
from workflows.vocabulary import OnEmpty as OnEmpty
from workflows.vocabulary import OnHandoff as OnHandoff
from workflows.vocabulary import Severity as Severity
from workflows.vocabulary import State as State

MAX_LABELS = 32
MIN_ACK_TIMEOUT = timedelta(seconds=1)
MAX_ACK_TIMEOUT = timedelta(days=7)


def _check_labels(labels: dict[str, str]) -> dict[str, str]:
    if len(labels) > MAX_LABELS:
        raise ValueError(f"at most {MAX_LABELS} labels are allowed, got {len(labels)}")
    for key, value in labels.items():
        if not 1 <= len(key) <= 64 or len(value) > 256:
            raise ValueError(f"label {key[:64]!r}: keys are 1-64 and values 0-256 characters")
    return labels


class IncidentRequest(Model):
    """What a caller sends to open an incident."""

    title: ShortText
    severity: Severity
    service: Slug
    description: LongText = ""
    dedup_key: Annotated[str, StringConstraints(min_length=1, max_length=255)] | None = None
    runbook: Slug | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    drill: StrictBool = Field(
        default=False,
        description="A drill: real pages marked DRILL, left out of every metric, with a per-tier report",
    )

    _labels = field_validator("labels")(_check_labels)


class Incident(Model):
    """An incident as it was opened: immutable facts, the workflow's input."""

    id: Slug
    title: ShortText
    severity: Severity
    service: Slug
    description: LongText = ""
    dedup_key: str | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    created_at: datetime
    drill: bool = False  # a training run: pages say DRILL, metrics leave it out

    _labels = field_validator("labels")(_check_labels)


class Person(Model):
    """Someone who can be paged. ``timezone`` is an IANA name such as ``Europe/Paris``."""

    id: Slug
    name: ShortText
    email: Email
    timezone: str = "UTC"


class Team(Model):
    """A named group of people in the directory; ``members`` are person ids, in order."""

    id: Slug
    name: ShortText
    members: list[Slug] = Field(min_length=1)


class Tier(Model):
    """One escalation level, frozen when the incident starts: its people, and the schedules
    (ids) resolved to whoever is on call when the tier pages."""

    number: int = Field(ge=1, le=50)
    name: ShortText
    targets: list[Person] = Field(default_factory=list)
    ack_timeout: timedelta
    schedules: list[Slug] = Field(default_factory=list, max_length=20)
    on_empty: OnEmpty = OnEmpty.SKIP
    fallback: list[Person] = Field(default_factory=list)
    on_handoff: OnHandoff = OnHandoff.PAGE_INCOMING

    @model_validator(mode="after")
    def _someone_or_a_schedule(self) -> Tier:
        if not self.targets and not self.schedules:
            raise ValueError(f"tier {self.name!r} names nobody: give it people, a team or a schedule")
        if self.on_empty is OnEmpty.FALLBACK and not self.fallback:
            raise ValueError(f"tier {self.name!r}: on_empty=fallback needs fallback targets")
        return self

    @field_validator("ack_timeout")
    @classmethod
    def _bounded_timeout(cls, value: timedelta) -> timedelta:
        if not MIN_ACK_TIMEOUT <= value <= MAX_ACK_TIMEOUT:
            raise ValueError("ack_timeout must be between 1 second and 7 days")
        return value


class IncidentPlan(Model):
    """Everything a running incident depends on, frozen at its start.

    Editing a runbook or the directory later never changes an incident that is
    already running: it executes from this snapshot.
    """

    runbook: Slug
    tiers: list[Tier] = Field(min_length=1)
    repeat: int = Field(default=0, ge=0, le=5)
    stakeholders: list[Person] = Field(default_factory=list)
    management: list[Person] = Field(default_factory=list)
    stakeholder_interval: timedelta | None = None
    # An acknowledged incident not resolved within this goes back to triggered (None: never).
    ack_timeout: timedelta | None = None
    # Paged when the whole ladder paged nobody (every schedule empty).
    last_resort: list[Person] = Field(default_factory=list)
    sla_policy: Slug | None = None  # the SLA policy the runbook names (None: the default)
    # The whole directory, in inputs written before the plan carried only its own people.
    responders: dict[str, Person] = Field(default_factory=dict)

    @property
    def ladder_length(self) -> timedelta:
        """How long the whole ladder takes when nobody acknowledges: every tier's timeout,
        ``repeat + 1`` times."""
        return sum((t.ack_timeout for t in self.tiers), timedelta()) * (self.repeat + 1)

    def people(self) -> dict[str, Person]:
        """Everyone the plan names (tiers, stakeholders, management), by id."""
        named = [p for tier in self.tiers for p in [*tier.targets, *tier.fallback]]
        named += self.stakeholders + self.management + self.last_resort
        return {**self.responders, **{p.id: p for p in named}}

    def tier(self, name: str) -> Tier:
        """The tier called ``name``; a runbook asking for a tier it did not plan is a bug."""
        for tier in self.tiers:
            if tier.name == name:
                return tier
        raise KeyError(f"runbook {self.runbook!r} has no tier named {name!r}")


class TimelineEntry(Model):
    """One line of the timeline: ``kind`` an ``EventKind`` value (or a runbook's own word)."""

    at: datetime
    kind: str
    actor: str
    detail: str = ""


class Page(Model):
    """One person paged in one tier (``tier`` is its number); ``delivery`` is where
    the email stands, None on incidents recorded before it was tracked."""

    person: str
    tier: int
    at: datetime
    delivery: Delivery | None = None


class TierRef(Model):
    """A tier by number and name: the incident's current tier, or the tier an email is about."""

    number: int
    name: str


class IncidentView(Model):
    """What a query returns and every update answers with."""

    id: str
    title: str
    severity: Severity
    service: str
    description: str = ""
    labels: dict[str, str] = Field(default_factory=dict)
    dedup_key: str | None = None
    runbook: str
    state: State
    tier: TierRef | None = None
    paged: list[Page] = Field(default_factory=list)
    created_at: datetime
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None
    resolved_by: str | None = None
    resolved_at: datetime | None = None
    exhausted: bool = False
    timeline: list[TimelineEntry] = Field(default_factory=list)
    repeats: int = 0
    flags: list[IncidentFlag] = Field(default_factory=list)
    # Earlier timeline entries kept in the incident's archive files, not in ``timeline``.
    timeline_archived: int = 0
    # Response and resolution targets and where each stands (None: no SLA policy).
    sla: SlaState | None = None
    # Acknowledged, and snoozed: the acknowledger is paged again then (unless resolved).
    snoozed_until: datetime | None = None
    # Maintenance windows and waits (on a vendor) that pause it (workflows/pauses.py).
    pauses: list[Pause] = Field(default_factory=list)
    drill: bool = False  # a training run (``IncidentRequest.drill``)


class Trigger(Model):
    """An alert for an incident: the one that opens it, or a repeat of the same dedup key.

    A repeat carries the latest details (title, description, labels) into later pages.
    ``count`` is how many alerts this one update stands for (repeats coalesced in a storm).
    """

    title: ShortText
    description: LongText = ""
    labels: dict[str, str] = Field(default_factory=dict)
    source: Slug = "api"
    count: int = Field(default=1, ge=1, le=100_000)
    # An integration's id for this very alert (e.g. fingerprint and start): counted once.
    key: Annotated[str, StringConstraints(max_length=300)] | None = None

    _labels = field_validator("labels")(_check_labels)


class ResponderAction(Model):
    """The body of acknowledge, resolve and escalate."""

    responder: Slug
    note: Annotated[str, StringConstraints(max_length=2_000)] | None = None
    name: ShortText | None = Field(
        default=None, description="The responder's name: set by the server from the directory"
    )


class Snooze(ResponderAction):
    """The body of a snooze: until when (at most 24 hours ahead) nobody is paged."""

    until: AwareDatetime


class ClockPause(ResponderAction):
    """The body of a pause of the SLA clocks (waiting on a vendor, say), or of its end
    (``resume``): the deadlines move by the paused time; paging goes on."""

    reason: ShortText | None = None
    until: AwareDatetime | None = None
    resume: bool = False


class SeverityChange(ResponderAction):
    """The body of a severity change: the new severity, who changes it and why."""

    severity: Severity


class Note(Model):
    """A note on the timeline: trimmed, and refused (422) when nothing is left."""

    author: Slug
    text: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2_000)]
