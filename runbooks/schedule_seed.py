"""Seed schedules: ``runbooks/schedules.yaml``, read and validated like the directory file.

``escalate dev`` loads them into an empty database and ``escalate import`` on demand;
until the database holds a schedule, the file answers (as the directory file does).
"""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import ValidationError

from runbooks.directory import DirectoryError
from schedules.models import Schedule


def load_schedules(path: str | Path) -> list[Schedule]:
    """Every schedule of a seed file (none when the file does not exist).

    Raises:
        DirectoryError: the file is unreadable or an entry is invalid (named in the message).
    """
    path = Path(path)
    if not path.exists():
        return []
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise DirectoryError(f"{path}: cannot read the schedules: {exc}") from exc
    entries = data.get("schedules", []) if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise DirectoryError(f"{path}: expected a 'schedules:' list")
    found: list[Schedule] = []
    for number, entry in enumerate(entries, start=1):
        try:
            found.append(Schedule.model_validate(entry))
        except ValidationError as exc:
            name = entry.get("id", f"#{number}") if isinstance(entry, dict) else f"#{number}"
            raise DirectoryError(f"{path}: schedule {name}: {exc.errors()[0]['msg']}") from None
    ids = [s.id for s in found]
    if len(set(ids)) != len(ids):
        raise DirectoryError(f"{path}: a schedule id is listed twice")
    return found
