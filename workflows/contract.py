"""Names shared by the workflow, the worker, the API and the Temporal server set-up.

Changing any of these strings breaks running incidents or operators' saved
queries: add new names, never rename old ones.
"""

from __future__ import annotations

from temporalio.common import SearchAttributeKey

from workflows.vocabulary import Action

WORKFLOW_NAME = "IncidentWorkflow"
# Asks everyone paged or notified for feedback once an incident is resolved, and reminds
# them a day later: ``feedback-<incident id>``, started by the incident's workflow.
FEEDBACK_WORKFLOW = "FeedbackWorkflow"
# Tells people when their on-call shift nears and starts: one per schedule, ``schedule-<id>``,
# signalled ``schedule_changed`` on every edit.
SHIFT_WATCH_WORKFLOW = "ShiftWatchWorkflow"
SCHEDULE_CHANGED = "schedule_changed"
DEFAULT_TASK_QUEUE = "escalation"

# Activity names: the workflow refers to them by name so that it never imports
# the activity modules (and their HTTP clients) into the workflow sandbox.
SEND_EMAIL = "send_email"
DOCUMENT_INCIDENT = "document_incident"
FEEDBACK_PENDING = "feedback_pending"
REQUEST_FEEDBACK = "request_feedback"
RESOLVE_ONCALL = "resolve_oncall"
NEXT_SHIFT = "next_shift"

# Update, signal and query names, used by the API and the CLI.
ACKNOWLEDGE = Action.ACKNOWLEDGE.value
RESOLVE = Action.RESOLVE.value
ESCALATE = Action.ESCALATE.value
ADD_NOTE = "add_note"
TRIGGER = "trigger"
SET_SEVERITY = "set_severity"
SNOOZE = "snooze"
PAUSE_CLOCKS = "pause_clocks"  # an update: waiting on someone, or its end
MAINTENANCE = "maintenance"  # a signal: a maintenance window in force, or ended early
GET_INCIDENT = "incident"

SEVERITY = SearchAttributeKey.for_keyword("IncidentSeverity")
SERVICE = SearchAttributeKey.for_keyword("IncidentService")
STATE = SearchAttributeKey.for_keyword("IncidentState")
TIER = SearchAttributeKey.for_int("EscalationTier")
RUNBOOK = SearchAttributeKey.for_keyword("Runbook")
# What an operator must notice: ``exhausted`` (every tier paged in vain),
# ``runbook-failed`` (the scenario raised; the plan is walked plainly instead),
# ``undeliverable`` (a page could not be delivered).
FLAGS = SearchAttributeKey.for_keyword_list("IncidentFlags")
# Everyone paged, who acknowledged and who resolved: ``GET /api/incidents?responder=``.
RESPONDERS = SearchAttributeKey.for_keyword_list("IncidentResponders")

# Whether a response or resolution target was missed (incidents held to an SLA policy).
SLA_BREACHED = SearchAttributeKey.for_bool("SlaBreached")

SEARCH_ATTRIBUTES = (SEVERITY, SERVICE, STATE, TIER, RUNBOOK, FLAGS, RESPONDERS, SLA_BREACHED)

# An incident whose id is derived from a key (a dedup key, an Alertmanager
# fingerprint, an Idempotency-Key) is opened again under the same workflow id
# once the earlier one is resolved. Each opening gets its own incident id,
# ``<base>-<opening>``, the opening taken from its first run's id, so that
# notification ids, links and reports of one opening never stand for another.
OPENING_SEPARATOR = "-"


def opening_id(base: str, first_run_id: str) -> str:
    """The incident id of one opening of the workflow ``incident-<base>``."""
    # The tail of the run id: run ids may be time-ordered (UUIDv7), their head is not unique.
    return f"{base}{OPENING_SEPARATOR}{first_run_id.replace('-', '')[-8:].lower()}"


def base_id(incident_id: str) -> str:
    """The part of an incident id that names its workflow (base ids never hold the separator)."""
    return incident_id.split(OPENING_SEPARATOR, 1)[0]


def workflow_id(incident_id: str) -> str:
    """The Temporal workflow id of an incident: ``incident-<id>`` (without its opening)."""
    return f"incident-{base_id(incident_id)}"


def feedback_workflow_id(incident_id: str) -> str:
    """The workflow that asks for feedback on one opening of an incident."""
    return f"feedback-{incident_id}"


def shift_watch_id(schedule_id: str) -> str:
    """The workflow that announces the shifts of one schedule."""
    return f"schedule-{schedule_id}"
