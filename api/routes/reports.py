"""``/api/metrics``: what the incident record says about a period."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST

from api.deps import ApiKey
from api.errors import INCIDENT_ERRORS, Responses
from services.reports import InvalidPeriod, ReportService, period
from store.reports import Metrics
from workflows.models import SERVICE_PATTERN, Severity

router = APIRouter(tags=["metrics"])
ERRORS: Responses = {code: INCIDENT_ERRORS[code] for code in (401, 403, 422, 429)}
ERRORS[503] = {"description": "The database cannot be reached", **INCIDENT_ERRORS[503]}


def get_reports(request: Request) -> ReportService:
    service: ReportService = request.app.state.reports
    return service


@router.get("/api/metrics", response_model=Metrics, responses=ERRORS)
async def read_metrics(
    request: Request,
    _: ApiKey,
    since: datetime | None = None,
    until: datetime | None = None,
    service: Annotated[str | None, Query(pattern=SERVICE_PATTERN)] = None,
    severity: Severity | None = None,
) -> Metrics:
    """Metrics of the incidents triggered in `[since, until)` (ISO 8601; without a zone,
    UTC; by default the last 30 days, at most 366): how many, time to acknowledge and to
    resolve (p50, p90 in seconds), how often and how far they escalated, which tier
    acknowledges, pages per person by business, off and sleep hours in their own time
    zone, resolved by an integration or by a person, and the responders' satisfaction."""
    try:
        start, end = period(since, until)
    except InvalidPeriod as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None
    return await get_reports(request).metrics(start, end, service, severity.value if severity else None)


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Prometheus text"}, **ERRORS},
)
async def prometheus_metrics(request: Request, _: ApiKey) -> Response:
    """The record as Prometheus counters (incidents, pages, acknowledgements, escalations by
    severity), histograms (time to acknowledge and to resolve) and a gauge (open incidents
    by state), read from the database at each scrape. Scrape it with a bearer API key."""
    return Response(await get_reports(request).prometheus(), media_type=CONTENT_TYPE_LATEST)
