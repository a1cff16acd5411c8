"""Every checked-in history of a real run still replays against today's workflow code.

A change that would break incidents already in flight (a non-deterministic edit
to the workflow or a runbook scenario) fails here, before it reaches a worker.
Record a new history with ``temporal workflow show -w incident-<id> --output json``;
``python -m harness.record_histories`` records today's set afresh (acknowledged,
exhausted, continued as new with stakeholder updates, resolved by Alertmanager).
The ``plan-people-*`` set was recorded once the plan carried only the people it names
and actions carried the responder's name; the others carry the whole directory. The
``feedback-*`` pair: an incident that asks for feedback when resolved, and the feedback
workflow that asked and reminded; ``oncall-*``: a tier that pages a schedule. The
``per-patch-*`` set was recorded by the last release that marked each patch on its own,
``sla-*`` among them (an SLA clock beside the ladder); the ``settled-*`` set
(``--prefix settled-``) once a new incident marked one patch, the baseline that stands
for all the earlier ones (``workflows/patches.py``).
"""

import base64
import json
import re
from pathlib import Path

import pytest
from temporalio.client import WorkflowHandle

from conftest import update
from runbooks import REGISTRY
from services.opening import prepare, start
from simulation.replay import history_files, replay
from workflows import patches
from workflows.incident import IncidentWorkflow
from workflows.models import IncidentFlag, IncidentRequest, ResponderAction
from workflows.targets import SlaPolicy

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
    found = set().union(*(_patches(text) for text in texts.values()))
    assert {"scenario-journal", "page-delivery-states", "stand-down-emails", "feedback-requests"} <= found
    assert patches.SETTLED | {patches.BASELINE} == found  # every settled id, each alone, and the baseline
    flat = ["".join(text.split()) for text in texts.values()]
    assert any('"workflowType":{"name":"FeedbackWorkflow"}' in text for text in flat)
    assert any(
        '"activityType":{"name":"resolve_oncall"}' in text for text in flat
    )  # a tier paging a schedule
    assert any("workflowExecutionContinuedAsNewEventAttributes" in text for text in texts.values())
    assert any(b'"responder":"alertmanager"' in _payloads(text) for text in texts.values())
    assert "demo_ack_resolve" in texts  # an incident recorded before any of them


async def test_a_new_incident_marks_one_patch_however_many_it_runs(incidents) -> None:
    """Each patch marker is an event and a search-attribute write on the server: a new
    incident, held to SLA targets, paging every tier and standing them down, marks only
    the baseline."""
    request = IncidentRequest(
        title="Checkout is failing", severity="SEV2", service="checkout", runbook="demo"
    )
    policy = SlaPolicy.model_validate(
        {"name": "demo", "targets": {"SEV2": [{"goal": "resolve", "within": "PT1H"}]}}
    )
    data = prepare(request, REGISTRY, incidents.directory, policies={"demo": policy})
    handle: WorkflowHandle = await start(incidents.env.client, data, incidents.settings.task_queue)
    incidents.opened.append(handle)
    await incidents.env.sleep(90)  # every tier paged in turn, then exhausted
    await update(handle, IncidentWorkflow.resolve, ResponderAction(responder="bob"))
    view = await handle.result()
    assert view.sla is not None and {page.tier for page in view.paged} >= {1, 2}
    assert IncidentFlag.RUNBOOK_FAILED not in view.flags  # the demo's own scenario ran
    history = await handle.fetch_history()
    assert _patches(history.to_json()) == {patches.BASELINE}


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
