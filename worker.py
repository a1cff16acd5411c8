"""The worker: registers the incident workflow and its activities on the task queue.

Run it with ``escalate worker`` (or ``python worker.py``). It validates the
runbooks and the directory before it polls, so a broken reference stops a
deploy instead of an escalation.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from datetime import timedelta

from sqlalchemy.engine import Engine
from temporalio.client import Client
from temporalio.worker import Worker

from activities.document import Documenter
from activities.feedback import FeedbackRequests
from activities.ledger import DatabaseLedger, FileLedger
from activities.notify import Notifier, sendgrid_client
from activities.oncall import OnCallResolver
from activities.record import IncidentRecorder
from runbooks.directory import load_directory
from runbooks.schedule_seed import load_schedules
from security.links import LinkSigner
from services.database import open_database
from services.settings import Settings, get_settings
from services.shift_watch import known_schedules, watch
from services.temporal import connect
from services.validate import validated_directory
from workflows.feedback import FeedbackWorkflow
from workflows.incident import IncidentWorkflow
from workflows.scenario_registry import workflow_runner
from workflows.shift_watch import ShiftWatchWorkflow

log = logging.getLogger("escalate.worker")
ACTIVITY_SLOTS = 100  # the SDK's default number of activities one worker runs at once


def build_notifier(settings: Settings, database: Engine | None = None) -> Notifier:
    """The email activity's holder: SendGrid (and its thread pool) when a key is set, its
    calls recorded in the database's notification ledger when one is given."""
    key = settings.sendgrid_api_key
    local = FileLedger(settings.outbox / ".sent")
    return Notifier(
        outbox=settings.outbox,
        public_url=settings.public_url,
        mail_from=settings.mail_from,
        signer=LinkSigner(settings.link_secrets, settings.link_max_age),
        sendgrid=sendgrid_client(key.get_secret_value(), settings.sendgrid_host, settings.sendgrid_timeout)
        if key
        else None,
        threads=settings.sendgrid_threads,
        ledger=DatabaseLedger(database, local) if database is not None else local,
    )


def build_activities(
    settings: Settings, notifier: Notifier | None = None, database: Engine | None = None
) -> list:
    """The activity callables, bound to their clients, settings and database."""
    database = database or open_database(settings)
    notifier = notifier or build_notifier(settings, database)
    recorder = IncidentRecorder(database)
    documenter = Documenter(settings.reports, recorder)
    feedback = FeedbackRequests(database)
    resolver = OnCallResolver(
        database,
        load_schedules(settings.schedules_file),
        lambda: list(load_directory(settings.directory_file).people),
        settings.shift_notices,
    )
    return [
        notifier.send_email,
        documenter.document_incident,
        feedback.request_feedback,
        feedback.feedback_pending,
        resolver.resolve_oncall,
        resolver.next_shift,
    ]


class EscalationWorker(Worker):
    """A Worker that stops the notifier's SendGrid thread pool once it has stopped."""

    def __init__(self, *args, notifier: Notifier, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.notifier = notifier

    async def run(self) -> None:
        try:
            await super().run()
        finally:
            self.notifier.close()


def build_worker(client: Client, settings: Settings, **options) -> EscalationWorker:
    database = open_database(settings)
    notifier = build_notifier(settings, database)
    # Every SendGrid thread can hold an email activity, with room left for the others.
    slots = max(options.pop("max_concurrent_activities", ACTIVITY_SLOTS), settings.sendgrid_threads + 8)
    return EscalationWorker(
        client,
        task_queue=settings.task_queue,
        workflows=[IncidentWorkflow, FeedbackWorkflow, ShiftWatchWorkflow],
        activities=build_activities(settings, notifier, database),
        max_concurrent_activities=slots,
        workflow_runner=options.pop("workflow_runner", workflow_runner()),
        notifier=notifier,
        **options,
    )


async def run_worker(settings: Settings | None = None) -> None:
    settings = settings or get_settings()
    validated_directory(settings)
    client = await connect(settings)
    mode = "SendGrid" if settings.sendgrid_api_key else f"outbox {settings.outbox}"
    log.info("worker polling %s on %s (email: %s)", settings.task_queue, settings.temporal_address, mode)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    # Leaving the block shuts the worker down gracefully: running activities get
    # to finish, and anything left is retried by another worker.
    async with build_worker(client, settings, graceful_shutdown_timeout=timedelta(seconds=5)):
        if settings.shift_notices is not None:  # every known schedule's shift notices
            known = await asyncio.to_thread(known_schedules, settings)
            await watch(client, settings.task_queue, [s.id for s in known], settings.shift_notices)
        await stop.wait()
    log.info("worker stopped")


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    asyncio.run(run_worker())
