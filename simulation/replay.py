"""Replay recorded histories against the working tree's workflow code.

A history is the JSON Temporal writes for one workflow run (``temporal workflow show
--output json``, or ``escalate export-histories``). Replaying it runs today's workflow and
runbook code over yesterday's events: a change that would break an incident already in
flight (a non-deterministic edit) fails here, before it reaches a worker.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from workflows.feedback import FeedbackWorkflow
from workflows.incident import IncidentWorkflow
from workflows.shift_watch import ShiftWatchWorkflow

SHIPPED_HISTORIES = Path("tests/histories")
EXPORTED_HISTORIES = Path("histories")  # where ``escalate export-histories`` writes by default


@dataclass(frozen=True)
class Replayed:
    path: Path
    failure: str | None  # None: it replayed without a difference

    def __str__(self) -> str:
        return f"{self.path}: " + ("ok" if self.failure is None else f"NOT REPLAYABLE: {self.failure}")


def history_files(folders: Iterable[Path]) -> list[Path]:
    """Every ``*.json`` history under the folders that exist, in a fixed order."""
    return sorted({path for folder in folders if folder.is_dir() for path in folder.rglob("*.json")})


async def replay(path: Path) -> Replayed:
    """Replay one history file with today's workflows (incident, feedback, shift watch)."""
    try:
        history = WorkflowHistory.from_json(f"replay-{path.stem}", path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return Replayed(path, f"cannot be read as a history: {exc}")
    replayer = Replayer(
        workflows=[IncidentWorkflow, FeedbackWorkflow, ShiftWatchWorkflow],
        data_converter=pydantic_data_converter,
    )
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    failure = result.replay_failure
    return Replayed(path, None if failure is None else f"{type(failure).__name__}: {failure}")
