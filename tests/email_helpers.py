"""Helpers of the SendGrid tests (``test_sendgrid_*.py``): fixtures that start the local
SendGrid double (``sendgrid_double.py``) and a Notifier pointed at it, a page to send,
settings for a worker that sends through the double, and a demo incident on that worker.

``conftest.py`` loads this module as a plugin (``pytest_plugins``), so the fixtures
``sendgrid`` and ``notifier`` are there for every test; the rest is imported.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator

import pytest
from temporalio.client import Client, WorkflowHandle

from activities.ledger import Ledger
from activities.notify import Notifier, sendgrid_client
from runbooks import REGISTRY
from security.links import LinkSigner
from sendgrid_double import SendGridDouble
from services.opening import prepare, start
from services.settings import Settings
from worker import build_worker
from workflows.activity_models import Notification
from workflows.models import IncidentRequest

ALICE = "alice@example.com"


@pytest.fixture
def sendgrid():
    """``sendgrid(429, 202, delay=1)`` starts a double with that script; stopped after the test."""
    with contextlib.ExitStack() as stack:
        yield lambda *script, delay=0.0: stack.enter_context(SendGridDouble(list(script), delay=delay))


@pytest.fixture
def notifier(tmp_path):
    """``notifier(double, timeout=, threads=, ledger=)``: a Notifier sending to the double, its
    outbox (and, without a ledger, its ``.sent`` records) under ``tmp_path / "outbox"``;
    closed after the test."""
    made: list[Notifier] = []

    def make(
        double: SendGridDouble, timeout: float = 1.0, threads: int = 32, ledger: Ledger | None = None
    ) -> Notifier:
        made.append(
            Notifier(
                outbox=tmp_path / "outbox",
                public_url="http://127.0.0.1:8000",
                mail_from="Escalations <escalations@example.com>",
                signer=LinkSigner(["test-secret"], 3600),
                sendgrid=sendgrid_client("SG.test", double.url, timeout=timeout),
                threads=threads,
                ledger=ledger,
            )
        )
        return made[-1]

    yield make
    for each in made:
        each.close()


def page(note_id: str = "inc1234567-0002-bob") -> Notification:
    """Bob's tier-2 page for a demo incident, with acknowledge/resolve/escalate links."""
    return Notification.model_validate(
        {
            "id": note_id,
            "kind": "page",
            "tier": {"number": 2, "name": "team-lead"},
            "recipient": {"id": "bob", "name": "Bob Chen", "email": "bob@example.com"},
            "previously_paged": ["Alice Martin"],
            "incident": {
                "id": "inc1234567",
                "title": "Checkout is failing",
                "severity": "SEV2",
                "service": "checkout",
                "runbook": "demo",
                "state": "triggered",
                "created_at": "2025-01-01T12:00:00Z",
            },
        }
    )


async def until(check, timeout: float = 15.0):
    """Poll ``check()`` (sync or async) in real time until it is truthy or ``timeout`` passes
    (HTTP retries take real seconds); its last result."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        result = await result if asyncio.iscoroutine(result) else result
        if result or time.monotonic() > deadline:
            return result
        await asyncio.sleep(0.05)


def sendgrid_settings(tmp_path, double: SendGridDouble, **extra) -> Settings:
    """Settings for a worker that sends email through the double with a 1 s client timeout."""
    return Settings(
        data_dir=tmp_path,
        task_queue=f"sendgrid-{uuid.uuid4()}",
        sendgrid_api_key="SG.test",
        sendgrid_host=double.url,
        sendgrid_timeout=1,
        **extra,
    )


@contextlib.asynccontextmanager
async def demo_incident(client: Client, directory, settings: Settings) -> AsyncIterator[WorkflowHandle]:
    """A ``demo`` incident (Alice, then Bob after 10 s) on a worker with ``settings``;
    terminated after."""
    request = IncidentRequest(
        title="Checkout is failing", severity="SEV2", service="checkout", runbook="demo"
    )
    async with build_worker(client, settings):
        handle = await start(client, prepare(request, REGISTRY, directory), settings.task_queue)
        try:
            yield handle
        finally:
            await handle.terminate("test finished")
