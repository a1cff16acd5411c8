"""What the record says: the metrics of a period, served to the API and the metrics page."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from services import prometheus
from services.database import Database
from store import reports, trends
from store.reports import Metrics
from store.trends import Day

DEFAULT_PERIOD = timedelta(days=30)
T = TypeVar("T")
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
        return await self._read(reports.metrics, since, until, service, severity)

    async def _read(self, query: Callable[..., T], *args: object) -> T:
        """Run one store query in a thread; a database that fails is ``Unavailable``."""
        return await self._database.run(query, *args)

    async def daily(
        self, since: datetime, until: datetime, service: str | None = None, severity: str | None = None
    ) -> list[Day]:
        """One point per UTC day of the period (the metrics page's charts).

        Raises:
            Unavailable: the database cannot be reached.
        """
        return await self._read(trends.daily, since, until, service, severity)

    async def prometheus(self) -> bytes:
        """The record in Prometheus' text format.

        Raises:
            Unavailable: the database cannot be reached.
        """
        return await self._read(prometheus.exposition)
