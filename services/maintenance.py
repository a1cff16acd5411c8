"""Maintenance windows: created, listed, read and ended; and which are in force for an
incident about to be opened.

Reads before anything was ever written (the embedded SQLite file not created yet) answer
that there is no window, without creating the database.
"""

from __future__ import annotations

from datetime import UTC, datetime

from services.database import Database
from store import maintenance as rows
from workflows.errors import InvalidRequest, NotFound
from workflows.maintenance import MaintenanceWindow, MaintenanceWindowSpec


class UnknownMaintenanceWindow(NotFound):
    """No maintenance window has this id, or none in force or to come (404)."""

    code = "unknown-maintenance-window"


class MaintenanceService:
    def __init__(self, database: Database) -> None:
        self._database = database

    async def create(self, spec: MaintenanceWindowSpec, by: str) -> MaintenanceWindow:
        """A new window; a start in the past becomes now.

        Raises:
            InvalidRequest: its end is not in the future (422).
        """
        if spec.end <= datetime.now(UTC):
            raise InvalidRequest("the maintenance window's end is in the past: there is nothing left to hold")
        if spec.suppress_all:  # pausing incidents already running: not built yet, say so
            raise InvalidRequest("suppress_all (pausing incidents already open) is not available yet")
        try:
            return await self._database.run(rows.create, spec, by)
        except rows.WindowOver as exc:
            raise InvalidRequest(str(exc)) from None

    async def get(self, window_id: str) -> MaintenanceWindow:
        """The window, ended or not. Raises UnknownMaintenanceWindow."""
        found = await self._database.run(rows.get, window_id) if self._database.present() else None
        if found is None:
            raise UnknownMaintenanceWindow(f"no maintenance window {window_id!r}")
        return found

    async def list_windows(
        self, active_at: datetime | None = None, include_ended: bool = False
    ) -> list[MaintenanceWindow]:
        """Those in force at ``active_at`` when given; else those not ended (or all)."""
        if not self._database.present():
            return []
        return await self._database.run(rows.list_windows, active_at, include_ended)

    async def active(self) -> list[MaintenanceWindow]:
        """The windows in force now."""
        return await self.list_windows(active_at=datetime.now(UTC))

    async def delete(self, window_id: str) -> None:
        """End a window now (cancel one to come). Raises UnknownMaintenanceWindow."""
        if not self._database.present() or not await self._database.run(rows.delete, window_id):
            raise UnknownMaintenanceWindow(f"no maintenance window {window_id!r} in force or to come")

    async def in_force(
        self, service: str, labels: dict[str, str], at: datetime | None = None
    ) -> list[MaintenanceWindow]:
        """The windows in force at ``at`` (default now) for an incident of ``service`` with
        ``labels``, the one that ends last first."""
        if not self._database.present():
            return []
        return await self._database.run(rows.in_force, service, labels, at or datetime.now(UTC))
