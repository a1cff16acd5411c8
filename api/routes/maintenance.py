"""``/api/maintenance-windows``: times during which incidents of some services (or with
some labels) are held and nobody is paged for them.

A window lasts at most 7 days; a start in the past becomes now; its end must be in the
future. ``DELETE`` ends a window now (or cancels one to come); it stays readable by id.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status

from api.deps import ApiKey
from api.errors import ACTION_ERRORS, INCIDENT_ERRORS, Responses, error_doc
from services.maintenance import MaintenanceService
from workflows.maintenance import MaintenanceWindow, MaintenanceWindowSpec

router = APIRouter(tags=["maintenance windows"])
READ_ERRORS: Responses = {code: INCIDENT_ERRORS[code] for code in (401, 403, 429, 503)}
LIST_ERRORS: Responses = {**READ_ERRORS, 422: error_doc("Invalid query parameters")}
ONE_ERRORS: Responses = {**READ_ERRORS, 404: error_doc("No such maintenance window")}
CREATE_ERRORS: Responses = {
    **READ_ERRORS,
    **{code: ACTION_ERRORS[code] for code in (400, 413)},
    422: error_doc(
        "Invalid fields: no service nor label, an end not after the start or in the past, over 7 days, "
        "a time without its offset, over 50 services or 20 labels, a reason over 500 characters"
    ),
}
END_ERRORS: Responses = {**READ_ERRORS, 404: error_doc("No such maintenance window in force or to come")}
Active = Annotated[bool, Query(description="Only the windows in force now")]


def maintenance_of(request: Request) -> MaintenanceService:
    service: MaintenanceService = request.app.state.maintenance
    return service


@router.post(
    "/api/maintenance-windows",
    status_code=status.HTTP_201_CREATED,
    response_model=MaintenanceWindow,
    responses=CREATE_ERRORS,
)
async def create_window(body: MaintenanceWindowSpec, request: Request, caller: ApiKey) -> MaintenanceWindow:
    """Hold the incidents of ``services`` and/or with ``labels`` (every one of them, with
    that value) from ``start`` (a start in the past becomes now) to ``end`` (at most 7 days
    later, in the future)."""
    return await maintenance_of(request).create(body, by=caller.name)


@router.get("/api/maintenance-windows", response_model=list[MaintenanceWindow], responses=LIST_ERRORS)
async def list_windows(request: Request, _: ApiKey, active: Active = False) -> list[MaintenanceWindow]:
    """The windows not ended yet (in force or to come), by start; ``?active=true``: those in
    force now."""
    service = maintenance_of(request)
    return await (service.active() if active else service.list_windows())


@router.get("/api/maintenance-windows/{window_id}", response_model=MaintenanceWindow, responses=ONE_ERRORS)
async def read_window(window_id: str, request: Request, _: ApiKey) -> MaintenanceWindow:
    """One window, ended or not (``ended_at``: ended early)."""
    return await maintenance_of(request).get(window_id)


@router.delete(
    "/api/maintenance-windows/{window_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=END_ERRORS,
)
async def end_window(window_id: str, request: Request, _: ApiKey) -> Response:
    """End a window now (one to come is cancelled); it stays readable by id."""
    await maintenance_of(request).delete(window_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
