"""What one run of the incident workflow starts from: its input, and what an earlier
run hands over when the workflow continues as new.

The same rule as ``workflows.models`` holds: only ever add *optional* fields,
or the histories of running incidents break.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import Field

from workflows.models import Incident, IncidentPlan, IncidentView, Model, Person
from workflows.pauses import Pause
from workflows.targets import SlaPolicy


class PendingWait(Model):
    """A journaled wait a scenario was blocked in when its run continued as new."""

    seq: int
    deadline: datetime | None = None


class JournalState(Model):
    """A running scenario's journal: each primitive's outcome, per task scope, in order.

    ``entries`` maps a scope ("r", "r.0", ...) to one character per finished step;
    ``pending`` the wait each scope was blocked in; ``loops`` the next run of each
    ``every()`` loop, keyed ``<scope>#<step>``.
    """

    entries: dict[str, str] = Field(default_factory=dict)
    pending: dict[str, PendingWait] = Field(default_factory=dict)
    loops: dict[str, datetime] = Field(default_factory=dict)


class LadderPosition(Model):
    """Where a resumable ``escalate()`` stood: holding after an acknowledgement at ``index``."""

    tiers: list[str]
    rounds: int
    index: int


class Periodic(Model):
    """A background ``every()`` loop: which ``Escalation`` method, how often, when next."""

    action: str
    interval: timedelta
    next_at: datetime


class Carried(Model):
    """What one run hands the next when the workflow continues as new."""

    view: IncidentView
    triggers: int = 0
    sent: int = 0
    ladder: LadderPosition | None = None
    periodic: list[Periodic] = Field(default_factory=list)
    trigger_keys: list[str] = Field(default_factory=list)
    journal: JournalState | None = None
    # People schedules put on call (they are not in the plan), for later emails.
    oncall: list[Person] = Field(default_factory=list)


class IncidentInput(Model):
    """The incident workflow's single input.

    ``carried`` is set only on a continued run: the state the previous run had
    built, so a long incident's history stays bounded while its timeline is whole.
    ``history_limit`` (events) continues as new earlier than the server suggests.
    """

    incident: Incident
    plan: IncidentPlan
    carried: Carried | None = None
    history_limit: int | None = Field(default=None, ge=100, le=40_000)
    # True when the incident id is derived from a key and the workflow id can be
    # opened again: the workflow then gives this opening its own id (contract.opening_id).
    opening_ids: bool = False
    # How long after resolution everyone paged or notified is asked for feedback
    # (workflows/feedback.py); None: nobody is asked (incidents opened before it existed).
    feedback_delay: timedelta | None = None
    # The response and resolution targets the incident is held to (None: none).
    sla: SlaPolicy | None = None
    # Opened during a maintenance window: nobody is paged until it ends (then the scenario runs).
    held_until: datetime | None = None
    held_by: str = ""
    # Pauses in force (or to come) when it opened: the maintenance windows covering it.
    pauses: list[Pause] = Field(default_factory=list)
