"""``/api/sla-policies``: the response and resolution targets incidents are held to.

Until the database holds a policy, the seed file (``SLA_FILE``) answers; the first
``PUT`` or ``DELETE`` copies the seed's policies into the database, which is the truth
from then on. A new incident is held to the policy as it stands when it opens (this API
process: at once; another replica: within seconds). ``default`` and the policies runbooks
name cannot be deleted.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from api.deps import ApiKey
from api.errors import ACTION_ERRORS, INCIDENT_ERRORS, Responses, error_doc
from services.sla_policies import SlaPolicyService
from workflows.targets import SlaPolicy

router = APIRouter(tags=["SLA policies"])
PATH = "/api/sla-policies"
READ_ERRORS: Responses = {code: INCIDENT_ERRORS[code] for code in (401, 403, 429, 503)}
ONE_ERRORS: Responses = {**READ_ERRORS, 404: error_doc("No such SLA policy")}
PUT_ERRORS: Responses = {
    **READ_ERRORS,
    **{code: ACTION_ERRORS[code] for code in (400, 413)},
    422: error_doc(
        "Invalid policy (a target outside 1 s to 30 days, a goal twice for one severity, a warning "
        "share outside 0 to 1, business-clock targets without business_hours...), or the path's "
        "name is not the body's"
    ),
}
DELETE_ERRORS: Responses = {
    **ONE_ERRORS,
    409: error_doc("The policy must stay: it is 'default', a runbook names it, or it is the last one"),
}


def policies_of(request: Request) -> SlaPolicyService:
    service: SlaPolicyService = request.app.state.sla_policies
    return service


@router.get(PATH, response_model=list[SlaPolicy], responses=READ_ERRORS)
async def list_policies(request: Request, _: ApiKey) -> list[SlaPolicy]:
    """Every SLA policy, by name (the seed file's until one is written)."""
    return await policies_of(request).list()


@router.get(PATH + "/{name}", response_model=SlaPolicy, responses=ONE_ERRORS)
async def read_policy(name: str, request: Request, _: ApiKey) -> SlaPolicy:
    """One SLA policy."""
    return await policies_of(request).get(name)


@router.put(PATH + "/{name}", response_model=SlaPolicy, responses=PUT_ERRORS)
async def put_policy(name: str, body: SlaPolicy, request: Request, caller: ApiKey) -> SlaPolicy:
    """Create the policy ``name`` or replace it (the body's ``name`` must be the same).
    Incidents opened from now on are held to it; those already open keep theirs."""
    return await policies_of(request).put(name, body, by=caller.name)


@router.delete(
    PATH + "/{name}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=DELETE_ERRORS,
)
async def delete_policy(name: str, request: Request, caller: ApiKey) -> Response:
    """Delete a policy; ``default``, a policy a runbook names, and the last one stay (409)."""
    await policies_of(request).delete(name, by=caller.name)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
