"""What the record says: the metrics of a period, served to the API and the metrics page."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy.exc import SQLAlchemyError

from services import prometheus
from services.database import Database
from store import reports
from store.reports import Metrics
from workflows.errors import Unavailable

DEFAULT_PERIOD = timedelta(days=30)
LONGEST_PERIOD = timedelta(days=366)


class InvalidPeriod(ValueError):
    """A period that ends before it starts, or is longer than a year."""


def period(
    since: datetime | None, until: datetime | None, now: datetime | None = None
) -> tuple[datetime, datetime]:
    """The period asked for: naive times are UTC; by default the last 30 days.

    Raises:
        InvalidPeriod: with the reason.
    """
    until = _aware(until) if until else (now or datetime.now(UTC))
    since = _aware(since) if since else until - DEFAULT_PERIOD
    if since >= until:
        raise InvalidPeriod("since must be before until")
    if until - since > LONGEST_PERIOD:
        raise InvalidPeriod("a period is at most 366 days")
    return since, until


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)


class ReportService:
    def __init__(self, database: Database) -> None:
        self._database = database

    async def metrics(
        self, since: datetime, until: datetime, service: str | None = None, severity: str | None = None
    ) -> Metrics:
        """The period's metrics.

        Raises:
            Unavailable: the database cannot be reached.
        """
        engine = self._database.engine()
        try:
            return await asyncio.to_thread(reports.metrics, engine, since, until, service, severity)
        except SQLAlchemyError:
            raise Unavailable("the database cannot be reached; try again shortly") from None

    async def prometheus(self) -> bytes:
        """The record in Prometheus' text format.

        Raises:
            Unavailable: the database cannot be reached.
        """
        return await asyncio.to_thread(prometheus.exposition, self._database.engine())
