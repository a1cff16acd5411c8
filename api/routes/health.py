"""``/healthz``: is the API up, and can it reach Temporal?"""

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.deps import IncidentsDep
from workflows.errors import DomainError

router = APIRouter(tags=["health"])


@router.get("/healthz", responses={503: {"description": "Temporal cannot be reached"}})
async def healthz(incidents: IncidentsDep) -> JSONResponse:
    """200 when the API can reach Temporal, 503 with the reason otherwise."""
    try:
        await incidents.check_health()
    except DomainError as exc:
        return JSONResponse({"status": "degraded", "temporal": str(exc)}, status_code=503)
    return JSONResponse({"status": "ok", "temporal": "reachable"})
