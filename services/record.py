"""The incident record as the services read it: what is not in it is a 404."""

from __future__ import annotations

from sqlalchemy.engine import Connection, Engine

from store.incidents import get_incident
from store.models import IncidentSummary
from workflows.errors import NotFound


class NoSuchRecord(NotFound):
    """No incident with this id in the application database (404)."""

    code = "no-record"


def recorded(bind: Engine | Connection, incident_id: str) -> IncidentSummary:
    """The incident's summary row. Raises NoSuchRecord when the record has none."""
    incident = get_incident(bind, incident_id)
    if incident is None:
        raise NoSuchRecord(f"no incident {incident_id!r} in the record")
    return incident
