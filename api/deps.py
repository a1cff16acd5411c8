"""Typed dependencies shared by the routers."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from temporalio.client import Client

from escalate.incidents import RepeatCoalescer
from escalate.settings import Settings
from runbooks.directory import Directory

_bearer = HTTPBearer(auto_error=False, description="An API key from API_KEYS")


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_client(request: Request) -> Client:
    return await request.app.state.temporal.client()


def get_directory(request: Request) -> Directory:
    return request.app.state.directory


def get_repeats(request: Request) -> RepeatCoalescer:
    return request.app.state.repeats


def require_api_key(
    settings: Annotated[Settings, Depends(get_settings)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> str:
    """The caller's key, checked in constant time against every configured key."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "missing bearer API key", headers={"WWW-Authenticate": "Bearer"}
        )
    offered = credentials.credentials.encode()
    matches = [hmac.compare_digest(offered, key.encode()) for key in settings.api_key_list]
    if not any(matches):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "API key not accepted")
    return credentials.credentials


SettingsDep = Annotated[Settings, Depends(get_settings)]
ClientDep = Annotated[Client, Depends(get_client)]
DirectoryDep = Annotated[Directory, Depends(get_directory)]
RepeatsDep = Annotated[RepeatCoalescer, Depends(get_repeats)]
ApiKey = Annotated[str, Depends(require_api_key)]
