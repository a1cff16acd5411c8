"""Names shared by the workflow, the worker, the API and the Temporal server set-up.

Changing any of these strings breaks running incidents or operators' saved
queries: add new names, never rename old ones.
"""

from __future__ import annotations

from temporalio.common import SearchAttributeKey

WORKFLOW_NAME = "IncidentWorkflow"
DEFAULT_TASK_QUEUE = "escalation"

# Activity names: the workflow refers to them by name so that it never imports
# the activity modules (and their HTTP clients) into the workflow sandbox.
SEND_EMAIL = "send_email"
DOCUMENT_INCIDENT = "document_incident"

# Update, signal and query names, used by the API and the CLI.
ACKNOWLEDGE = "acknowledge"
RESOLVE = "resolve"
ESCALATE = "escalate"
ADD_NOTE = "add_note"
TRIGGER = "trigger"
GET_INCIDENT = "incident"

SEVERITY = SearchAttributeKey.for_keyword("IncidentSeverity")
SERVICE = SearchAttributeKey.for_keyword("IncidentService")
STATE = SearchAttributeKey.for_keyword("IncidentState")
TIER = SearchAttributeKey.for_int("EscalationTier")
RUNBOOK = SearchAttributeKey.for_keyword("Runbook")

SEARCH_ATTRIBUTES = (SEVERITY, SERVICE, STATE, TIER, RUNBOOK)


def workflow_id(incident_id: str) -> str:
    """The Temporal workflow id of an incident: ``incident-<id>``."""
    return f"incident-{incident_id}"
