"""``/api/people`` and ``/api/teams``: the directory every plan is made from."""

from __future__ import annotations

from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, Request, status
from fastapi.concurrency import run_in_threadpool
from pydantic import AfterValidator, Field

from api.deps import ApiKey
from api.errors import ACTION_ERRORS, INCIDENT_ERRORS, Responses, error_doc
from services.people import DirectoryService
from workflows.models import Email, Model, Person, ShortText, Slug, Team


def _zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{name!r} is not an IANA time zone (e.g. Europe/Paris)") from None
    return name


TimeZone = Annotated[str, Field(max_length=64), AfterValidator(_zone)]


class NewPerson(Model):
    id: Slug
    name: ShortText
    email: Email
    timezone: TimeZone = "UTC"


class PersonChanges(Model):
    name: ShortText | None = None
    email: Email | None = None
    timezone: TimeZone | None = None


class NewTeam(Model):
    id: Slug
    name: ShortText
    members: list[Slug] = Field(min_length=1, max_length=200)


class TeamChanges(Model):
    name: ShortText | None = None
    members: list[Slug] | None = Field(default=None, min_length=1, max_length=200)


router = APIRouter(tags=["people and teams"])
READ_ERRORS: Responses = {code: INCIDENT_ERRORS[code] for code in (401, 403, 429, 503)}
READ_ERRORS[404] = error_doc("No such person or team")
WRITE_ERRORS: Responses = {
    **READ_ERRORS,
    **{code: ACTION_ERRORS[code] for code in (400, 413, 422)},
    409: error_doc("The id is taken, or the change would leave a runbook naming someone who is not there"),
}


def _directory(request: Request) -> DirectoryService:
    service: DirectoryService = request.app.state.directory
    return service


@router.get("/api/people", response_model=list[Person], responses=READ_ERRORS)
async def list_people(request: Request, _: ApiKey) -> list[Person]:
    """Everyone who can be paged, by id."""
    return sorted(_directory(request).people(), key=lambda p: p.id)


@router.get("/api/people/{person_id}", response_model=Person, responses=READ_ERRORS)
async def read_person(person_id: str, request: Request, _: ApiKey) -> Person:
    return _directory(request).person(person_id)


@router.post(
    "/api/people", status_code=status.HTTP_201_CREATED, response_model=Person, responses=WRITE_ERRORS
)
async def create_person(body: NewPerson, request: Request, _: ApiKey) -> Person:
    """Add a person (the id is theirs for good: runbooks and history name them by it)."""
    return await run_in_threadpool(_directory(request).create_person, Person(**body.model_dump()))


@router.patch("/api/people/{person_id}", response_model=Person, responses=WRITE_ERRORS)
async def update_person(person_id: str, body: PersonChanges, request: Request, _: ApiKey) -> Person:
    """Change a person's name, email or time zone; fields left out stay as they are."""
    changes = body.model_dump(exclude_none=True)
    return await run_in_threadpool(_directory(request).update_person, person_id, changes)


@router.get("/api/teams", response_model=list[Team], responses=READ_ERRORS)
async def list_teams(request: Request, _: ApiKey) -> list[Team]:
    """Every team with its members, in paging order."""
    return sorted(_directory(request).teams(), key=lambda t: t.id)


@router.get("/api/teams/{team_id}", response_model=Team, responses=READ_ERRORS)
async def read_team(team_id: str, request: Request, _: ApiKey) -> Team:
    return _directory(request).team(team_id)


@router.post("/api/teams", status_code=status.HTTP_201_CREATED, response_model=Team, responses=WRITE_ERRORS)
async def create_team(body: NewTeam, request: Request, _: ApiKey) -> Team:
    """Add a team; its members must be people of the directory."""
    return await run_in_threadpool(_directory(request).create_team, Team(**body.model_dump()))


@router.patch("/api/teams/{team_id}", response_model=Team, responses=WRITE_ERRORS)
async def update_team(team_id: str, body: TeamChanges, request: Request, _: ApiKey) -> Team:
    """Rename a team or replace its members (in paging order)."""
    return await run_in_threadpool(_directory(request).update_team, team_id, body.name, body.members)
