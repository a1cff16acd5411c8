"""The incident's pauses at run time (what each stops: ``workflows/pauses.py``).

``Pausing`` adds and lifts pauses on the incident's view, writes each start and end on
the timeline, stands the SLA clocks still while any pause is in force, and keeps a
watcher task that wakes at each pause's own start and end. Paging asks ``paging_paused``
before it pages and sits a maintenance pause out (``workflows/paging.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import timedelta

from temporalio import workflow

from workflows import targets
from workflows.errors import ActionRejected
from workflows.maintenance import scope_covers
from workflows.models import ClockPause, State
from workflows.pauses import MaintenanceNotice, Pause, PauseKind, clocks_paused, describe, next_change
from workflows.pauses import paging_paused as maintenance_in_force
from workflows.record import IncidentRecord
from workflows.vocabulary import Actor, EventKind

WAITING = "waiting"
MAX_WAIT = timedelta(days=7)


class Pausing:
    def __init__(self, record: IncidentRecord, on_change: Callable[[], None]) -> None:
        self._record = record
        self._on_change = on_change
        self._watcher: asyncio.Future[None] | None = None
        self._changes = 0  # bumped at every change: the watcher looks again

    @property
    def paging_paused(self) -> bool:
        """A maintenance pause is in force: nobody is paged (acknowledge and resolve work)."""
        return bool(self._record.pauses) and maintenance_in_force(self._record.pauses, workflow.now())

    def resume(self) -> None:
        """A continued run: watch the pauses it was handed."""
        if self._record.pauses:
            self._watch()

    # -- maintenance windows (a signal from the maintenance service) ----------------

    def notice(self, notice: MaintenanceNotice) -> None:
        """A window is in force (pause, when its scope covers the incident) or was ended
        early (lift its pause, if any)."""
        if self._resolved():
            return
        if notice.lifted:
            self.lift(notice.key, "the maintenance window was ended early")
            return
        incident = self._record.incident
        covered = scope_covers(notice.services, notice.labels, incident.service, incident.labels)
        if notice.until <= workflow.now() or not covered:
            return
        self.add(notice.pause())

    # -- waiting on someone (an update from a responder) -----------------------------

    def check_wait(self, request: ClockPause) -> None:
        """A pause of the clocks needs targets and an open incident; its end needs a pause."""
        self._record.check_open()
        waiting = any(p.key == WAITING for p in self._record.pauses)
        if request.resume:
            if not waiting:
                raise ActionRejected("the SLA clocks are not paused by a wait")
            return
        if self._record.sla is None:
            raise ActionRejected("this incident has no SLA targets to pause")
        now = workflow.now()
        if request.until is not None and not now < request.until <= now + MAX_WAIT:
            raise ActionRejected("a pause ends in the future, at most 7 days from now")

    def wait(self, request: ClockPause) -> None:
        if request.resume:
            self.lift(WAITING, f"{request.responder}: {request.note}" if request.note else request.responder)
            return
        pause = Pause(
            key=WAITING,
            kind=PauseKind.WAITING,
            reason=request.reason or "waiting",
            by=request.responder,
            since=workflow.now(),
            until=request.until,
        )
        self.add(pause)

    # -- the pauses themselves --------------------------------------------------------

    def add(self, pause: Pause) -> None:
        """Add ``pause`` (replacing one with its key); its start goes on the timeline at once
        when it is in force now, else at its time."""
        pauses = [p for p in self._record.pauses if p.key != pause.key]
        if len(pauses) < len(self._record.pauses):  # told again (the same window): said once
            pause.begun = any(p.begun for p in self._record.pauses if p.key == pause.key)
        self._record.pauses = [*pauses, pause]
        self._settle()
        self._watch()

    def lift(self, key: str, why: str = "") -> None:
        found = [p for p in self._record.pauses if p.key == key]
        if not found:
            return
        self._record.pauses = [p for p in self._record.pauses if p.key != key]
        if found[0].begun:
            detail = describe(found[0], on=False) + (f": {why}" if why else "")
            self._record.add(workflow.now(), EventKind.UNPAUSED, found[0].by or Actor.RUNBOOK, detail)
        self._settle()

    def _settle(self) -> None:
        """Write the pauses that began, drop the ones that ended, and stand the SLA clocks
        still (or run them again) to match."""
        now = workflow.now()
        for pause in list(self._record.pauses):
            if pause.until is not None and pause.until <= now:
                self.lift(pause.key, "its time is over")
                return  # lift settles again
            if not pause.begun and pause.since <= now:
                pause.begun = True
                self._record.add(now, EventKind.PAUSED, pause.by or Actor.RUNBOOK, describe(pause, on=True))
        sla = self._record.sla
        if sla is not None:
            if clocks_paused(self._record.pauses, now):
                targets.pause(sla, now)
            else:
                targets.unpause(sla, now)
        self._changes += 1
        self._on_change()

    def _watch(self) -> None:
        if self._watcher is None or self._watcher.done():
            self._watcher = asyncio.ensure_future(self._watching())

    async def _watching(self) -> None:
        """Wake at each pause's start and end while any pause is left."""
        while self._record.pauses and not self._resolved():
            seen, due = self._changes, next_change(self._record.pauses, workflow.now())
            with contextlib.suppress(TimeoutError):
                await workflow.wait_condition(
                    lambda seen=seen: self._changes != seen or self._resolved(),  # type: ignore[misc]
                    timeout=None if due is None else max(due - workflow.now(), timedelta(milliseconds=1)),
                    timeout_summary="the next start or end of a pause",
                )
            if self._changes == seen and not self._resolved():
                self._settle()

    def _resolved(self) -> bool:
        return self._record.state is State.RESOLVED
