"""The product's words: every enum, from which every wire string is derived.

Values are stored in running incidents' histories, saved visibility queries and
people's bookmarks: add members, never rename a value. ``StrEnum`` members are
strings, so a value written before an enum existed still compares equal.
"""

from __future__ import annotations

from enum import StrEnum


class Severity(StrEnum):
    """How bad an incident is, SEV1 the worst; runbooks choose and time tiers by it."""

    SEV1 = "SEV1"
    SEV2 = "SEV2"
    SEV3 = "SEV3"
    SEV4 = "SEV4"


class State(StrEnum):
    """Where an incident is in its lifecycle (search attribute ``IncidentState``)."""

    TRIGGERED = "triggered"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


class IncidentFlag(StrEnum):
    """Conditions an operator must be able to find (search attribute ``IncidentFlags``)."""

    EXHAUSTED = "exhausted"  # every tier was paged and nobody acknowledged
    RUNBOOK_FAILED = "runbook-failed"  # the scenario raised; the plan was walked plainly
    UNDELIVERABLE = "undeliverable"  # a page could not be delivered
    SLA_BREACHED = "sla-breached"  # a response or resolution target was missed


class NotificationKind(StrEnum):
    """What an email is for; it decides the wording and which action links the email carries."""

    PAGE = "page"
    STAKEHOLDER = "stakeholder"
    EXHAUSTED = "exhausted"
    ACKNOWLEDGED = "acknowledged"  # stand-down: someone else acknowledged
    RESOLVED = "resolved"  # stand-down: the incident is resolved
    FEEDBACK = "feedback"  # after resolution: how did it go? (a signed feedback link)
    FEEDBACK_REMINDER = "feedback_reminder"  # a day later, to those who have not answered
    SHIFT_REMINDER = "shift_reminder"  # your on-call shift starts soon
    SHIFT_STARTED = "shift_started"  # your on-call shift has started

    @property
    def asks_feedback(self) -> bool:
        return self in (NotificationKind.FEEDBACK, NotificationKind.FEEDBACK_REMINDER)


class Delivery(StrEnum):
    """Where a page's email stands (absent on incidents recorded before it existed)."""

    SENDING = "sending"
    SENT = "sent"
    RETRYING = "retrying"
    FAILED = "failed"


class EventKind(StrEnum):
    """What a timeline entry records. A runbook may write kinds of its own (``esc.record``)."""

    TRIGGERED = "triggered"
    REPEATED = "repeated"
    PAGING = "paging"  # handed to the email activity
    PAGED = "paged"  # the email was delivered
    PAGE_RETRYING = "page_retrying"
    PAGE_FAILED = "page_failed"
    NOTIFICATION_FAILED = "notification_failed"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"
    ESCALATED = "escalated"
    ESCALATION_REQUESTED = "escalation_requested"
    EXHAUSTED = "exhausted"
    STAKEHOLDER_UPDATE = "stakeholder_update"
    STOOD_DOWN = "stood_down"
    NOTE = "note"
    CONTINUED = "continued"
    RUNBOOK_FAILED = "runbook_failed"
    ONCALL = "oncall"  # a schedule answered who is on call (who, layer, overrides, revision)
    HANDOFF = "handoff"  # a shift changed hands during a tier
    NO_ONE_ON_CALL = "no_one_on_call"  # a tier had nobody to page
    LAST_RESORT = "last_resort"  # nobody was paged by the whole ladder: the last resort was
    SLA_WARNING = "sla_warning"  # a target's deadline is near (50 %, 80 % of its time gone)
    SLA_BREACHED = "sla_breached"  # a target's deadline passed unmet
    SEVERITY_CHANGED = "severity_changed"
    SNOOZED = "snoozed"
    MAINTENANCE = "maintenance"  # opened during a maintenance window: held until it ends
    RETRIGGERED = "retriggered"  # acknowledged but not resolved in time, or a snooze is over
    PAUSED = "paused"  # a maintenance window, or waiting on someone: clocks stand still
    UNPAUSED = "unpaused"  # the pause is over: clocks run again (a paused tier is paged again)


class Action(StrEnum):
    """What a responder does to an incident. The value is the workflow update's name."""

    ACKNOWLEDGE = "acknowledge"
    RESOLVE = "resolve"
    ESCALATE = "escalate"

    @property
    def past(self) -> str:
        """``Acknowledged``: how a page says it was done."""
        return _PAST[self]

    @property
    def event(self) -> EventKind:
        """The timeline entry an accepted action writes."""
        return _EVENT[self]


_PAST = {Action.ACKNOWLEDGE: "Acknowledged", Action.RESOLVE: "Resolved", Action.ESCALATE: "Escalated"}
_EVENT = {
    Action.ACKNOWLEDGE: EventKind.ACKNOWLEDGED,
    Action.RESOLVE: EventKind.RESOLVED,
    Action.ESCALATE: EventKind.ESCALATION_REQUESTED,
}

# The actions an email of each kind carries as signed links.
LINK_ACTIONS: dict[NotificationKind, tuple[Action, ...]] = {
    NotificationKind.PAGE: (Action.ACKNOWLEDGE, Action.RESOLVE, Action.ESCALATE),
    NotificationKind.EXHAUSTED: (Action.ACKNOWLEDGE, Action.RESOLVE),
}


class TargetKind(StrEnum):
    """What a runbook's tier target names: ``person:<id>``, ``team:<id>`` or
    ``schedule:<id>`` (whoever is on call when the tier pages)."""

    PERSON = "person"
    TEAM = "team"
    SCHEDULE = "schedule"


class OnEmpty(StrEnum):
    """What a tier does when nobody is on call for it."""

    SKIP = "skip"  # escalate at once
    WAIT = "wait"  # let the tier's timeout run anyway
    FALLBACK = "fallback"  # page the tier's fallback targets


class OnHandoff(StrEnum):
    """What a tier does when a schedule it pages changes hands before its timeout."""

    PAGE_INCOMING = "page_incoming"
    KEEP = "keep"


class Actor(StrEnum):
    """Who wrote a timeline entry when no person did."""

    RUNBOOK = "runbook"
    EMAIL = "email"
    ALERTMANAGER = "alertmanager"


# Integrations that may resolve or escalate an incident without being a person.
SYSTEM_ACTORS = frozenset({Actor.ALERTMANAGER.value})


class Goal(StrEnum):
    """What a response or resolution target measures, from the incident's start."""

    ACKNOWLEDGE = "acknowledge"  # someone acknowledged
    FIRST_UPDATE = "first_update"  # stakeholders got a first status update
    RESOLVE = "resolve"  # the incident was resolved


class Clock(StrEnum):
    """How a target's time runs: every minute (``wall``) or only in business hours."""

    WALL = "wall"
    BUSINESS = "business"


class BreachAction(StrEnum):
    """What a missed target does, once (a timeline entry is always written)."""

    PAGE_MANAGEMENT = "page_management"
    EMAIL_STAKEHOLDERS = "email_stakeholders"
