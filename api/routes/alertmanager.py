"""Prometheus Alertmanager / Grafana webhook intake: one incident per alert fingerprint."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from fastapi import APIRouter, HTTPException, status
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from api import alerts
from api.alerts import Alert, AlertmanagerResult, AlertmanagerWebhook, AlertOutcome
from api.deps import ApiKey, ClientDep, DirectoryDep, SettingsDep
from api.errors import ERROR_MODEL, INCIDENT_ERRORS
from runbooks import REGISTRY
from runbooks.directory import Directory
from services.incidents import open_or_repeat, prepare
from services.settings import Settings
from workflows.incident import IncidentWorkflow
from workflows.models import ResponderAction
from workflows.record import AlreadyResolved

log = logging.getLogger("escalate.api")
router = APIRouter(prefix="/api/integrations", tags=["integrations"])

RPC_TIMEOUT = timedelta(seconds=10)
CONCURRENCY = 16  # alerts of one request in flight at once
# Longest wait for one alert's workflow to confirm it (e.g. no worker is polling). Giving
# up is safe: the update stays with the workflow, and the re-sent alert is applied once.
ALERT_DEADLINE = 30.0
RESOLVED = ResponderAction(responder=alerts.SOURCE, note="resolved in Alertmanager")
_UNREACHABLE = {RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.CANCELLED}

RESPONSES = {
    400: INCIDENT_ERRORS[400],
    401: INCIDENT_ERRORS[401],
    403: INCIDENT_ERRORS[403],
    413: {"description": "Body over MAX_BODY_BYTES: raise it, or group alerts more finely", **ERROR_MODEL},
    422: {
        "description": "Malformed payload or a version other than 4 (Alertmanager) or 1 "
        "(Grafana). Alertmanager drops it without retrying",
        **ERROR_MODEL,
    },
    503: {
        "description": "Temporal cannot be reached, or some alert was not accepted: "
        "Alertmanager re-sends the group, which is safe",
        **ERROR_MODEL,
    },
}


@router.post("/alertmanager", response_model=AlertmanagerResult, responses=RESPONSES)
async def alertmanager_webhook(
    payload: AlertmanagerWebhook, _: ApiKey, client: ClientDep, settings: SettingsDep, directory: DirectoryDep
) -> AlertmanagerResult:
    """Receive an Alertmanager (or Grafana) webhook: one incident per alert.

    Each alert maps, by its fingerprint, to one incident (dedup key
    `alertmanager:<fingerprint>`). A **firing** alert opens it, or counts a repeat on
    the open one; a **resolved** alert resolves it as `alertmanager`. Title, service,
    severity and labels come from the alert (`summary`, `service`/`job`/`alertname`,
    the `ALERT_SEVERITY_LABEL` through `ALERT_SEVERITY_MAP`).

    Re-sending a group is harmless: the same alert (fingerprint and `startsAt`) is
    applied once. The answer is 200 only once every alert has been durably accepted
    by its incident workflow; if any was not, the answer is 503 so that Alertmanager,
    which retries only 5xx, sends the group again.
    """
    if payload.truncatedAlerts:
        log.warning(
            "Alertmanager left %d alerts out of group %r (max_alerts): they open no incident",
            payload.truncatedAlerts,
            payload.groupKey,
        )
    limit = asyncio.Semaphore(CONCURRENCY)

    async def accept(alert: Alert) -> AlertOutcome:
        async with limit, asyncio.timeout(ALERT_DEADLINE):
            return await _accept(client, settings, directory, alert)

    results = await asyncio.gather(*(accept(a) for a in payload.alerts), return_exceptions=True)
    failures = [r for r in results if isinstance(r, BaseException)]
    if failures:
        raise _not_accepted(failures, len(results))
    return AlertmanagerResult(incidents=results)


async def _accept(client: Client, settings: Settings, directory: Directory, alert: Alert) -> AlertOutcome:
    fp = alerts.fingerprint(alert)
    if alert.status == "resolved":
        incident_id, outcome = await _resolve(client, fp, alert)
        return AlertOutcome(fingerprint=fp, id=incident_id, status=outcome)
    data = prepare(alerts.incident_request(alert, fp, settings), REGISTRY, directory)
    view, created = await open_or_repeat(
        client,
        data,
        settings.task_queue,
        source=alerts.SOURCE,
        key=alerts.update_id("trigger", fp, alert),
    )
    return AlertOutcome(fingerprint=fp, id=view.id, status="opened" if created else "updated")


async def _resolve(client: Client, fp: str, alert: Alert) -> tuple[str, str]:
    """Resolve the alert's incident; one that is not open (any more) is fine too.
    Returns the incident's id (its opening's) and the outcome."""
    handle = client.get_workflow_handle(alerts.workflow_id(fp))
    not_open = alerts.incident_id(fp), "not-open"
    try:
        view = await handle.execute_update(
            IncidentWorkflow.resolve,
            RESOLVED,
            rpc_timeout=RPC_TIMEOUT,
            id=alerts.update_id("resolve", fp, alert),
        )
    except RPCError as err:
        if err.status != RPCStatusCode.NOT_FOUND:  # no such incident, or its run has ended
            raise
        return not_open
    except WorkflowUpdateFailedError as err:
        if not _already_resolved(err):
            raise
        return not_open
    return view.id, "resolved"


def _already_resolved(err: WorkflowUpdateFailedError) -> bool:
    cause = err.cause
    return isinstance(cause, ApplicationError) and AlreadyResolved.code in cause.details


def _reason(exc: BaseException) -> str:
    if isinstance(exc, RPCError) and exc.status in _UNREACHABLE:
        return "Temporal cannot be reached; try again shortly"
    if isinstance(exc, TimeoutError):
        return "Temporal did not confirm in time; try again shortly"
    return "an alert could not be applied (see the API log)"


def _not_accepted(failures: list[BaseException], total: int) -> HTTPException:
    first = failures[0]
    log.warning(
        "%d of %d alerts not accepted; first: %s: %s", len(failures), total, type(first).__name__, first
    )
    return HTTPException(
        status.HTTP_503_SERVICE_UNAVAILABLE,
        f"{_reason(first)}: {len(failures)} of {total} alerts not accepted; re-sending the group is safe",
        headers={"Retry-After": "5"},
    )
