"""People and teams: the directory every plan is made from.

The database holds it once anyone has imported or edited it; until then the directory
file (``DIRECTORY_FILE``) does, and the first edit loads that file into the database
before it applies. Every edit is checked before it is written: the result must still be a
consistent directory in which every runbook's plans resolve, so an edit can never make
incidents unopenable (409 with the problems). Each process caches the directory and reads
it again at most every ``REFRESH_SECONDS`` (edits made by another replica show within
that, read in the background so that no request waits on the database: ``services/cache.py``);
a database that cannot be read keeps the last directory, so it never stops paging.
"""

from __future__ import annotations

import logging
from typing import Any

from pydantic import ValidationError

from runbooks.directory import Directory
from services.cache import Refreshed
from services.database import Database
from services.validate import problems
from store import people as rows
from store.models import PersonRecord, TeamRecord
from workflows.errors import ActionRejected, NotFound
from workflows.models import Person, Team
from workflows.runbook import Registry

log = logging.getLogger("escalate.directory")


class DirectoryConflict(ActionRejected):
    """An edit that would leave a runbook naming someone who is not there (409)."""

    code = "directory-conflict"


class UnknownEntry(NotFound):
    """No person or team with this id (404 on the people and teams routes)."""

    code = "unknown-entry"


class DirectoryService:
    def __init__(self, database: Database, registry: Registry, fallback: Directory) -> None:
        self._database = database
        self._registry = registry
        self._fallback = fallback
        self._cache = Refreshed(self._read, fallback, "directory", log)
        self._lock = self._cache.lock

    # -- the directory plans are made from --------------------------------------

    def current(self) -> Directory:
        """The directory now, never waiting on the database: a stale copy is refreshed in
        the background (callers run on the API's event loop)."""
        return self._cache.current()

    def load(self) -> Directory:
        """Read the directory now (blocking): at start-up, after an edit, and in the background."""
        return self._cache.load()

    def _read(self) -> Directory | None:
        if not self._database.present():
            return None
        engine = self._database.engine()
        if rows.is_empty(engine):
            return None
        people = [_person(p) for p in rows.list_people(engine)]
        teams = [Team(id=t.id, name=t.name, members=t.members) for t in rows.list_teams(engine) if t.members]
        return Directory(people=people, teams=teams)

    # -- reading -----------------------------------------------------------------

    def people(self) -> list[Person]:
        return self.current().people

    def person(self, person_id: str) -> Person:
        found = self.current().person(person_id)
        if found is None:
            raise UnknownEntry(f"no person {person_id!r}")
        return found

    def teams(self) -> list[Team]:
        return self.current().teams

    def team(self, team_id: str) -> Team:
        found = next((t for t in self.current().teams if t.id == team_id), None)
        if found is None:
            raise UnknownEntry(f"no team {team_id!r}")
        return found

    # -- editing (blocking: the API runs these in a thread) ----------------------

    def create_person(self, person: Person) -> Person:
        self._check(lambda d: Directory(people=[*d.people, person], teams=d.teams), "person", person.id)
        self._write(lambda engine: rows.create_person(engine, PersonRecord(**person.model_dump())))
        return person

    def update_person(self, person_id: str, changes: dict[str, Any]) -> Person:
        updated = self.person(person_id).model_copy(update=changes)
        Person.model_validate(updated.model_dump())
        self._check(
            lambda d: Directory(people=[updated if p.id == person_id else p for p in d.people], teams=d.teams)
        )
        self._write(lambda engine: rows.update_person(engine, person_id, **changes))
        return updated

    def create_team(self, team: Team) -> Team:
        self._check(lambda d: Directory(people=d.people, teams=[*d.teams, team]), "team", team.id)
        self._write(lambda engine: rows.create_team(engine, TeamRecord(**team.model_dump())))
        return team

    def update_team(self, team_id: str, name: str | None, members: list[str] | None) -> Team:
        current = self.team(team_id)
        updated = Team(id=team_id, name=name or current.name, members=members or current.members)
        self._check(
            lambda d: Directory(people=d.people, teams=[updated if t.id == team_id else t for t in d.teams])
        )
        self._write(lambda engine: rows.update_team(engine, team_id, name=name, members=members))
        return updated

    def _check(self, edit: Any, kind: str | None = None, new_id: str | None = None) -> None:
        """Refuse an edit that leaves an inconsistent directory or a runbook unplannable."""
        before = self.load()  # edits run in a worker thread: check against the latest
        if kind == "person" and before.person(new_id or "") is not None:
            raise DirectoryConflict(f"person {new_id!r} already exists")
        if kind == "team" and any(t.id == new_id for t in before.teams):
            raise DirectoryConflict(f"team {new_id!r} already exists")
        try:
            after = edit(before)
        except ValidationError as exc:
            reasons = "; ".join(str(e["msg"]).removeprefix("Value error, ") for e in exc.errors())
            raise DirectoryConflict(reasons) from None
        found = problems(self._registry, after)
        if found:
            raise DirectoryConflict("the change would break runbooks: " + "; ".join(found))

    def _write(self, change: Any) -> None:
        engine = self._database.engine()
        with self._lock:
            if rows.is_empty(engine):  # the first edit: the directory file becomes the database's
                rows.store_directory(engine, self._fallback)
            try:
                change(engine)
            except rows.AlreadyExists as exc:
                raise DirectoryConflict(str(exc)) from None
            self.load()  # this process sees its own edit at once


def _person(record: PersonRecord) -> Person:
    return Person(id=record.id, name=record.name, email=record.email, timezone=record.timezone)
