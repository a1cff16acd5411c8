"""Resolving an incident ends its workflow and leaves a record behind: the report
`<id>.md` (times to acknowledge and resolve, the timeline) and the record `<id>.json`.
A hostile title is escaped in the emails and the report, never rendered as markup."""

import json
from datetime import UTC, datetime, timedelta

from activities.document import Documenter
from conftest import update
from workflows.activity_models import DocumentRequest
from workflows.incident import IncidentWorkflow
from workflows.models import IncidentView, ResponderAction, Severity, State

HOSTILE = "<script>alert(1)</script>"


def report_rows(report: str) -> dict[str, str]:
    """The summary table of the report, as {label: value}."""
    rows = {}
    for line in report.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) == 2:
            rows[cells[0]] = cells[1]
    return rows


async def test_resolve_ends_workflow_and_writes_report(env, incidents, settings):
    handle = await incidents.open(runbook="demo", title="Checkout is failing")
    await env.sleep(timedelta(seconds=3))
    await update(handle, IncidentWorkflow.acknowledge, ResponderAction(responder="alice"))
    await env.sleep(timedelta(seconds=5))
    await update(handle, IncidentWorkflow.resolve, ResponderAction(responder="alice", note="rolled back"))

    view = await handle.result()
    assert view.state == State.RESOLVED and view.resolved_by == "alice"
    assert view.acknowledged_by == "alice"
    assert timedelta(seconds=5) <= view.resolved_at - view.acknowledged_at < timedelta(seconds=6)

    report = (settings.reports / f"{view.id}.md").read_text()
    assert report.startswith("# Incident report: Checkout is failing\n")
    rows = report_rows(report)
    # created_at is the opener's clock; the workflow times are the (skipped) server's.
    to_ack = view.acknowledged_at - view.created_at
    to_resolve = view.resolved_at - view.created_at
    assert rows["Time to acknowledge"] == _duration(to_ack)
    assert rows["Time to resolve"] == _duration(to_resolve)
    assert rows["Acknowledged"].endswith("by alice") and rows["Resolved"].endswith("by alice")
    assert rows["Tiers reached"] == "1" and rows["Every tier exhausted"] == "no"

    timeline = report.split("## Timeline", 1)[1]
    kinds = [line.split("|")[2].strip() for line in timeline.splitlines() if line.startswith("| 2")]
    assert kinds == ["triggered", "oncall", "paging", "paged", "acknowledged", "resolved"]
    assert "| resolved | alice | rolled back |" in timeline

    record = json.loads((settings.reports / f"{view.id}.json").read_text())
    assert IncidentView.model_validate(record) == view


async def test_report_exhausted_incident_before_resolution(env, incidents, settings):
    handle = await incidents.open(runbook="demo")
    await env.sleep(timedelta(seconds=31))
    view = await handle.query(IncidentWorkflow.incident)
    assert view.exhausted

    record = json.loads((settings.reports / f"{view.id}.json").read_text())
    assert record["exhausted"] is True and record["state"] == "triggered"
    assert not (settings.reports / f"{view.id}.md").exists()  # the report waits for resolution

    await update(handle, IncidentWorkflow.resolve, ResponderAction(responder="carol"))
    await handle.result()
    rows = report_rows((settings.reports / f"{view.id}.md").read_text())
    assert rows["Every tier exhausted"] == "yes" and rows["Time to acknowledge"] == "-"
    assert rows["Tiers reached"] == "1, 2, 3"


async def test_escape_hostile_title_in_email_and_report(env, incidents, outbox, settings):
    handle = await incidents.open(runbook="demo", title=HOSTILE)
    await env.sleep(timedelta(seconds=1))
    [message] = outbox.messages()
    [html] = [part["value"] for part in message["content"] if part["type"] == "text/html"]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script" not in html

    await update(handle, IncidentWorkflow.resolve, ResponderAction(responder="alice"))
    view = await handle.result()
    report = (settings.reports / f"{view.id}.md").read_text()
    assert HOSTILE not in report and "<script>" not in report
    # Markdown backslash escapes: a renderer shows the title as text, not as a tag.
    assert "# Incident report: \\<script\\>alert(1)\\</script\\>\n" in report


def _duration(value: timedelta) -> str:
    """The report's "Xm YYs" / "Hh MMm SSs" format, written out independently."""
    seconds = int(value.total_seconds())
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}h {minutes:02d}m {seconds:02d}s" if hours else f"{minutes}m {seconds:02d}s"


async def test_document_reopened_dedup_incident_keeps_earlier_report(tmp_path):
    documenter = Documenter(tmp_path)
    opened = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    earlier = IncidentView(
        id="dabc",
        title="Disk full",
        severity=Severity.SEV3,
        service="db",
        runbook="default",
        state=State.RESOLVED,
        created_at=opened,
    )
    later = earlier.model_copy(update={"created_at": opened + timedelta(days=1), "state": State.TRIGGERED})
    await documenter.document_incident(DocumentRequest(incident=earlier, final=True))
    await documenter.document_incident(DocumentRequest(incident=later))
    assert (tmp_path / "dabc.20260102T030405.md").exists()
    assert (tmp_path / "dabc.20260102T030405.json").exists()
    current = IncidentView.model_validate_json((tmp_path / "dabc.json").read_text())
    assert current.created_at == later.created_at
