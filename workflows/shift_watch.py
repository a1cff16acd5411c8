"""The shift watch: one long-running workflow per schedule (``schedule-<id>``) that tells
people when their on-call shift is about to start and when it starts.

It asks the ``next_shift`` activity who comes on call next and when (at the workflow's
time), sleeps until the reminder (``remind_before`` ahead) and until the hand-off, and
emails the incoming people each time. An edit of the schedule (a new revision, an override
added or removed) signals ``schedule_changed``: the watch recomputes at once, so a moved
shift is announced at its new time. It continues as new after a number of shifts, so its
history stays short however long the schedule lives, and ends when the schedule is deleted.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from pydantic import Field
from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from workflows import contract
    from workflows.activity_models import NextShift, NextShiftQuestion, Notification, ShiftRef
    from workflows.models import Model, NotificationKind, Slug

QUIET = timedelta(days=7)  # a schedule with nobody coming on call: look again after this
ROUNDS = 50  # shifts announced per run before continuing as new


class ShiftWatchInput(Model):
    schedule: Slug
    remind_before: timedelta = Field(default=timedelta(hours=1), ge=timedelta(0), le=timedelta(days=7))
    rounds: int = Field(default=ROUNDS, ge=1, le=1000)


@workflow.defn(name=contract.SHIFT_WATCH_WORKFLOW)
class ShiftWatchWorkflow:
    def __init__(self) -> None:
        self._changed = False

    @workflow.signal(name=contract.SCHEDULE_CHANGED)
    def schedule_changed(self) -> None:
        """The schedule was edited: recompute the next shift now."""
        self._changed = True

    @workflow.run
    async def run(self, input: ShiftWatchInput) -> None:
        for _ in range(input.rounds):
            self._changed = False
            upcoming = await workflow.execute_activity(
                contract.NEXT_SHIFT,
                NextShiftQuestion(schedule=input.schedule, after=workflow.now()),
                result_type=NextShift,
                start_to_close_timeout=timedelta(seconds=30),
                summary=f"who comes on call next on {input.schedule}",
            )
            if upcoming.gone or upcoming.off:
                return  # the schedule was deleted, or shift notices were turned off
            if upcoming.starts_at is None:
                await self._until(workflow.now() + QUIET, "nobody comes on call soon: look again")
                continue
            ahead = input.remind_before if upcoming.remind_before is None else upcoming.remind_before
            remind_at = upcoming.starts_at - ahead
            if ahead and remind_at > workflow.now():
                if await self._until(remind_at, "until the reminder"):
                    continue
                await self._tell(upcoming, NotificationKind.SHIFT_REMINDER)
            if await self._until(upcoming.starts_at, "until the hand-off"):
                continue
            await self._tell(upcoming, NotificationKind.SHIFT_STARTED)
        workflow.continue_as_new(input)

    async def _until(self, at: datetime, summary: str) -> bool:
        """Sleep until ``at``; True when the schedule changed first."""
        try:
            await workflow.wait_condition(
                lambda: self._changed,
                timeout=max(at - workflow.now(), timedelta(seconds=1)),
                timeout_summary=summary,
            )
        except TimeoutError:
            return False
        return True

    async def _tell(self, upcoming: NextShift, kind: NotificationKind) -> None:
        assert upcoming.starts_at is not None
        shift = ShiftRef(
            schedule=upcoming.schedule,
            schedule_name=upcoming.schedule_name,
            starts_at=upcoming.starts_at,
            ends_at=upcoming.ends_at,
        )
        stamp = upcoming.starts_at.strftime("%Y%m%dT%H%M%S")
        notes = [
            Notification(
                id=f"schedule-{upcoming.schedule}-{stamp}-{kind.value}-{person.id}",
                kind=kind,
                recipient=person,
                shift=shift,
            )
            for person in upcoming.people
        ]
        results = await asyncio.gather(
            *(
                workflow.execute_activity(
                    contract.SEND_EMAIL,
                    note,
                    start_to_close_timeout=timedelta(seconds=60),
                    schedule_to_close_timeout=timedelta(minutes=30),
                    summary=f"email {note.recipient.name}: {kind.value.replace('_', ' ')}",
                )
                for note in notes
            ),
            return_exceptions=True,
        )
        for note, result in zip(notes, results, strict=True):
            if isinstance(result, ActivityError):
                workflow.logger.warning(
                    "shift email to %s not delivered: %s", note.recipient.id, result.cause
                )
