"""What the repository functions take and give back: plain pydantic models.

Every datetime is timezone-aware (the store refuses naive ones and returns UTC).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

# The event-log kind of one page (person in ``actor``, tier in ``tier``), beside the
# timeline's own kinds.
PAGE_EVENT = "page"


class Record(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PersonRecord(Record):
    id: str
    name: str
    email: str
    timezone: str = "UTC"
    # e.g. [{"kind": "email", "address": "..."}, {"kind": "sms", "number": "..."}]
    contact_methods: list[dict[str, Any]] = Field(default_factory=list)
    created_at: datetime | None = None
    updated_at: datetime | None = None


class TeamRecord(Record):
    id: str
    name: str
    members: list[str] = Field(default_factory=list)  # person ids, in paging order


class ImportCounts(Record):
    """What :func:`store.people.import_directory` wrote."""

    people: int
    teams: int
    members: int


class IncidentSummary(Record):
    """The one row an incident has in ``incidents``: where it stands now."""

    id: str
    service: str
    severity: str
    runbook: str | None = None
    title: str
    state: str
    triggered_at: AwareDatetime
    acknowledged_at: AwareDatetime | None = None
    acknowledged_by: str | None = None
    acknowledged_tier: int | None = None
    resolved_at: AwareDatetime | None = None
    resolved_by: str | None = None
    max_tier: int | None = None
    pages_sent: int = 0
    auto_resolved: bool | None = None
    sla_breached: bool | None = None  # None: held to no SLA policy
    updated_at: AwareDatetime | None = None  # set by the store when left out
    drill: bool = False  # a training run: left out of every metric


class IncidentEvent(Record):
    """One timeline entry. ``event_id`` (e.g. ``incident-<id>:<seq>``) makes a retry harmless."""

    event_id: str
    incident_id: str
    seq: int
    kind: str
    at: AwareDatetime
    actor: str
    tier: int | None = None
    detail: str = ""
    data: dict[str, Any] | None = None


class NotificationRecord(Record):
    notification_id: str
    incident_id: str
    person_id: str
    kind: str
    status: str  # sending | sent | failed
    attempts: int  # provider calls of pending or unknown outcome (see store.notifications)
    provider_message_id: str | None = None
    error: str | None = None
    created_at: datetime
    claimed_at: datetime
    sent_at: datetime | None = None
