"""Drills: incidents opened with ``"drill": true`` page real people (every email says
DRILL), are left out of the metrics (``store.reports.real``), and report how the team did:
time to acknowledge per tier paged (``workflows.drills.drill_report``)."""

from __future__ import annotations

from datetime import UTC, datetime

from services.incidents import IncidentService
from workflows.drills import DrillReport, drill_report
from workflows.errors import NotADrill


async def report(incidents: IncidentService, incident_id: str, now: datetime | None = None) -> DrillReport:
    """The drill's report as it stands (a drill still open counts its last wait up to now).

    Raises:
        UnknownIncident: no such incident.
        NotADrill: the incident is a real one.
        Unavailable: Temporal cannot be reached.
    """
    view = await incidents.read(incident_id)
    if not view.drill:
        raise NotADrill(f"incident {incident_id} is not a drill: it has no drill report")
    return drill_report(view, now or datetime.now(UTC))
