"""Maintenance windows: created, listed, read and ended; and which are in force for an
incident about to be opened.

Reads before anything was ever written (the embedded SQLite file not created yet) answer
that there is no window, without creating the database.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

from services.database import Database
from services.holds import notice_of
from services.maintenance_notices import AGAIN_AFTER, Tell
from store import maintenance as rows
from workflows.errors import InvalidRequest, NotFound
from workflows.maintenance import MaintenanceWindow, MaintenanceWindowSpec
from workflows.pauses import MaintenanceNotice

log = logging.getLogger("escalate.maintenance")


class UnknownMaintenanceWindow(NotFound):
    """No maintenance window has this id, or none in force or to come (404)."""

    code = "unknown-maintenance-window"


class MaintenanceService:
    """Windows in the database; ``tell`` (when given) tells the incidents already open
    about a ``suppress_all`` window and about a window ended early."""

    def __init__(self, database: Database, tell: Tell | None = None) -> None:
        self._database = database
        self._tell = tell
        self._later: set[asyncio.Task[None]] = set()

    async def create(self, spec: MaintenanceWindowSpec, by: str) -> MaintenanceWindow:
        """A new window; a start in the past becomes now.

        Raises:
            InvalidRequest: its end is not in the future (422).
        """
        if spec.end <= datetime.now(UTC):
            raise InvalidRequest("the maintenance window's end is in the past: there is nothing left to hold")
        try:
            window = await self._database.run(rows.create, spec, by)
        except rows.WindowOver as exc:
            raise InvalidRequest(str(exc)) from None
        if window.suppress_all:  # the incidents already open pause too
            await self._tell_incidents(notice_of(window))
        return window

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
        """End a window now (cancel one to come); the incidents it paused page again.
        Raises UnknownMaintenanceWindow."""
        if not self._database.present() or not await self._database.run(rows.delete, window_id):
            raise UnknownMaintenanceWindow(f"no maintenance window {window_id!r} in force or to come")
        await self._tell_incidents(notice_of(await self.get(window_id), lifted=True))

    async def _tell_incidents(self, notice: MaintenanceNotice, again: bool = True) -> None:
        """Tell the open incidents now, and once more shortly (those not yet listed). A
        failure is logged: the window stands, and it holds every incident opened in it."""
        if self._tell is None:
            return
        try:
            told = await self._tell(notice)
            log.info("maintenance %s: %d open incidents told", notice.window, told)
        except Exception as err:
            log.warning("maintenance %s: the open incidents could not be told: %s", notice.window, err)
        if again:
            task = asyncio.create_task(self._again(notice))
            self._later.add(task)
            task.add_done_callback(self._later.discard)

    def close(self) -> None:
        """At shutdown: the second tellings still waiting are dropped."""
        for task in self._later:
            task.cancel()

    async def _again(self, notice: MaintenanceNotice) -> None:
        await asyncio.sleep(AGAIN_AFTER)
        await self._tell_incidents(notice, again=False)
