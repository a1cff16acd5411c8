"""Typed dependencies shared by the routers, and the bearer-key check with its scopes.

Keys come from ``API_KEYS`` (scope ``full``: every route) and ``INTAKE_API_KEYS`` (scope
``intake``: only the webhook routes under ``/api/integrations/``, nothing else; the sign-in
page refuses them too). Wrong keys are counted per client address (``api.limits``); past
the limit the client gets a 429 with Retry-After before its key is even checked, on every
route. A right key never counts, so an Alertmanager with its own address is never refused;
one that shares its address with a client sending wrong keys gets 429s for the rest of the
window, and re-sends the group at its next ``group_interval`` (its log holds no success).
A key is never logged, echoed or stored: the caller is known by the key's name only.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.limits import client_address, throttle
from services.incidents import IncidentService
from services.settings import ConfiguredKey, Settings

log = logging.getLogger("escalate.api")
_bearer = HTTPBearer(auto_error=False, description="A key from API_KEYS (INTAKE_API_KEYS: webhooks only)")
INTAKE_PREFIX = "/api/integrations/"


@dataclass(frozen=True)
class Caller:
    """Who a request's key says is calling: the key's name and scope, never the key."""

    name: str
    scope: str


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_incidents(request: Request) -> IncidentService:
    return request.app.state.incidents


def match_key(settings: Settings, offered: str) -> ConfiguredKey | None:
    """The configured key ``offered`` is, if any. Every accepted string is compared, as
    SHA-256 digests in constant time, so neither the answer nor its timing tells which
    key (or how long a key) came close."""
    digest = hashlib.sha256(offered.encode("utf-8", "surrogatepass")).digest()
    found = None
    for key in settings.keys:
        for accepted in key.accepted:
            if hmac.compare_digest(digest, hashlib.sha256(accepted.encode()).digest()) and found is None:
                found = key
    return found


def too_many_failures(retry_after: int) -> HTTPException:
    """The answer to a client over its limit of wrong keys."""
    return HTTPException(
        status.HTTP_429_TOO_MANY_REQUESTS,
        f"too many wrong API keys from this address; try again in {retry_after} s",
        headers={"Retry-After": str(retry_after)},
    )


def record_failure(request: Request, client: str) -> None:
    """Count a wrong key from ``client``; say so in the log (address only) when it starts
    being throttled."""
    failures = throttle(request)
    failures.fail(client)
    if failures.retry_after(client) is not None:
        log.warning("wrong API keys from %s: throttled for up to %s s", client, failures.window)


def require_api_key(
    request: Request,
    settings: Annotated[Settings, Depends(get_settings)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Caller:
    """The caller, if its bearer key is configured and its scope allows this route."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "missing bearer API key", headers={"WWW-Authenticate": "Bearer"}
        )
    route = getattr(request.scope.get("route"), "path", request.url.path)
    intake_route = route.startswith(INTAKE_PREFIX)
    client = client_address(request)
    wait = throttle(request).retry_after(client)
    if wait is not None:
        raise too_many_failures(wait)
    key = match_key(settings, credentials.credentials)
    if key is None:
        record_failure(request, client)
        raise HTTPException(status.HTTP_403_FORBIDDEN, "API key not accepted")
    if key.scope == "intake" and not intake_route:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            f"key {key.name!r} is an intake key: it may only post alerts to {INTAKE_PREFIX}",
        )
    return Caller(key.name, key.scope)


SettingsDep = Annotated[Settings, Depends(get_settings)]
IncidentsDep = Annotated[IncidentService, Depends(get_incidents)]
ApiKey = Annotated[Caller, Depends(require_api_key)]
