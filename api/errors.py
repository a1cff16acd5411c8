"""Errors as HTTP answers: each domain error class maps to one status, here; never a 500
with a stack trace."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ValidationError

from workflows.errors import (
    ActionRejected,
    DomainError,
    InvalidRequest,
    NotFound,
    Refused,
    Unavailable,
    UnknownResponder,
    UnknownRunbook,
    UnknownTarget,
)


class Problem(BaseModel):
    """Every error: a readable reason (a list of field errors for invalid bodies)."""

    detail: str | list[dict[str, Any]]


ERROR_MODEL: dict[str, Any] = {"model": Problem}
# FastAPI's type for a route's documented answers.
Responses = dict[int | str, dict[str, Any]]


def error_doc(description: str) -> dict[str, Any]:
    return {"description": description, **ERROR_MODEL}


# Every route that takes an API key may answer this (api.deps).
THROTTLED: Responses = {429: error_doc("Too many wrong API keys from this address: wait Retry-After seconds")}
# Error responses the incident routes may give, for the OpenAPI document.
INCIDENT_ERRORS: Responses = {
    400: error_doc("The body could not be read (not UTF-8, not JSON, a key given twice)"),
    401: error_doc("Missing API key"),
    403: error_doc("API key not accepted, or an intake key (it may only post alerts)"),
    404: error_doc("No such incident"),
    413: error_doc("Request body too large"),
    422: error_doc("Invalid fields"),
    **THROTTLED,
    503: error_doc("Temporal cannot be reached"),
}
ACTION_ERRORS: Responses = {
    **INCIDENT_ERRORS,
    409: error_doc("The action no longer applies"),
    422: error_doc("Invalid fields or unknown responder"),
}

# Each domain error's status, once (the most specific class listed first wins).
STATUS: list[tuple[type[DomainError], int]] = [
    (NotFound, status.HTTP_404_NOT_FOUND),
    (UnknownResponder, status.HTTP_422_UNPROCESSABLE_CONTENT),
    (UnknownRunbook, status.HTTP_422_UNPROCESSABLE_CONTENT),
    (UnknownTarget, status.HTTP_422_UNPROCESSABLE_CONTENT),
    (InvalidRequest, status.HTTP_422_UNPROCESSABLE_CONTENT),
    (ActionRejected, status.HTTP_409_CONFLICT),
    (Unavailable, status.HTTP_503_SERVICE_UNAVAILABLE),
    (Refused, status.HTTP_502_BAD_GATEWAY),
]


def status_of(err: DomainError) -> int:
    return next((code for cls, code in STATUS if isinstance(err, cls)), status.HTTP_400_BAD_REQUEST)


def form_status(err: Exception) -> int:
    """A web form's status for ``err``: 422 for a bad value, the domain error's own 4xx.
    A DomainError of 5xx is raised again: the error page, not the form, answers it."""
    if isinstance(err, DomainError) and status_of(err) >= 500:
        raise err
    return status_of(err) if isinstance(err, DomainError) else status.HTTP_422_UNPROCESSABLE_CONTENT


def form_problem(err: Exception, fields: Mapping[str, str]) -> tuple[int, str]:
    """A web form's refusal of ``err``: its status (422 for a bad value) and one sentence,
    naming the field by its label in ``fields`` (``form_status`` raises a 5xx again)."""
    code = form_status(err)
    if isinstance(err, ValidationError):
        first = err.errors()[0]
        where = fields.get(str(first["loc"][0]), "") if first["loc"] else ""
        message = str(first["msg"]).removeprefix("Value error, ")
        return code, f"{where}: {message}." if where else message[:1].upper() + message[1:] + "."
    text = str(err)
    return code, text if text.endswith(".") else text[:1].upper() + text[1:] + "."


def install(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, err: RequestValidationError) -> Response:
        # FastAPI's own handler echoes each bad input back; an input that cannot be
        # encoded (a lone surrogate, raw bytes) then crashes the reply. Say where and
        # why, never what: the caller has the input already.
        errors = [
            {"loc": [str(part) for part in e["loc"]], "msg": e["msg"], "type": e["type"]}
            for e in err.errors()
        ]
        body = json.dumps({"detail": errors}, ensure_ascii=True)
        return Response(body, status.HTTP_422_UNPROCESSABLE_CONTENT, media_type="application/json")

    @app.exception_handler(DomainError)
    async def _domain(_: Request, err: DomainError) -> JSONResponse:
        headers = {"Retry-After": str(err.retry_after)} if isinstance(err, Unavailable) else None
        return JSONResponse({"detail": str(err)}, status_of(err), headers=headers)
