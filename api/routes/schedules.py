"""``/api/schedules``: on-call schedules, who is on call in them, and their overrides.

Until the database holds a schedule, the seed file (``SCHEDULES_FILE``) answers; the first
write loads it, then applies. Every change is a new revision: ``?at=`` answers with the
revision in effect then. The calendar feeds are in ``api.routes.calendars``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, HTTPException, Query, Request, Response, status
from pydantic import AwareDatetime, Field, model_validator

from api.deps import ApiKey
from api.errors import ACTION_ERRORS, INCIDENT_ERRORS, Responses, error_doc
from api.routes.people import TimeZone
from schedules.models import (
    MAX_LAYERS,
    Coverage,
    Instant,
    Layer,
    Model,
    Name,
    OnCall,
    Override,
    OverrideSpec,
    Schedule,
    ScheduleSpec,
    Slug,
)
from services.schedules import InvalidSchedule, ScheduleService

T = TypeVar("T")
At = Annotated[Instant | None, Query(description="An instant with its offset: 2026-01-05T09:00:00Z")]


class NewSchedule(ScheduleSpec):
    """A schedule to create: its id (a slug, for good) and its definition."""

    id: Slug


class ScheduleChanges(Model):
    """What a new revision changes (fields left out stay as they are), and when it takes
    effect (default now; never in the past)."""

    name: Name | None = None
    time_zone: TimeZone | None = None
    layers: list[Layer] | None = Field(default=None, min_length=1, max_length=MAX_LAYERS)
    effective_from: AwareDatetime | None = None


class PreviewRequest(ScheduleSpec):
    """An unsaved schedule and the question: who is on call ``at`` (default now), or the
    shifts over ``since``..``until`` (default 14 days from now, at most 92)."""

    at: AwareDatetime | None = None
    since: AwareDatetime | None = None
    until: AwareDatetime | None = None

    @model_validator(mode="after")
    def _one_question(self) -> PreviewRequest:
        if self.at is not None and (self.since is not None or self.until is not None):
            raise ValueError("ask either 'at' or 'since'/'until', not both")
        return self


router = APIRouter(tags=["on-call schedules"])
BAD_PERIOD = "Invalid fields: a time without its offset, a period over 92 days, until not after since"
READ_ERRORS: Responses = {code: INCIDENT_ERRORS[code] for code in (401, 403, 429, 503)}
READ_ERRORS[404] = error_doc("No such schedule")
ASK_ERRORS: Responses = {**READ_ERRORS, 422: error_doc(BAD_PERIOD)}
WRITE_ERRORS: Responses = {
    **READ_ERRORS,
    **{code: ACTION_ERRORS[code] for code in (400, 413)},
    422: error_doc(
        "Invalid fields (over 50 participants, 10 layers or 30 restrictions; an override over 90 days "
        "or ending before it starts; a time without offset), or people who are not in the directory"
    ),
}
CREATE_ERRORS: Responses = {**WRITE_ERRORS, 409: error_doc("A schedule with this id already exists")}
OVERRIDE_ERRORS: Responses = {**WRITE_ERRORS, 409: error_doc("The same override is already in force")}
DELETE_ERRORS: Responses = {**READ_ERRORS, 404: error_doc("No such schedule or override")}


# A rotation's anchor and a restriction's times are wall-clock times in the schedule's zone,
# without an offset; OpenAPI's "date-time" and "time" formats (RFC 3339) require one.
LOCAL_TIMES = {
    ("Rotation", "anchor"): r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?$",
    ("Restriction", "start"): r"^\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?$",
    ("Restriction", "end"): r"^\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?$",
}


def document_local_times(schema: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI document with the schedules' local times described as what they are: a
    pattern without an offset, in place of a format that requires one."""
    components = schema.get("components", {}).get("schemas", {})
    for (model, field), pattern in LOCAL_TIMES.items():
        found = components.get(model, {}).get("properties", {}).get(field)
        if found is not None and found.get("format") in ("date-time", "time"):
            found.pop("format")
            found.update(
                pattern=pattern, description="Local wall-clock time in the schedule's zone, no offset"
            )
    return schema


def schedules_of(request: Request) -> ScheduleService:
    service: ScheduleService = request.app.state.schedules
    return service


async def checked(work: Awaitable[T]) -> T:
    """``work``'s answer; a request the schedule rules refuse is a 422 with the reason."""
    try:
        return await work
    except InvalidSchedule as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None


def checked_now(work: Callable[[], T]) -> T:
    try:
        return work()
    except InvalidSchedule as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None


@router.get("/api/schedules", response_model=list[Schedule], responses=READ_ERRORS)
async def list_schedules(request: Request, _: ApiKey) -> list[Schedule]:
    """Every schedule as it stands now (its revision in effect and its overrides in force
    or to come), by id."""
    return await schedules_of(request).list_schedules()


@router.post(
    "/api/schedules", status_code=status.HTTP_201_CREATED, response_model=Schedule, responses=CREATE_ERRORS
)
async def create_schedule(body: NewSchedule, request: Request, caller: ApiKey) -> Schedule:
    """Create a schedule (revision 1, effective now). Every participant must be a person of
    the directory."""
    spec = ScheduleSpec.model_validate(body.model_dump(exclude={"id"}))
    return await schedules_of(request).create(body.id, spec, by=caller.name)


@router.post("/api/schedules/preview", response_model=OnCall | Coverage, responses=WRITE_ERRORS)
async def preview_schedule(body: PreviewRequest, request: Request, _: ApiKey) -> OnCall | Coverage:
    """Ask an unsaved schedule who would be on call ``at`` (an OnCall), or for its shifts
    over ``since``..``until`` (a Coverage). Nothing is stored."""
    service = schedules_of(request)
    spec = ScheduleSpec.model_validate(body.model_dump(exclude={"at", "since", "until"}))
    if body.since is not None or body.until is not None:
        return checked_now(lambda: service.preview_shifts(spec, body.since, body.until))
    return checked_now(lambda: service.preview_oncall(spec, body.at))


@router.get("/api/schedules/{schedule_id}", response_model=Schedule, responses=ASK_ERRORS)
async def read_schedule(schedule_id: str, request: Request, _: ApiKey, at: At = None) -> Schedule:
    """The schedule as it stood at ``at`` (default now): the revision in effect then and the
    overrides in force then."""
    return await schedules_of(request).get(schedule_id, at)


@router.patch("/api/schedules/{schedule_id}", response_model=Schedule, responses=WRITE_ERRORS)
async def update_schedule(
    schedule_id: str, body: ScheduleChanges, request: Request, caller: ApiKey
) -> Schedule:
    """A new revision (the earlier ones are kept: past answers do not change), effective
    now or from ``effective_from``."""
    changes = body.model_dump(exclude_none=True, exclude={"effective_from"})
    update = schedules_of(request).update(schedule_id, changes, caller.name, body.effective_from)
    return await checked(update)


@router.delete(
    "/api/schedules/{schedule_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=DELETE_ERRORS,
)
async def delete_schedule(schedule_id: str, request: Request, _: ApiKey) -> Response:
    """Delete a schedule and its overrides (who was on call before stays answerable)."""
    await schedules_of(request).delete(schedule_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/api/schedules/{schedule_id}/oncall", response_model=OnCall, responses=ASK_ERRORS)
async def who_is_on_call(schedule_id: str, request: Request, _: ApiKey, at: At = None) -> OnCall:
    """Who is on call at ``at`` (default now), by which layer and overrides, under which
    revision, and until when that answer holds (``valid_until``)."""
    return await schedules_of(request).oncall(schedule_id, at)


@router.get("/api/schedules/{schedule_id}/shifts", response_model=Coverage, responses=ASK_ERRORS)
async def schedule_shifts(
    schedule_id: str, request: Request, _: ApiKey, since: At = None, until: At = None
) -> Coverage:
    """The final shifts over ``since``..``until`` (default: 14 days from now; at most 92),
    each layer's own shifts, the gaps with nobody on call and the share covered."""
    return await checked(schedules_of(request).shifts(schedule_id, since, until))


@router.post(
    "/api/schedules/{schedule_id}/overrides",
    status_code=status.HTTP_201_CREATED,
    response_model=Override,
    responses=OVERRIDE_ERRORS,
)
async def add_override(schedule_id: str, body: OverrideSpec, request: Request, caller: ApiKey) -> Override:
    """Add, remove or replace (both) a person for a window of at most 90 days. A schedule
    has at most 100 overrides still to end."""
    return await checked(schedules_of(request).add_override(schedule_id, body, caller.name))


@router.delete(
    "/api/schedules/{schedule_id}/overrides/{override_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=DELETE_ERRORS,
)
async def delete_override(schedule_id: str, override_id: str, request: Request, _: ApiKey) -> Response:
    """Remove an override (it stays in the history of earlier answers)."""
    await schedules_of(request).delete_override(schedule_id, override_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
