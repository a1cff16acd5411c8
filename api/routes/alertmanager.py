"""Prometheus Alertmanager / Grafana webhook intake: one incident per alert fingerprint."""

from __future__ import annotations

import asyncio
import logging

from fastapi import APIRouter, HTTPException, status

from api import alerts
from api.alerts import Alert, AlertmanagerResult, AlertmanagerWebhook, AlertOutcome
from api.deps import ApiKey, IncidentsDep
from api.errors import ERROR_MODEL, INCIDENT_ERRORS, Responses
from services.incidents import IncidentService
from workflows.errors import Unavailable
from workflows.models import ResponderAction

log = logging.getLogger("escalate.api")
router = APIRouter(prefix="/api/integrations", tags=["integrations"])

CONCURRENCY = 16  # alerts of one request in flight at once
# Longest wait for one alert's workflow to confirm it (e.g. no worker is polling). Giving
# up is safe: the update stays with the workflow, and the re-sent alert is applied once.
ALERT_DEADLINE = 30.0
RESOLVED = ResponderAction(responder=alerts.SOURCE, note="resolved in Alertmanager")

RESPONSES: Responses = {
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
    payload: AlertmanagerWebhook, _: ApiKey, incidents: IncidentsDep
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
            return await _accept(incidents, alert)

    results = await asyncio.gather(*(accept(a) for a in payload.alerts), return_exceptions=True)
    failures = [r for r in results if isinstance(r, BaseException)]
    if failures:
        raise _not_accepted(failures, len(results))
    return AlertmanagerResult(incidents=results)


async def _accept(incidents: IncidentService, alert: Alert) -> AlertOutcome:
    fp = alerts.fingerprint(alert)
    if alert.status == "resolved":
        update_id = alerts.update_id("resolve", fp, alert)
        view = await incidents.resolve_alert(alerts.incident_id(fp), RESOLVED, update_id)
        if view is None:  # no such incident, or it is resolved already
            return AlertOutcome(fingerprint=fp, id=alerts.incident_id(fp), status="not-open")
        return AlertOutcome(fingerprint=fp, id=view.id, status="resolved")
    request = alerts.incident_request(alert, fp, incidents.settings)
    view, created = await incidents.open_alert(
        request, alerts.SOURCE, key=alerts.update_id("trigger", fp, alert)
    )
    return AlertOutcome(fingerprint=fp, id=view.id, status="opened" if created else "updated")


def _reason(exc: BaseException) -> str:
    if isinstance(exc, Unavailable):
        return str(exc)
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
