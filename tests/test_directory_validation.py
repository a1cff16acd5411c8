"""A broken directory or a runbook naming someone unknown is refused before any incident
runs, and the message names the culprit: ``load_directory`` names the team, member,
person or file; ``problems()`` names the runbook and the reference; ``escalate validate``
passes on what ships and fails with exit code 1 and the problem on stderr otherwise."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from runbooks import REGISTRY
from runbooks.directory import DirectoryError, load_directory
from services.settings import RUNBOOKS_DIR
from services.validate import problems
from workflows.models import Incident
from workflows.runbook import PlanSpec, Registry, Runbook, TierSpec

PROJECT = Path(__file__).resolve().parent.parent
SHIPPED = RUNBOOKS_DIR / "directory.yaml"
ALICE = {"id": "alice", "name": "Alice Martin", "email": "alice@example.com"}
BOB = {"id": "bob", "name": "Bob Chen", "email": "bob@example.com"}


def write(tmp_path: Path, data: dict) -> Path:
    path = tmp_path / "directory.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def test_name_team_and_member_when_member_is_not_a_person(tmp_path):
    path = write(
        tmp_path,
        {"people": [ALICE], "teams": [{"id": "oncall", "name": "On call", "members": ["alice", "zoe"]}]},
    )
    with pytest.raises(DirectoryError, match=r"team 'oncall': member 'zoe' is not a person"):
        load_directory(path)


def test_name_person_when_email_is_invalid(tmp_path):
    path = write(tmp_path, {"people": [ALICE, {**BOB, "email": "bob-at-example"}]})
    with pytest.raises(DirectoryError) as raised:
        load_directory(path)
    assert "person 'bob'" in str(raised.value) and "email" in str(raised.value)
    assert "alice" not in str(raised.value)


def test_name_person_when_id_is_duplicated(tmp_path):
    path = write(tmp_path, {"people": [ALICE, BOB, {**ALICE, "email": "other@example.com"}]})
    with pytest.raises(DirectoryError, match=r"person 'alice' is listed twice"):
        load_directory(path)


def test_name_path_when_directory_file_is_missing(tmp_path):
    missing = tmp_path / "nowhere" / "directory.yaml"
    with pytest.raises(DirectoryError) as raised:
        load_directory(missing)
    assert str(missing) in str(raised.value)


class NobodyRunbook(Runbook):
    name = "pages-nobody"

    def plan(self, incident: Incident) -> PlanSpec:
        return PlanSpec(tiers=[TierSpec("first", ("person:nobody",), timedelta(minutes=5))])


def test_report_runbook_and_reference_when_target_is_unknown():
    registry = Registry(default=NobodyRunbook.name)
    registry.register(NobodyRunbook())
    found = problems(registry, load_directory(SHIPPED))
    assert found and all("pages-nobody" in p and "person:nobody" in p for p in found)


def test_find_no_problems_in_shipped_runbooks_and_directory():
    assert problems(REGISTRY, load_directory(SHIPPED)) == []


def validate(**env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k != "DIRECTORY_FILE"}
    return subprocess.run(
        [sys.executable, "-m", "cli", "validate"],
        cwd=PROJECT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_exit_zero_and_list_runbooks_when_validating_shipped_files():
    result = validate()
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    listed = [line.split(":")[0] for line in lines if line.startswith("runbook ") and "plans ok" in line]
    assert listed == ["runbook default", "runbook demo", "runbook security-breach"]
    ran = sorted(line.split(":")[0] for line in lines if line.endswith(": scenario ok"))
    assert ran == listed  # and every scenario ran


def test_exit_one_and_name_problem_when_directory_lacks_a_person(tmp_path):
    shipped = yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))
    shipped["people"] = [p for p in shipped["people"] if p["id"] != "ciso"]
    result = validate(DIRECTORY_FILE=str(write(tmp_path, shipped)))
    assert result.returncode == 1
    assert "runbook 'security-breach'" in result.stderr and "person:ciso" in result.stderr
    assert "runbook demo: ok" not in result.stdout
