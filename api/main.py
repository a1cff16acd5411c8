"""The FastAPI application: ``escalate api`` serves ``create_app()``."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool

from api import errors
from api.limits import BodyLimit, FailureThrottle, RefuseDuplicateKeys
from api.routes import (
    alertmanager,
    calendars,
    feedback,
    health,
    incidents,
    links,
    maintenance,
    people,
    reports,
    reviews,
    schedules,
    sla_policies,
    web,
)
from api.web_session import Revocations
from runbooks import REGISTRY
from services.database import Database
from services.feedback import FeedbackService
from services.holds import maintenance_hold
from services.incidents import IncidentService
from services.intake import RepeatLog
from services.maintenance import MaintenanceService
from services.maintenance_notices import incident_teller
from services.people import DirectoryService
from services.reports import ReportService
from services.reviews import ReviewService
from services.schedules import ScheduleService
from services.settings import Settings, get_settings
from services.shift_watch import tell_shift_watch
from services.sla_policies import SlaPolicyService
from services.temporal import TemporalConnection
from services.validate import validated_directory

_TOKEN_PATH = re.compile(r"(/(?:r|f|calendars)/)[^\s?\"]+")
_REDACTED = r"\1<redacted>"


class RedactLinkTokens(logging.Filter):
    """Access logs show ``/r/<redacted>``, ``/f/<redacted>`` and ``/calendars/<redacted>``:
    a link token (action, feedback, calendar feed) is a credential."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                _TOKEN_PATH.sub(_REDACTED, a) if isinstance(a, str) else a for a in record.args
            )
        record.msg = _TOKEN_PATH.sub(_REDACTED, str(record.msg))
        return True


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, RedactLinkTokens) for f in access.filters):
        access.addFilter(RedactLinkTokens())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.settings = settings
        temporal = TemporalConnection(settings)
        app.state.database = Database(settings)
        app.state.directory = DirectoryService(app.state.database, REGISTRY, validated_directory(settings))
        await run_in_threadpool(app.state.directory.load)  # warm, before the first request
        app.state.sla_policies = SlaPolicyService(app.state.database, settings.sla_file, REGISTRY)
        await run_in_threadpool(app.state.sla_policies.load)
        app.state.incidents = IncidentService(
            temporal, settings, app.state.directory, REGISTRY, policies=app.state.sla_policies
        )
        app.state.incidents.hold = maintenance_hold(app.state.database)  # maintenance windows
        intake = app.state.incidents.intake = RepeatLog(app.state.database)  # an alert storm's repeats
        intake.start(app.state.incidents.forward)
        app.state.reports = ReportService(app.state.database)
        app.state.reviews = ReviewService(app.state.database, app.state.directory.current)
        app.state.maintenance = MaintenanceService(
            app.state.database, tell=incident_teller(app.state.incidents.client)
        )
        app.state.feedback = FeedbackService(app.state.database, app.state.directory.current)
        app.state.schedules = ScheduleService(
            app.state.database,
            app.state.directory.current,
            settings.schedules_file,
            on_change=lambda schedule_id: tell_shift_watch(app.state.incidents, settings, schedule_id),
        )
        yield
        await intake.close()
        app.state.maintenance.close()
        app.state.database.dispose()

    app = FastAPI(
        title="Escalation Runbooks",
        version="1.0",
        description="Open incidents, follow them and act on them. Every incident is a "
        "durable Temporal workflow driven by a runbook.",
        lifespan=lifespan,
    )
    # Held by this process: wrong keys per client address, and signed-out web sessions.
    app.state.auth_failures = FailureThrottle(settings.auth_failure_limit, settings.auth_failure_window)
    app.state.revoked_sessions = Revocations()
    app.include_router(incidents.router)
    app.include_router(reports.router)
    app.include_router(people.router)
    app.include_router(schedules.router)
    app.include_router(calendars.router)
    app.include_router(maintenance.router)
    app.include_router(sla_policies.router)
    app.include_router(reviews.router)
    app.include_router(feedback.router)
    app.include_router(alertmanager.router, responses=errors.THROTTLED)
    app.include_router(links.router)
    app.include_router(web.router)
    app.include_router(health.router)
    errors.install(app)
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        return app.openapi_schema or schedules.document_local_times(generate())

    app.openapi = openapi  # type: ignore[method-assign]
    # The last added runs first: the size limit bounds what the duplicate-key check buffers.
    app.add_middleware(RefuseDuplicateKeys)
    app.add_middleware(
        BodyLimit, max_bytes=settings.max_body_bytes, integration_bytes=settings.max_alert_body_bytes
    )
    return app
