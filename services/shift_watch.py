"""Starting and telling the shift watches (``workflows/shift_watch.py``): one per schedule.

``watch`` signal-with-starts ``schedule-<id>`` with ``schedule_changed``: it starts the
watch if it is not running and otherwise makes it recompute the next shift. The API calls
it after every edit of a schedule or its overrides; the worker calls it at start-up for
every schedule it knows (so the seed schedules are watched too).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from datetime import timedelta

from sqlalchemy.exc import SQLAlchemyError
from temporalio.client import Client
from temporalio.service import RPCError

from runbooks.schedule_seed import load_schedules
from schedules.models import Schedule
from services.database import open_database
from services.incidents import IncidentService
from services.settings import Settings
from store.schedules import has_schedules, list_schedules
from workflows import contract
from workflows.errors import DomainError
from workflows.shift_watch import ShiftWatchInput

log = logging.getLogger("escalate.shifts")


async def watch(
    client: Client, task_queue: str, schedule_ids: Iterable[str], remind_before: timedelta
) -> int:
    """Start or nudge the watch of each schedule; how many were told. A Temporal failure is
    logged, not raised: an edit must not fail because a notice may come late."""
    told = 0
    for schedule_id in schedule_ids:
        try:
            watched = ShiftWatchInput(schedule=schedule_id, remind_before=remind_before)
        except ValueError:  # not a schedule id at all (nothing was written for it)
            continue
        try:
            await client.start_workflow(
                contract.SHIFT_WATCH_WORKFLOW,
                watched,
                id=contract.shift_watch_id(schedule_id),
                task_queue=task_queue,
                start_signal=contract.SCHEDULE_CHANGED,
                static_summary=f"shift notices of schedule {schedule_id}",
            )
            told += 1
        except RPCError as err:
            log.warning("shift watch of %s not told: %s", schedule_id, err)
    return told


def known_schedules(settings: Settings) -> list[Schedule]:
    """The schedules that answer now: the database's once it holds one, else the seed file's
    (the seed's too when the database cannot be read)."""
    seed = load_schedules(settings.schedules_file)
    try:
        engine = open_database(settings)
        return list_schedules(engine) if has_schedules(engine) else seed
    except SQLAlchemyError as err:
        log.warning("schedules read from the seed file: the database failed (%s)", type(err).__name__)
        return seed


async def tell_shift_watch(incidents: IncidentService, settings: Settings, schedule_id: str) -> None:
    """After an edit: the schedule's watch recomputes (or starts). Never fails the edit: a
    Temporal that cannot be reached within 2 s only delays the notice until the worker's
    next start."""
    if settings.shift_notices is None:
        return
    try:
        async with asyncio.timeout(2):
            client = await incidents.client()
            await watch(client, settings.task_queue, [schedule_id], settings.shift_notices)
    except (TimeoutError, DomainError) as err:
        log.warning("shift watch of %s not told: %s", schedule_id, err)
