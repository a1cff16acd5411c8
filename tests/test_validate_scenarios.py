"""``escalate validate`` runs every runbook's scenario, not only its plan.

Each runbook runs as a real incident on a time-skipping test server, for every
severity and sample service, under two scripts (nobody acknowledges; the first
person paged acknowledges), with activities that send and write nothing; a
scenario that fails is reported with the runbook's name, file and line.
"""

from __future__ import annotations

import inspect
import subprocess
import sys
from pathlib import Path

import pytest

import scenario_runbooks
from services.validate import scenario_problems

pytestmark = pytest.mark.slow  # real servers or long runs: left out of make test-fast

PROJECT = Path(__file__).resolve().parent.parent


def line_of(runbook: type, text: str) -> int:
    lines, first = inspect.getsourcelines(runbook.run)
    return first + next(i for i, line in enumerate(lines) if text in line)


async def test_a_tier_name_typo_in_run_is_reported_with_runbook_file_and_line(directory):
    progress: list[str] = []
    found = await scenario_problems(directory, scenario_runbooks.MODULE, progress=progress.append)

    [typo] = [p for p in found if "runbook 'typo'" in p]
    line = line_of(scenario_runbooks.TypoRunbook, 'esc.tier("secuirty")')
    assert f"tests/scenario_runbooks.py:{line}: runbook 'typo': KeyError: " in typo
    assert "no tier named 'secuirty'" in typo
    assert "(8 of 8 runs" in typo  # 4 severities x 1 sample service x 2 scripts
    assert "runbook typo: scenario 1 problem(s)" in progress
    assert "runbook steady: scenario ok" in progress
    assert not [p for p in found if "runbook 'steady'" in p]
    # The refusals of the sandbox are reported the same way.
    assert [p for p in found if "runbook 'clock'" in p and "datetime.datetime.now is not allowed" in p]


async def test_both_scripts_run_each_reaching_its_own_branch(directory):
    found = await scenario_problems(directory, scenario_runbooks.MODULE)

    branches = sorted(p for p in found if "runbook 'branches'" in p)
    assert len(branches) == 2
    acknowledged, exhausted = sorted(branches, key=lambda p: "RuntimeError" not in p)
    assert "reached only after an acknowledgement" in acknowledged
    assert "(4 of 8 runs, e.g. SEV1 example, acknowledged at the first page)" in acknowledged
    assert "reached only once every tier was paged in vain" in exhausted
    assert "(4 of 8 runs, e.g. SEV1 example, nobody acknowledges)" in exhausted


def test_escalate_validate_passes_on_the_shipped_runbooks():
    result = subprocess.run(
        [sys.executable, "-m", "cli", "validate"],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    for name in ("default", "demo", "security-breach"):
        assert f"runbook {name}: plans ok" in result.stdout
        assert f"runbook {name}: scenario ok" in result.stdout
    assert "ok: 3 runbooks planned and run" in result.stdout
