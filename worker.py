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

from temporalio.client import Client
from temporalio.worker import Worker

from activities.document import Documenter
from activities.notify import Notifier, sendgrid_client
from escalate.links import LinkSigner
from escalate.settings import Settings, get_settings
from escalate.temporal import connect
from escalate.validate import validated_directory
from workflows.incident import IncidentWorkflow

log = logging.getLogger("escalate.worker")


def build_activities(settings: Settings) -> list:
    """The activity callables, bound to their clients and settings."""
    key = settings.sendgrid_api_key
    notifier = Notifier(
        outbox=settings.outbox,
        public_url=settings.public_url,
        mail_from=settings.mail_from,
        signer=LinkSigner(settings.link_secrets, settings.link_max_age),
        sendgrid=sendgrid_client(key.get_secret_value(), settings.sendgrid_host, settings.sendgrid_timeout)
        if key
        else None,
    )
    documenter = Documenter(settings.reports)
    return [notifier.send_email, documenter.document_incident]


def build_worker(client: Client, settings: Settings, **options) -> Worker:
    return Worker(
        client,
        task_queue=settings.task_queue,
        workflows=[IncidentWorkflow],
        activities=build_activities(settings),
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
        await stop.wait()
    log.info("worker stopped")


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    asyncio.run(run_worker())
