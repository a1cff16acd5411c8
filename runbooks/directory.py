"""The directory: people who can be paged and the teams they form.

Runbooks never name an email address; they name ``person:<id>`` or
``team:<id>`` and the directory turns those into people when an incident
starts. ``load_directory`` refuses a file with a bad entry and names it.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import ValidationError, model_validator

from workflows.models import Model, Person, Team
from workflows.vocabulary import TargetKind


class DirectoryError(ValueError):
    """The directory file is missing, unreadable or has a bad entry."""


class Directory(Model):
    people: list[Person]
    teams: list[Team] = []

    @model_validator(mode="after")
    def _consistent(self) -> Directory:
        _unique("person", [p.id for p in self.people])
        _unique("team", [t.id for t in self.teams])
        known = {p.id for p in self.people}
        for team in self.teams:
            for member in team.members:
                if member not in known:
                    raise ValueError(f"team {team.id!r}: member {member!r} is not a person")
        return self

    def person(self, person_id: str) -> Person | None:
        return next((p for p in self.people if p.id == person_id), None)

    def resolve(self, ref: str) -> list[Person]:
        """People behind ``person:<id>`` or ``team:<id>``.

        Raises:
            DirectoryError: the reference is malformed or names nobody.
        """
        kind, _, key = ref.partition(":")
        if kind == TargetKind.PERSON and (person := self.person(key)):
            return [person]
        if kind == TargetKind.TEAM:
            team = next((t for t in self.teams if t.id == key), None)
            if team:
                return [p for m in team.members if (p := self.person(m))]
        if kind not in set(TargetKind):
            raise DirectoryError(f"{ref!r}: a target is 'person:<id>' or 'team:<id>'")
        raise DirectoryError(f"{ref!r}: no such {kind} in the directory")


def _unique(kind: str, ids: list[str]) -> None:
    seen: set[str] = set()
    for item in ids:
        if item in seen:
            raise ValueError(f"{kind} {item!r} is listed twice")
        seen.add(item)


def load_directory(path: str | Path) -> Directory:
    """Read and validate a directory YAML file.

    Raises:
        DirectoryError: with the file name and the offending entry.
    """
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise DirectoryError(f"{path}: cannot read the directory: {exc}") from exc
    try:
        return Directory.model_validate(data or {})
    except ValidationError as exc:
        raise DirectoryError(f"{path}: {_describe(exc, data)}") from exc


def _describe(exc: ValidationError, data: object) -> str:
    """Turn pydantic's error locations (``people.3.email``) into entry names."""
    problems = []
    for error in exc.errors():
        loc = list(error["loc"])
        where = ".".join(str(part) for part in loc)
        if len(loc) >= 2 and isinstance(loc[0], str) and isinstance(loc[1], int) and isinstance(data, dict):
            entries = data.get(loc[0]) or []
            entry = entries[loc[1]] if loc[1] < len(entries) else None
            name = entry.get("id") if isinstance(entry, dict) else None
            field = ".".join(str(part) for part in loc[2:])
            where = f"{loc[0][:-1] if loc[0] != 'people' else 'person'} {name or loc[1]!r}"
            where += f" ({field})" if field else ""
        message = str(error["ctx"]["error"]) if error["type"] == "value_error" else error["msg"]
        problems.append(f"{where}: {message}" if where else message)
    return "; ".join(problems)
