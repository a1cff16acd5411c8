"""``/reports``: the metrics page, drawn from the numbers ``GET /api/metrics`` answers."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from fastapi import APIRouter, Request, status
from fastapi.responses import HTMLResponse

from api import charts
from api.pages import filter_problems, render
from api.web_session import SessionDep, nav
from services.reports import InvalidPeriod, ReportService, period
from workflows.models import Severity

router = APIRouter(include_in_schema=False)
MINUTES = 60.0


def _day(value: str, field: str, errors: list[str]) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        errors.append(f"{field}: a day as YYYY-MM-DD.")
        return None


@router.get("/reports", response_class=HTMLResponse)
async def metrics_page(
    request: Request,
    session: SessionDep,
    since: str = "",
    until: str = "",
    severity: str = "",
    service: str = "",
) -> HTMLResponse:
    """MTTA/MTTR per day, how far incidents escalate, which tier acknowledges, pages per
    person by business, off and sleep hours, and satisfaction, for a period of UTC days."""
    errors: list[str] = []
    first, last = _day(since, "From", errors), _day(until, "To", errors)
    errors += filter_problems(severity, service)
    start = datetime.combine(first, time(), UTC) if first else None
    end = datetime.combine(last + timedelta(days=1), time(), UTC) if last else None
    if not errors:
        try:
            start, end = period(start, end)
        except InvalidPeriod as exc:
            errors.append(str(exc).capitalize() + ".")
    filters = {"since": since, "until": until, "severity": severity, "service": service}
    context: dict = {"metrics": None}
    if not errors and start and end:
        reports: ReportService = request.app.state.reports
        found = await reports.metrics(start, end, service or None, severity or None)
        days = await reports.daily(start, end, service or None, severity or None)
        context = _charts(found, days)
    return render(
        "reports.html",
        status.HTTP_422_UNPROCESSABLE_CONTENT if errors else 200,
        nav=nav(request, session),
        errors=errors,
        filters=filters,
        severities=list(Severity),
        **context,
    )


def _minutes(value: float | None) -> float | None:
    return None if value is None else round(value / MINUTES, 1)


def _charts(found, days) -> dict:
    labels = [d.day.isoformat() for d in days]

    def per_day(field: str) -> dict[str, list[float | None]]:
        return {
            "p50": [_minutes(getattr(d, field).p50) for d in days],
            "p90": [_minutes(getattr(d, field).p90) for d in days],
        }

    tiers = [(f"tier {tier}", {"incidents": float(n)}) for tier, n in found.max_tier_histogram.items()]
    acks = [
        (f"tier {tier}", {"acknowledged": round(rate * 100, 1)}) for tier, rate in found.tier_ack_rate.items()
    ]
    kinds = ("business", "off", "sleep")
    pages = [
        (person, {k: float(getattr(hours, k)) for k in kinds})
        for person, hours in found.pages_per_person.items()
    ]
    return {
        "metrics": found,
        "mtta_chart": charts.lines("Time to acknowledge per day", labels, per_day("mtta_seconds"), "min"),
        "mttr_chart": charts.lines("Time to resolve per day", labels, per_day("mttr_seconds"), "min"),
        "tiers_chart": charts.bars("Highest tier reached", tiers, ["incidents"]),
        "ack_chart": charts.bars("Acknowledged at each tier, of those paged", acks, ["acknowledged"], " %"),
        "pages_chart": charts.bars("Pages per person", pages, kinds),
    }
