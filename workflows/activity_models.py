"""What the workflows hand their activities and what comes back: emails (``Notification``),
documentation requests and on-call questions.

Like every model in a history: only ever add optional fields.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import AwareDatetime, Field

from workflows.models import IncidentView, Model, NotificationKind, Person, Slug, TierRef, TimelineEntry


class DocumentRequest(Model):
    """Ask the document activity to write the incident record (and, when final, the report)."""

    incident: IncidentView
    final: bool = False
    # Timeline entries moved out of a long incident's state, from entry number ``archive_start``.
    archive: list[TimelineEntry] = Field(default_factory=list)
    archive_start: int = 0


class DocumentResult(Model):
    """What ``document_incident`` returns: the paths of the record written and, when
    final, of the report."""

    record: str
    report: str | None = None


class OnCallQuestion(Model):
    """Who is on call on these schedules at ``at``: the workflow's time, never the
    activity's clock, so that time-skipping tests and simulations stay right."""

    schedules: list[Slug] = Field(min_length=1, max_length=20)
    at: AwareDatetime


class OnCallAnswer(Model):
    """One schedule's answer, as it goes on the timeline: who, by which layer and
    overrides, from which revision, until when; ``found`` False for an unknown schedule."""

    schedule: str
    found: bool = True
    people: list[Person] = Field(default_factory=list)
    layer: str | None = None
    overrides: list[str] = Field(default_factory=list)
    revision: int | None = None
    valid_until: datetime | None = None
    # Participants the directory no longer has (skipped).
    missing: list[str] = Field(default_factory=list)
    # Where the schedule was read: "" the database; else why something else answered
    # (the seed file before the database holds schedules, or when it cannot be read).
    source: str = ""
    # Why the schedule could not answer (a stored schedule that no longer computes).
    error: str | None = None


class NextShiftQuestion(Model):
    """Who comes on call next on ``schedule`` after ``after`` (the workflow's time)."""

    schedule: Slug
    after: AwareDatetime


class NextShift(Model):
    """The next hand-off that puts someone new on call: when, who (``people``, only those
    coming on), until when; ``starts_at`` None when nobody comes on within the horizon
    searched; ``gone`` when the schedule no longer exists."""

    schedule: str
    schedule_name: str = ""
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    people: list[Person] = Field(default_factory=list)
    gone: bool = False
    # The worker's settings now (so a running watch follows a change of them): how long
    # ahead to remind (None: as the watch was started), and whether notices are off.
    remind_before: timedelta | None = None
    off: bool = False


class ShiftRef(Model):
    """The on-call shift a shift notice is about."""

    schedule: Slug
    schedule_name: str
    starts_at: datetime
    ends_at: datetime | None = None


class Notification(Model):
    """One email to one person, about an incident or (a shift notice) an on-call shift.
    ``id`` is deterministic, so a retry is recognised."""

    id: str
    kind: NotificationKind
    incident: IncidentView | None = None
    shift: ShiftRef | None = None
    recipient: Person
    tier: TierRef | None = None
    message: str = ""
    previously_paged: list[str] = Field(default_factory=list)

    @property
    def about(self) -> str:
        """What the email is about: the incident's id, or ``schedule-<id>``."""
        if self.incident is not None:
            return self.incident.id
        return f"schedule-{self.shift.schedule}" if self.shift else "unknown"


class NotificationResult(Model):
    """What ``send_email`` returns: the notification's id, whether it was delivered, and
    where to (``sendgrid:<message id>`` or an outbox file)."""

    id: str
    delivered: bool
    where: str = ""
