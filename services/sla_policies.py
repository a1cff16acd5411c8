"""SLA policies: the response and resolution targets incidents are held to, as data.

The database holds them once anyone has written one; until then the seed file
(``SLA_FILE``, ``runbooks/sla.yaml``) answers every read, and the first write copies the
seed's policies into the database before it applies, so editing one keeps the others (as
the directory and the schedules do). ``default`` (every incident whose runbook names no
policy) cannot be deleted, nor can a policy a runbook names (``PlanSpec(sla=...)``).

Opening an incident reads :meth:`SlaPolicyService.current`: a cached copy, read again at
most every few seconds in the background (``services/cache.py``) and at once after this
process's own edits; a database that cannot be read keeps the last policies. The policy
is frozen into the incident's input when it opens: an edit changes only incidents opened
later. ``escalate validate`` still checks the runbooks against the seed file.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from sqlalchemy.engine import Connection, Engine

from runbooks import REGISTRY
from runbooks.sla_seed import DEFAULT_POLICY, load_policies
from services.cache import Refreshed
from services.database import Database
from services.validate import sample_incidents
from store import sla_policies as rows
from workflows.errors import ActionRejected, InvalidRequest, NotFound
from workflows.runbook import Registry
from workflows.targets import SlaPolicy

log = logging.getLogger("escalate.sla")
T = TypeVar("T")
Policies = dict[str, SlaPolicy]
# JSON cannot hold NUL or a lone surrogate (PostgreSQL's jsonb refuses both): a calendar's
# name is the only free text of a policy.
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


class UnknownSlaPolicy(NotFound):
    """No SLA policy has this name (404)."""

    code = "unknown-sla-policy"


class SlaPolicyInUse(ActionRejected):
    """A policy that must stay: ``default``, one a runbook names, the last one (409)."""

    code = "sla-policy-in-use"


def runbooks_naming(registry: Registry) -> dict[str, list[str]]:
    """Which runbooks hold their incidents to which policy (naming none: ``default``), over
    every severity and sample service, as ``escalate validate`` plans them."""
    named: dict[str, set[str]] = {}
    for runbook, incident in sample_incidents(registry):
        try:
            policy = runbook.plan(incident).sla or DEFAULT_POLICY
        except Exception:  # noqa: BLE001 - escalate validate reports a plan that fails
            continue
        named.setdefault(policy, set()).add(runbook.name)
    return {policy: sorted(runbooks) for policy, runbooks in named.items()}


class SlaPolicyService:
    def __init__(self, database: Database, seed_file: Path | str, registry: Registry = REGISTRY) -> None:
        self._database = database
        self._registry = registry
        self._seed: Policies = load_policies(seed_file)
        self._cache = Refreshed(self._stored, self._seed, "SLA policies", log)

    # -- for opening incidents: cached, never waiting on the database --------------

    def current(self) -> Policies:
        """The policies now (the database's once it holds one, else the seed file's)."""
        return self._cache.current()

    def load(self) -> Policies:
        """Read the policies now (blocking): at start-up and after this process's edits."""
        return self._cache.load()

    def _stored(self) -> Policies | None:
        """The database's policies; None while it holds none (or was never written)."""
        if not self._database.present():  # nothing written yet: do not create the database
            return None
        return _by_name(rows.list_policies(self._database.engine())) or None

    # -- reading: the database once it holds a policy, the seed file until then -----

    async def _read(self) -> Policies:
        """As ``current``, read now: a database that cannot answer is a 503, not a stale copy."""
        if not self._database.present():  # run() would create it
            return dict(self._seed)
        stored = await self._database.run(lambda _engine: self._stored())
        return stored or dict(self._seed)

    async def get(self, name: str) -> SlaPolicy:
        """Raises UnknownSlaPolicy."""
        found = (await self._read()).get(name)
        if found is None:
            raise UnknownSlaPolicy(f"no SLA policy {name!r}")
        return found

    # -- writing (the first write copies the seed file's policies in first) ----------

    async def _write(self, change: Callable[[Connection], T]) -> T:
        def edit(engine: Engine) -> T:
            with rows.editing(engine, self._seed.values()) as conn:
                done = change(conn)
            self._cache.load()  # this process opens incidents with its own edit at once
            return done

        return await self._database.run(edit)

    async def put(self, name: str, policy: SlaPolicy, by: str) -> SlaPolicy:
        """Create the policy, or replace the one of that name; the stored policy.

        Raises:
            InvalidRequest: the path's name is not the body's, or the calendar's name holds
                control characters (422).
        """
        if policy.name != name:
            raise InvalidRequest(
                f"the path names the policy {name!r} but the body {policy.name!r}: they must be the same"
            )
        if policy.business_hours is not None and _UNSAFE.search(policy.business_hours.name):
            raise InvalidRequest("business_hours.name must not hold control characters")
        stored = await self._write(lambda conn: rows.put(conn, policy, by))
        log.info("SLA policy %r written by %s", name, by)
        return stored

    async def delete(self, name: str, by: str) -> None:
        """Raises UnknownSlaPolicy, SlaPolicyInUse (``default``, one a runbook names, the
        last one: the seed file would answer again)."""
        if name == DEFAULT_POLICY:
            raise SlaPolicyInUse(
                f"the {DEFAULT_POLICY!r} SLA policy holds every incident whose runbook names none: "
                "it cannot be deleted (change it with PUT)"
            )

        def remove(conn: Connection) -> None:
            if rows.get(conn, name) is None:
                raise UnknownSlaPolicy(f"no SLA policy {name!r}")
            users = runbooks_naming(self._registry).get(name)
            if users:
                raise SlaPolicyInUse(
                    f"SLA policy {name!r} is named by runbook {', '.join(users)}: "
                    "change the runbook first, or change the policy with PUT"
                )
            if rows.count(conn) == 1:
                raise SlaPolicyInUse(f"SLA policy {name!r} is the last one: it cannot be deleted")
            rows.delete(conn, name)

        await self._write(remove)
        log.info("SLA policy %r deleted by %s", name, by)

    # Last: its name would hide the built-in ``list`` from the annotations above.
    async def list(self) -> list[SlaPolicy]:
        """Every policy, by name."""
        policies = await self._read()
        return [policies[name] for name in sorted(policies)]


def _by_name(policies: list[SlaPolicy]) -> Policies:
    return {policy.name: policy for policy in policies}
