"""Who a simulation can page: the directory, the on-call schedules and the SLA policies.

Either what the product uses now (the database's once it holds them, else the seed
files) or fixture files of the same formats, so a change can be tried before it is made.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from runbooks.directory import Directory, load_directory
from runbooks.schedule_seed import load_schedules
from runbooks.sla_seed import load_policies
from schedules.models import Schedule
from services.settings import Settings
from services.shift_watch import known_schedules
from workflows.targets import SlaPolicy

log = logging.getLogger("escalate.simulate")


@dataclass(frozen=True)
class World:
    directory: Directory
    schedules: tuple[Schedule, ...]
    policies: dict[str, SlaPolicy]

    @classmethod
    def load(
        cls,
        settings: Settings,
        directory: Path | None = None,
        schedules: Path | None = None,
        sla: Path | None = None,
    ) -> World:
        """Each part from its fixture file when given, else as the product has it now.

        Raises:
            DirectoryError: a file that cannot be read or does not hold what it should.
        """
        return cls(
            directory=load_directory(directory) if directory else _directory_now(settings),
            schedules=tuple(load_schedules(schedules) if schedules else _schedules_now(settings)),
            policies=load_policies(sla) if sla else _policies_now(settings),
        )


def _directory_now(settings: Settings) -> Directory:
    from runbooks import REGISTRY
    from services.database import Database
    from services.people import DirectoryService

    fallback = load_directory(settings.directory_file)
    return DirectoryService(Database(settings), REGISTRY, fallback).load()


def _schedules_now(settings: Settings) -> list[Schedule]:
    from services.database import Database

    if not Database(settings).present():  # nothing written yet: never create the database
        return load_schedules(settings.schedules_file)
    try:
        return known_schedules(settings)
    except Exception as exc:  # a database behind this release's schema, say
        log.warning("schedules read from %s: the database cannot be read (%s)", settings.schedules_file, exc)
        return load_schedules(settings.schedules_file)


def _policies_now(settings: Settings) -> dict[str, SlaPolicy]:
    from services.database import Database
    from services.sla_policies import SlaPolicyService

    return dict(SlaPolicyService(Database(settings), settings.sla_file).load())
