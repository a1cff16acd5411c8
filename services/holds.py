"""What holds an incident back when it is opened: a maintenance window in force for its
service or labels (``store/maintenance.py``). The incident is still opened and recorded at
once; its workflow pages nobody until the window ends (``workflows/hold.py``).

A database that cannot answer within 2 s holds nothing: the incident pages as usual.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

from services.database import Database
from services.incidents import Hold
from store.maintenance import in_force
from workflows.errors import DomainError
from workflows.models import Incident

log = logging.getLogger("escalate.maintenance")
WAIT = 2.0  # seconds the database may take before an incident is opened unheld


def maintenance_hold(database: Database) -> Hold:
    """The hold the incident service asks before opening an incident."""

    async def hold(incident: Incident) -> tuple[datetime, str] | None:
        try:
            async with asyncio.timeout(WAIT):
                windows = await database.run(in_force, incident.service, incident.labels, datetime.now(UTC))
        except (TimeoutError, DomainError) as err:
            log.warning("incident %s opened without checking maintenance windows: %s", incident.id, err)
            return None
        if not windows:
            return None
        names = ", ".join(f"{w.id} ({w.reason})" if w.reason else w.id for w in windows)
        return max(w.end for w in windows), f"maintenance {names}"

    return hold
