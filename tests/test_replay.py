"""Every checked-in history of a real run still replays against today's workflow code.

A change that would break incidents already in flight (a non-deterministic edit
to the workflow or a runbook scenario) fails here, before it reaches a worker.
Record a new history with ``temporal workflow show -w incident-<id> --output json``;
``python -m harness.record_histories`` records today's set afresh (acknowledged,
exhausted, continued as new with stakeholder updates, resolved by Alertmanager).
The ``plan-people-*`` set was recorded once the plan carried only the people it names
and actions carried the responder's name; the others carry the whole directory. The
``feedback-*`` pair: an incident that asks for feedback when resolved, and the feedback
workflow that asked and reminded; ``oncall-*``: a tier that pages a schedule.
"""

import base64
import json
import re
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from workflows.feedback import FeedbackWorkflow
from workflows.incident import IncidentWorkflow
from workflows.shift_watch import ShiftWatchWorkflow

HISTORIES = sorted((Path(__file__).parent / "histories").glob("*.json"))


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_replay_recorded_history_without_nondeterminism(path: Path):
    history = WorkflowHistory.from_json(f"replay-{path.stem}", path.read_text())
    replayer = Replayer(
        workflows=[IncidentWorkflow, FeedbackWorkflow, ShiftWatchWorkflow],
        data_converter=pydantic_data_converter,
    )
    result = await replayer.replay_workflow(history, raise_on_replay_failure=True)
    assert result.replay_failure is None


def test_histories_are_checked_in():
    assert HISTORIES, "no recorded histories: the replay test would prove nothing"


def test_histories_cover_todays_workflow():
    """Besides the oldest one, histories recorded with every patch of today's workflow,
    across a continue-as-new, and resolved by the intake."""
    texts = {path.stem: path.read_text() for path in HISTORIES}
    patches = set().union(*(_patches(text) for text in texts.values()))
    assert {"scenario-journal", "page-delivery-states", "stand-down-emails", "feedback-requests"} <= patches
    flat = ["".join(text.split()) for text in texts.values()]
    assert any('"workflowType":{"name":"FeedbackWorkflow"}' in text for text in flat)
    assert any(
        '"activityType":{"name":"resolve_oncall"}' in text for text in flat
    )  # a tier paging a schedule
    assert any("workflowExecutionContinuedAsNewEventAttributes" in text for text in texts.values())
    assert any(b'"responder":"alertmanager"' in _payloads(text) for text in texts.values())
    assert "demo_ack_resolve" in texts  # an incident recorded before any of them


def _patches(text: str) -> set[str]:
    """The patch ids a history's markers record."""
    found = set()
    for event in json.loads(text)["events"]:
        marker = event.get("markerRecordedEventAttributes")
        if marker and marker.get("markerName") == "core_patch":
            for payload in marker["details"].values():
                found.add(json.loads(base64.b64decode(payload["payloads"][0]["data"]))["id"])
    return found


def _payloads(text: str) -> bytes:
    """Every payload of a history, decoded (updates' arguments, results, inputs)."""
    return b"\n".join(base64.b64decode(data) for data in re.findall(r'"data": ?"([A-Za-z0-9+/=]+)"', text))
