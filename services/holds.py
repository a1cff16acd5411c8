"""What pauses an incident when it is opened: the maintenance windows in force for its
service or labels, and the ``suppress_all`` windows to come that will cover it
(``store/maintenance.py``). The incident is still opened and recorded at once; its
workflow pages nobody while a window is in force (``workflows/pauses.py``).

A database that cannot answer within 2 s pauses nothing: the incident pages as usual.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

from services.database import Database
from services.incidents import Hold
from store.maintenance import covering
from workflows.errors import DomainError
from workflows.maintenance import MaintenanceWindow
from workflows.models import Incident
from workflows.pauses import MaintenanceNotice, Pause

log = logging.getLogger("escalate.maintenance")
WAIT = 2.0  # seconds the database may take before an incident is opened unpaused


def notice_of(window: MaintenanceWindow, lifted: bool = False) -> MaintenanceNotice:
    """What the incidents are told of ``window`` (in force, or ended early)."""
    return MaintenanceNotice(
        window=window.id,
        services=window.services,
        labels=window.labels,
        start=window.start,
        until=window.until,
        reason=_why(window),
        lifted=lifted,
    )


def _why(window: MaintenanceWindow) -> str:
    return f"window {window.id}: {window.reason}" if window.reason else f"window {window.id}"


def maintenance_hold(database: Database) -> Hold:
    """The hold the incident service asks before opening an incident."""

    async def hold(incident: Incident) -> list[Pause]:
        try:
            async with asyncio.timeout(WAIT):
                windows = await database.run(covering, incident.service, incident.labels, datetime.now(UTC))
        except (TimeoutError, DomainError) as err:
            log.warning("incident %s opened without checking maintenance windows: %s", incident.id, err)
            return []
        return [notice_of(window).pause() for window in windows]

    return hold
