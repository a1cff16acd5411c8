"""``escalate migrate`` and ``escalate import`` from a shell: the schema on an empty
database (SQLite or PostgreSQL), the directory loaded, and a clear error, never a trace,
when the database cannot be reached."""

from __future__ import annotations

import os
import subprocess
import sys

import yaml

from services.settings import RUNBOOKS_DIR
from store.db import current_revision, engine_for, head_revision
from store.people import list_people, list_teams


def escalate(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_migrate_then_import_loads_the_directory(empty_database_url, tmp_path):
    env = {"DATA_DIR": str(tmp_path), "DATABASE_URL": empty_database_url}
    migrated = escalate("migrate", **env)
    assert migrated.returncode == 0, migrated.stderr
    engine = engine_for(empty_database_url, tmp_path)
    assert current_revision(engine) == head_revision()
    assert escalate("migrate", **env).returncode == 0  # again: nothing to do

    imported = escalate("import", **env)
    assert imported.returncode == 0, imported.stderr
    directory = yaml.safe_load((RUNBOOKS_DIR / "directory.yaml").read_text())
    assert {p.id for p in list_people(engine)} == {p["id"] for p in directory["people"]}
    assert {t.id for t in list_teams(engine)} == {t["id"] for t in directory["teams"]}
    assert f"imported {len(directory['people'])} people" in imported.stdout


def test_an_unreachable_database_is_one_clear_line_and_exit_1(tmp_path):
    result = escalate(
        "migrate", DATA_DIR=str(tmp_path), DATABASE_URL="postgresql://ops:hunter2@127.0.0.1:1/x"
    )
    assert result.returncode == 1
    assert "cannot migrate the database" in result.stderr and "Traceback" not in result.stderr
    assert "hunter2" not in result.stderr + result.stdout


def test_import_of_a_broken_directory_names_the_problem(tmp_path):
    broken = tmp_path / "directory.yaml"
    broken.write_text(
        "people:\n  - id: alice\n    name: Alice\n    email: alice@example.com\nteams:\n"
        "  - id: ops\n    name: Ops\n    members: [zoe]\n"
    )
    result = escalate("import", str(broken), DATA_DIR=str(tmp_path))
    assert result.returncode == 1 and "zoe" in result.stderr and "Traceback" not in result.stderr


def test_a_server_database_behind_is_refused_and_one_that_is_down_is_not(postgres, tmp_path):
    """A worker must not start on a schema it cannot write, but an outage must not stop
    it from paging: it starts, and recording retries until the database is back."""
    import pytest
    from pydantic import SecretStr

    from services.database import SchemaBehind, open_database
    from services.settings import Settings

    empty = postgres.url(postgres.create_database())  # no schema at all
    behind = Settings(data_dir=tmp_path, database_url=SecretStr(empty))
    with pytest.raises(SchemaBehind, match="escalate migrate"):
        open_database(behind)
    down = Settings(data_dir=tmp_path, database_url=SecretStr("postgresql://ops:pw@127.0.0.1:1/x"))
    assert open_database(down).url.port == 1
