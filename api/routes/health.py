"""``/healthz``: is the API up, and can it reach Temporal?"""

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse
from temporalio.service import RPCError

router = APIRouter(tags=["health"])


@router.get("/healthz", responses={503: {"description": "Temporal cannot be reached"}})
async def healthz(request: Request) -> JSONResponse:
    """200 when the API can reach Temporal, 503 with the reason otherwise."""
    try:
        client = await request.app.state.temporal.client()
        await client.service_client.check_health()
    except HTTPException as exc:  # the lazy connection could not connect
        return JSONResponse({"status": "degraded", "temporal": exc.detail}, status_code=503)
    except (RPCError, RuntimeError, OSError) as exc:
        return JSONResponse({"status": "degraded", "temporal": str(exc)}, status_code=503)
    return JSONResponse({"status": "ok", "temporal": "reachable"})
