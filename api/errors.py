"""Turning Temporal's failures into HTTP answers: never a 500 with a stack trace."""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import FastAPI, HTTPException, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from temporalio.client import RPCError, WorkflowQueryFailedError, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCStatusCode

from services.incidents import RetryLater

log = logging.getLogger("escalate.api")


class Problem(BaseModel):
    """Every error: a readable reason (a list of field errors for invalid bodies)."""

    detail: str | list[dict[str, Any]]


ERROR_MODEL: dict[str, Any] = {"model": Problem}


def _error(description: str) -> dict[str, Any]:
    return {"description": description, **ERROR_MODEL}


# Every route that takes an API key may answer this (api.deps).
THROTTLED = {429: _error("Too many wrong API keys from this address: wait Retry-After seconds")}
# Error responses the incident routes may give, for the OpenAPI document.
INCIDENT_ERRORS = {
    400: _error("The body could not be read (not UTF-8, not JSON, a key given twice)"),
    401: _error("Missing API key"),
    403: _error("API key not accepted, or an intake key (it may only post alerts)"),
    404: _error("No such incident"),
    413: _error("Request body too large"),
    422: _error("Invalid fields"),
    **THROTTLED,
    503: _error("Temporal cannot be reached"),
}
ACTION_ERRORS = {
    **INCIDENT_ERRORS,
    409: _error("The action no longer applies"),
    422: _error("Invalid fields or unknown responder"),
}

_UNAVAILABLE = {RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.CANCELLED}


def update_failure(err: WorkflowUpdateFailedError) -> HTTPException:
    cause = err.cause
    if isinstance(cause, ApplicationError) and cause.type == "UnknownResponder":
        return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, cause.message)
    if isinstance(cause, ApplicationError):
        return HTTPException(status.HTTP_409_CONFLICT, cause.message)
    return HTTPException(status.HTTP_409_CONFLICT, str(cause or err))


def install(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, err: RequestValidationError) -> JSONResponse:
        # FastAPI's own handler echoes each bad input back; an input that cannot be
        # encoded (a lone surrogate, raw bytes) then crashes the reply. Say where and
        # why, never what: the caller has the input already.
        errors = [
            {"loc": [str(part) for part in e["loc"]], "msg": e["msg"], "type": e["type"]}
            for e in err.errors()
        ]
        body = json.dumps({"detail": errors}, ensure_ascii=True)
        return Response(body, status.HTTP_422_UNPROCESSABLE_CONTENT, media_type="application/json")

    @app.exception_handler(RPCError)
    async def _rpc(_: Request, err: RPCError) -> JSONResponse:
        if err.status == RPCStatusCode.NOT_FOUND:
            return JSONResponse({"detail": "no such incident"}, status.HTTP_404_NOT_FOUND)
        if err.status in _UNAVAILABLE:
            return JSONResponse(
                {"detail": "Temporal cannot be reached; try again shortly"},
                status.HTTP_503_SERVICE_UNAVAILABLE,
                headers={"Retry-After": "5"},
            )
        log.warning("Temporal refused a call: %s %s", err.status, err.message)
        return JSONResponse(
            {"detail": f"Temporal refused the call: {err.message}"}, status.HTTP_502_BAD_GATEWAY
        )

    @app.exception_handler(WorkflowQueryFailedError)
    async def _query(_: Request, err: WorkflowQueryFailedError) -> JSONResponse:
        return JSONResponse(
            {"detail": f"the incident could not be read: {err}"}, status.HTTP_503_SERVICE_UNAVAILABLE
        )

    @app.exception_handler(RetryLater)
    async def _retry(_: Request, err: RetryLater) -> JSONResponse:
        return JSONResponse(
            {"detail": str(err)}, status.HTTP_503_SERVICE_UNAVAILABLE, headers={"Retry-After": "1"}
        )

    @app.exception_handler(RuntimeError)
    async def _runtime(_: Request, err: RuntimeError) -> JSONResponse:
        # The SDK raises RuntimeError("Failed client connect ...") when the server is down.
        log.warning("request failed: %s", err)
        return JSONResponse(
            {"detail": "Temporal cannot be reached; try again shortly"},
            status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": "5"},
        )
