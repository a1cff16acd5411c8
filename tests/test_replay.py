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

from simulation.replay import history_files, replay

HISTORIES = history_files([Path(__file__).parent / "histories"])


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_replay_recorded_history_without_nondeterminism(path: Path):
    replayed = await replay(path)
    assert replayed.failure is None, str(replayed)


async def test_a_history_that_no_longer_replays_is_named(tmp_path: Path):
    """A history whose recorded timer differs from what the code does now: a failure, named."""
    source = (Path(__file__).parent / "histories" / "demo_ack_resolve.json").read_text()
    events = json.loads(source)
    started = [e for e in events["events"] if "timerStartedEventAttributes" in e]
    assert started, "the demo history starts a timer"
    # The code schedules an activity where this history now says a timer started.
    started[0].pop("timerStartedEventAttributes")
    started[0]["eventType"] = "EVENT_TYPE_MARKER_RECORDED"
    started[0]["markerRecordedEventAttributes"] = {"markerName": "not-ours"}
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps(events))
    replayed = await replay(broken)
    assert replayed.failure is not None and "NOT REPLAYABLE" in str(replayed)


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
