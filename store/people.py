"""People and teams: the directory, kept in the database.

``import_directory`` loads ``runbooks/directory.yaml`` (validated by the runbooks'
``load_directory``) and upserts it; people and teams missing from the file are left alone.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from runbooks.directory import Directory, load_directory
from store.db import transaction, utcnow
from store.models import ImportCounts, PersonRecord, TeamRecord
from store.tables import people, team_members, teams
from store.upsert import insert, upsert

_EDITABLE = ("name", "email", "timezone", "contact_methods")


class AlreadyExists(ValueError):
    """A person or team with this id is already there."""


def _person(row: Any) -> PersonRecord:
    return PersonRecord.model_validate(dict(row._mapping))


def list_people(bind: Engine | Connection) -> list[PersonRecord]:
    with transaction(bind) as conn:
        return [_person(row) for row in conn.execute(sa.select(people).order_by(people.c.id))]


def get_person(bind: Engine | Connection, person_id: str) -> PersonRecord | None:
    with transaction(bind) as conn:
        row = conn.execute(sa.select(people).where(people.c.id == person_id)).first()
    return _person(row) if row else None


def create_person(bind: Engine | Connection, person: PersonRecord) -> PersonRecord:
    """Add a person. Raises :class:`AlreadyExists` when the id is taken."""
    now = utcnow()
    row = person.model_dump() | {"created_at": now, "updated_at": now}
    with transaction(bind) as conn:
        statement = insert(conn, people).values(row).on_conflict_do_nothing(index_elements=["id"])
        if conn.execute(statement.returning(people.c.id)).first() is None:
            raise AlreadyExists(f"person {person.id!r} already exists")
    return PersonRecord.model_validate(row)


def update_person(bind: Engine | Connection, person_id: str, **changes: Any) -> PersonRecord | None:
    """Change a person's ``name``, ``email``, ``timezone`` or ``contact_methods``; ``None``
    when there is no such person."""
    unknown = set(changes) - set(_EDITABLE)
    if unknown:
        raise ValueError(f"cannot change {sorted(unknown)} of a person")
    with transaction(bind) as conn:
        statement = (
            sa.update(people)
            .where(people.c.id == person_id)
            .values(**changes, updated_at=utcnow())
            .returning(*people.c)
        )
        row = conn.execute(statement).first()
    return _person(row) if row else None


def upsert_person(bind: Engine | Connection, person: PersonRecord) -> None:
    """Insert or overwrite a person (``created_at`` is kept on overwrite)."""
    now = utcnow()
    row = person.model_dump(exclude={"created_at", "updated_at"})
    with transaction(bind) as conn:
        statement = insert(conn, people).values(row | {"created_at": now, "updated_at": now})
        changes = {name: statement.excluded[name] for name in (*_EDITABLE, "updated_at")}
        conn.execute(statement.on_conflict_do_update(index_elements=["id"], set_=changes))


def _members(conn: Connection, team_ids: list[str] | None = None) -> dict[str, list[str]]:
    query = sa.select(team_members.c.team_id, team_members.c.person_id).order_by(
        team_members.c.team_id, team_members.c.position
    )
    if team_ids is not None:
        query = query.where(team_members.c.team_id.in_(team_ids))
    found: dict[str, list[str]] = {}
    for team_id, person_id in conn.execute(query):
        found.setdefault(str(team_id), []).append(str(person_id))
    return found


def _set_members(conn: Connection, team_id: str, members: list[str]) -> None:
    conn.execute(sa.delete(team_members).where(team_members.c.team_id == team_id))
    if members:
        rows = [{"team_id": team_id, "person_id": p, "position": i} for i, p in enumerate(members)]
        conn.execute(sa.insert(team_members), rows)


def list_teams(bind: Engine | Connection) -> list[TeamRecord]:
    with transaction(bind) as conn:
        members = _members(conn)
        rows = conn.execute(sa.select(teams).order_by(teams.c.id)).all()
    return [TeamRecord(id=r.id, name=r.name, members=members.get(r.id, [])) for r in rows]


def get_team(bind: Engine | Connection, team_id: str) -> TeamRecord | None:
    with transaction(bind) as conn:
        return _team(conn, team_id)


def _team(conn: Connection, team_id: str) -> TeamRecord | None:
    row = conn.execute(sa.select(teams).where(teams.c.id == team_id)).first()
    if row is None:
        return None
    return TeamRecord(id=row.id, name=row.name, members=_members(conn, [team_id]).get(team_id, []))


def create_team(bind: Engine | Connection, team: TeamRecord) -> TeamRecord:
    """Add a team and its members (who must exist). Raises :class:`AlreadyExists`."""
    with transaction(bind) as conn:
        statement = insert(conn, teams).values(id=team.id, name=team.name)
        statement = statement.on_conflict_do_nothing(index_elements=["id"]).returning(teams.c.id)
        if conn.execute(statement).first() is None:
            raise AlreadyExists(f"team {team.id!r} already exists")
        _set_members(conn, team.id, team.members)
    return team


def update_team(
    bind: Engine | Connection, team_id: str, *, name: str | None = None, members: list[str] | None = None
) -> TeamRecord | None:
    """Rename a team and/or replace its members (in order); ``None`` when there is no such team."""
    with transaction(bind) as conn:
        if name is not None:
            conn.execute(sa.update(teams).where(teams.c.id == team_id).values(name=name))
        if conn.execute(sa.select(teams.c.id).where(teams.c.id == team_id)).first() is None:
            return None
        if members is not None:
            _set_members(conn, team_id, members)
        return _team(conn, team_id)


def import_directory(engine: Engine | Connection, directory_yaml_path: str | Path) -> ImportCounts:
    """Upsert every person and team of a directory file, in one transaction.

    Raises:
        runbooks.directory.DirectoryError: the file is missing or invalid (nothing written).
    """
    return store_directory(engine, load_directory(directory_yaml_path))


def store_directory(engine: Engine | Connection, directory: Directory) -> ImportCounts:
    """Upsert every person and team of ``directory``, in one transaction."""
    with transaction(engine) as conn:
        for person in directory.people:
            upsert_person(conn, PersonRecord(**person.model_dump()))
        for team in directory.teams:
            upsert(conn, teams, {"id": team.id, "name": team.name}, key=["id"])
            _set_members(conn, team.id, team.members)
    members = sum(len(team.members) for team in directory.teams)
    return ImportCounts(people=len(directory.people), teams=len(directory.teams), members=members)


def is_empty(engine: Engine | Connection) -> bool:
    """True when the directory has neither people nor teams (time to import the YAML)."""
    with transaction(engine) as conn:
        anyone = conn.execute(sa.select(people.c.id).limit(1)).first()
        any_team = conn.execute(sa.select(teams.c.id).limit(1)).first()
    return anyone is None and any_team is None
