"""SLA policies in the database: one row per policy, its ``SlaPolicy`` as JSON, by name.

Once the table holds a policy it is the truth; until then the seed file answers
(``runbooks/sla.yaml``, read by ``runbooks.sla_seed.load_policies``), as the directory file
does for people. An edit goes through :func:`editing`: one transaction that keeps other
writers out of the table and, when the table is still empty, copies the seed's policies
in first, so the first edit of one policy keeps the others.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from store.db import transaction, utcnow
from store.tables import sla_policies
from store.upsert import insert, upsert
from workflows.targets import SlaPolicy

Bind = Engine | Connection


def _policy(row: Any) -> SlaPolicy:
    return SlaPolicy.model_validate(row.body)


def _row(policy: SlaPolicy, by: str) -> dict[str, Any]:
    return {
        "name": policy.name,
        "body": policy.model_dump(mode="json"),
        "updated_at": utcnow(),
        "updated_by": by,
    }


def list_policies(bind: Bind) -> list[SlaPolicy]:
    """Every stored policy, by name."""
    table = sla_policies
    with transaction(bind) as conn:
        rows = conn.execute(sa.select(table).order_by(table.c.name)).all()
    return [_policy(row) for row in rows]


def get(bind: Bind, name: str) -> SlaPolicy | None:
    """The stored policy, or ``None``."""
    table = sla_policies
    with transaction(bind) as conn:
        row = conn.execute(sa.select(table).where(table.c.name == name)).first()
    return None if row is None else _policy(row)


def has_policies(bind: Bind) -> bool:
    """True once the database holds a policy (the seed file no longer answers)."""
    with transaction(bind) as conn:
        return conn.execute(sa.select(sla_policies.c.name).limit(1)).first() is not None


def count(bind: Bind) -> int:
    with transaction(bind) as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(sla_policies)).scalar_one())


def put(bind: Bind, policy: SlaPolicy, by: str) -> SlaPolicy:
    """Insert the policy, or replace the one with its name."""
    with transaction(bind) as conn:
        upsert(conn, sla_policies, _row(policy, by), ["name"])
    return policy


def delete(bind: Bind, name: str) -> bool:
    """Remove a policy. False: there was none by that name."""
    table = sla_policies
    with transaction(bind) as conn:
        done = conn.execute(sa.delete(table).where(table.c.name == name))
    return done.rowcount == 1


def import_policies(bind: Bind, policies: Iterable[SlaPolicy], by: str = "import") -> int:
    """Add the policies whose name is not stored yet (a stored one is never overwritten);
    how many were added."""
    added = 0
    with transaction(bind) as conn:
        for policy in policies:
            statement = insert(conn, sla_policies).values(_row(policy, by))
            statement = statement.on_conflict_do_nothing(index_elements=["name"])
            added += conn.execute(statement.returning(sla_policies.c.name)).first() is not None
    return added


@contextmanager
def editing(bind: Engine, seed: Iterable[SlaPolicy]) -> Iterator[Connection]:
    """A transaction to edit the policies in: other writers wait (PostgreSQL: a table lock
    readers do not notice; SQLite: its ``BEGIN IMMEDIATE``), and a table still empty gets
    the ``seed`` policies first. Committed when the block ends, rolled back if it raises."""
    with transaction(bind) as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("LOCK TABLE sla_policies IN SHARE ROW EXCLUSIVE MODE"))
        if not has_policies(conn):
            import_policies(conn, seed, by="seed")
        yield conn
