"""Drills: ``POST /api/incidents`` with ``"drill": true`` runs a real incident that pages
real people with DRILL in every subject and body, is left out of every metric (the JSON
metrics, Prometheus, the metrics page's daily figures), is still listed (marked), and
reports how the team did: time to acknowledge per tier paged."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families
from pydantic import ValidationError

from activities.document import render_report
from activities.record import IncidentRecorder
from conftest import serve_api
from email_helpers import until
from hostile import sign_in
from services.prometheus import exposition
from services.settings import Settings
from store.db import engine_for, migrate
from store.incidents import get_incident
from store.reports import metrics
from store.trends import daily
from test_alertmanager import alert, group
from workflows.drills import drill_report
from workflows.models import IncidentRequest, IncidentView, Page, Severity, State, TimelineEntry

T0 = datetime(2026, 11, 16, 3, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)
DRILL = {
    "title": "Checkout drill",
    "severity": "SEV2",
    "service": "checkout",
    "runbook": "demo",
    "drill": True,
}


def view(number: int, drill: bool, **fields) -> IncidentView:
    """A resolved incident: Alice paged at T0, Bob at +5 min, Bob acknowledged at +7m10s."""
    ack = T0 + 7 * MIN + timedelta(seconds=10)
    base = {
        "id": f"inc-{number}",
        "title": "Checkout is failing",
        "severity": Severity.SEV2,
        "service": "checkout",
        "runbook": "demo",
        "state": State.RESOLVED,
        "created_at": T0,
        "paged": [Page(person="alice", tier=1, at=T0), Page(person="bob", tier=2, at=T0 + 5 * MIN)],
        "acknowledged_by": "bob",
        "acknowledged_at": ack,
        "resolved_by": "bob",
        "resolved_at": T0 + 20 * MIN,
        "timeline": [TimelineEntry(at=ack, kind="acknowledged", actor="bob")],
        "drill": drill,
    }
    return IncidentView(**(base | fields))


# -- the report: a pure function ---------------------------------------------------


def test_the_report_gives_time_to_acknowledge_per_tier():
    report = drill_report(view(1, drill=True))
    assert report.lines == [
        "tier 1 paged at +0s (alice): not acknowledged in 5m 00s (next tier paged)",
        "tier 2 paged at +5m 00s (bob): acknowledged by bob 2m 10s after their page",
    ]
    first, second = report.tiers
    assert (first.acknowledged_by, first.unanswered_seconds) == (None, 300.0)
    assert (second.acknowledged_by, second.acknowledged_after_seconds, second.paged_after_seconds) == (
        "bob",
        130.0,
        300.0,
    )
    assert report.seconds_to_acknowledge == 430.0 and report.seconds_to_resolve == 1200.0
    assert report.resolved


def test_the_report_of_an_open_drill_counts_the_last_wait_up_to_now():
    still_open = view(
        2,
        drill=True,
        state=State.TRIGGERED,
        acknowledged_by=None,
        acknowledged_at=None,
        resolved_by=None,
        resolved_at=None,
        timeline=[],
    )
    report = drill_report(still_open, now=T0 + 8 * MIN)
    assert report.lines[1] == "tier 2 paged at +5m 00s (bob): not acknowledged in 3m 00s"
    assert not report.resolved and report.seconds_to_acknowledge is None
    assert drill_report(still_open).lines[1] == "tier 2 paged at +5m 00s (bob): not acknowledged yet"


def test_a_colleague_who_steps_in_answers_the_latest_tier_paged():
    # Carol was never paged; she acknowledges after tier 2 was paged: tier 2 is answered.
    carol = view(3, drill=True, acknowledged_by="carol", timeline=[])
    assert carol.acknowledged_at is not None
    report = drill_report(carol)
    assert report.lines[1] == "tier 2 paged at +5m 00s (bob): acknowledged by carol 2m 10s after bob's page"


def test_the_report_file_of_a_drill_says_drill_and_how_the_team_did():
    report = render_report(view(4, drill=True))
    assert report.startswith("# DRILL - Incident report")
    assert "## How the team did" in report
    assert "acknowledged by bob 2m 10s after their page" in report
    assert "DRILL" not in render_report(view(5, drill=False))


def test_a_drill_must_be_true_or_false():
    assert IncidentRequest(title="t", severity="SEV2", service="checkout").drill is False
    for bad in ("yes", "true", 1, None, [True]):
        with pytest.raises(ValidationError):
            IncidentRequest(title="t", severity="SEV2", service="checkout", drill=bad)


# -- the record: drills are left out of every metric, on SQLite and PostgreSQL ------


@pytest.fixture
def recorded(database_url, tmp_path):
    engine = engine_for(database_url, tmp_path)
    recorder = IncidentRecorder(engine)
    recorder.record(view(1, drill=False))
    recorder.record(view(2, drill=True, severity=Severity.SEV1, acknowledged_at=T0 + MIN))
    yield engine
    engine.dispose()


def test_the_record_keeps_the_drill_flag(recorded):
    assert get_incident(recorded, "inc-2").drill is True  # type: ignore[union-attr]
    assert get_incident(recorded, "inc-1").drill is False  # type: ignore[union-attr]


def test_metrics_leave_drills_out(recorded):
    result = metrics(recorded, T0 - timedelta(days=1), T0 + timedelta(days=1))
    assert result.incidents == 1
    assert result.mtta_seconds.count == 1 and result.mtta_seconds.p50 == 430.0  # not the drill's 60 s
    assert result.pages_per_person["alice"].sleep == 1  # the drill paged Alice too: not counted
    assert metrics(recorded, T0 - timedelta(days=1), T0 + timedelta(days=1), severity="SEV1").incidents == 0
    [day] = [d for d in daily(recorded, T0 - timedelta(days=1), T0 + timedelta(days=1)) if d.incidents]
    assert day.incidents == 1


def test_prometheus_leaves_drills_out(recorded):
    recorder = IncidentRecorder(recorded)
    open_drill = view(3, drill=True, state=State.TRIGGERED, resolved_by=None, resolved_at=None)
    recorder.record(open_drill.model_copy(update={"acknowledged_by": None, "acknowledged_at": None}))
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(exposition(recorded).decode())
        for s in family.samples
    }
    assert samples[("escalation_incidents_total", (("severity", "SEV2"),))] == 1
    assert ("escalation_incidents_total", (("severity", "SEV1"),)) not in samples
    assert samples[("escalation_pages_total", (("severity", "SEV2"),))] == 2
    assert samples[("escalation_open_incidents", (("state", "triggered"),))] == 0


async def test_the_metrics_endpoints_count_the_real_incident_not_the_drill(tmp_path):
    engine = engine_for(None, tmp_path)
    migrate(engine)
    recorder = IncidentRecorder(engine)
    recorder.record(view(1, drill=False))
    recorder.record(view(2, drill=True, severity=Severity.SEV1))
    async with serve_api(Settings(data_dir=tmp_path, api_keys="k"), key="k") as api:
        answer = await api.get("/api/metrics", params={"since": "2026-11-15", "until": "2026-11-17"})
        assert answer.status_code == 200 and answer.json()["incidents"] == 1
        text = (await api.get("/metrics")).text
        assert 'escalation_incidents_total{severity="SEV2"} 1.0' in text
        assert 'severity="SEV1"' not in text
    engine.dispose()


# -- through the API, a real worker and the SendGrid double -------------------------


@pytest.fixture
async def drill_api(dev_env, tmp_path, sendgrid):
    """The API and a worker on the dev server, sending email through the SendGrid double."""
    double = sendgrid(202)
    settings = Settings(
        data_dir=tmp_path,
        task_queue=f"drill-{uuid.uuid4()}",
        api_keys="test-key",
        temporal_address=dev_env.client.service_client.config.target_host,
        sendgrid_api_key="SG.test",
        sendgrid_host=double.url,
        sendgrid_timeout=2,
        feedback_requests=False,
    )
    async with serve_api(settings, "test-key", worker=dev_env.client) as client:
        client.double = double
        yield client


def emails_to(double, address: str) -> list[dict]:
    return [r.body for r in double.accepted() if r.recipient == address]


async def test_a_drill_pages_real_people_with_drill_in_every_email_and_reports_per_tier(drill_api):
    api, double = drill_api, drill_api.double
    opened = await api.post("/api/incidents", json=DRILL)
    assert opened.status_code == 201, opened.text
    incident_id = opened.json()["id"]

    # Alice (tier 1) is paged at once, Bob (tier 2) ten seconds later: both emails say DRILL.
    assert await until(lambda: emails_to(double, "bob@example.com"), timeout=30)
    [alice_page] = emails_to(double, "alice@example.com")
    assert alice_page["subject"].startswith("[DRILL] [SEV2] checkout: Checkout drill")
    text, html = (c["value"] for c in alice_page["content"])
    assert "DRILL: this is a training exercise, not a real outage" in text
    assert "<strong>DRILL</strong>: this is a training exercise" in html
    assert emails_to(double, "bob@example.com")[0]["subject"].startswith("[DRILL]")

    read = (await api.get(f"/api/incidents/{incident_id}")).json()
    assert read["drill"] is True
    listed = (await api.get("/api/incidents", params={"service": "checkout"})).json()
    assert [row["drill"] for row in listed if row["id"] == incident_id] == [True]

    # The link in the email opens a page that says DRILL; so do the signed-in pages.
    link = re.search(r"Acknowledge: (\S+)", text).group(1)  # type: ignore[union-attr]
    confirm = await api.get(link.removeprefix(api.settings.public_url))
    assert confirm.status_code == 200 and "<strong>DRILL</strong>: a training exercise" in confirm.text
    await sign_in(api)
    page = await api.get(f"/incidents/{incident_id}")
    assert page.status_code == 200 and "<strong>DRILL</strong>: a training exercise" in page.text
    assert "[DRILL]</strong> <strong>Checkout drill" in (await api.get("/incidents")).text

    for action in ("acknowledge", "resolve"):
        done = await api.post(f"/api/incidents/{incident_id}/{action}", json={"responder": "bob"})
        assert done.status_code == 200, done.text

    report = await api.get(f"/api/incidents/{incident_id}/drill-report")
    assert report.status_code == 200, report.text
    first, second = report.json()["tiers"]
    assert (first["tier"], first["people"], first["acknowledged_by"]) == (1, ["alice"], None)
    assert first["unanswered_seconds"] == pytest.approx(10, abs=3)  # until tier 2 was paged
    assert (second["tier"], second["acknowledged_by"]) == (2, "bob")
    assert report.json()["lines"][1].startswith("tier 2 paged at +1")
    assert "acknowledged by bob" in report.json()["lines"][1]

    # Alice's stand-down at the resolution says DRILL and carries the report.
    async def resolved_notice():
        return [m for m in emails_to(double, "alice@example.com") if "resolved" in m["subject"]]

    [notice] = await until(resolved_notice, timeout=30)
    assert notice["subject"].startswith("[DRILL]")
    text = notice["content"][0]["value"]
    assert "How the team did (time to acknowledge per tier):" in text
    assert "acknowledged by bob" in text and "(alice): not acknowledged in" in text

    # The record marks it a drill, and the metrics leave it out.
    engine = engine_for(None, api.settings.data_dir)

    def stored():
        row = get_incident(engine, incident_id)
        return row if row is not None and row.state == "resolved" else None

    row = await until(stored, timeout=30)
    assert row is not None and row.drill is True
    numbers = (await api.get("/api/metrics")).json()
    assert numbers["incidents"] == 0
    engine.dispose()


async def test_a_real_incident_has_no_drill_report_and_bad_drill_values_are_refused(drill_api):
    api = drill_api
    real = await api.post("/api/incidents", json={**DRILL, "drill": False, "title": "Real"})
    assert real.status_code == 201
    incident_id = real.json()["id"]
    answer = await api.get(f"/api/incidents/{incident_id}/drill-report")
    assert answer.status_code == 404 and "not a drill" in answer.json()["detail"]
    unknown = await api.get("/api/incidents/nosuchincident/drill-report")
    assert unknown.status_code == 404
    assert (await api.get(f"/api/incidents/{incident_id}")).json()["drill"] is False
    for bad in ("yes", 1, None, {"on": True}):
        refused = await api.post("/api/incidents", json={**DRILL, "drill": bad})
        assert refused.status_code == 422, (bad, refused.text)
        assert any(error["loc"][-1] == "drill" for error in refused.json()["detail"])
    await api.post(f"/api/incidents/{incident_id}/resolve", json={"responder": "bob"})


async def test_alertmanager_never_opens_a_drill(drill_api):
    api = drill_api
    fired = alert(service="checkout", drill="true", annotations={"drill": "true"})
    payload = group(fired)
    answer = await api.post("/api/integrations/alertmanager", json=payload)
    assert answer.status_code == 200, answer.text
    [opened] = answer.json()["incidents"]
    read = (await api.get(f"/api/incidents/{opened['id']}")).json()
    assert read["drill"] is False and read["labels"]["drill"] == "true"
    assert (await api.get(f"/api/incidents/{opened['id']}/drill-report")).status_code == 404
    await api.post(f"/api/incidents/{opened['id']}/resolve", json={"responder": "bob"})
