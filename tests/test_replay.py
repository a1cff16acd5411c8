"""Every checked-in history of a real run still replays against today's workflow code.

A change that would break incidents already in flight (a non-deterministic edit
to the workflow or a runbook scenario) fails here, before it reaches a worker.
Record a new history with ``temporal workflow show -w incident-<id> --output json``.
"""

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from workflows.incident import IncidentWorkflow

HISTORIES = sorted((Path(__file__).parent / "histories").glob("*.json"))


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_replay_recorded_history_without_nondeterminism(path: Path):
    history = WorkflowHistory.from_json(f"replay-{path.stem}", path.read_text())
    replayer = Replayer(workflows=[IncidentWorkflow], data_converter=pydantic_data_converter)
    result = await replayer.replay_workflow(history, raise_on_replay_failure=True)
    assert result.replay_failure is None


def test_histories_are_checked_in():
    assert HISTORIES, "no recorded histories: the replay test would prove nothing"
