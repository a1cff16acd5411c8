"""The document activity: the incident record and, on resolution, the incident report.

The record goes to the application database (``activities/record.py``) and to files:

``<id>.json`` is the incident view with its timeline, rewritten at each documented step;
``<id>.md`` is the post-incident report, written once the incident is resolved from what
the database holds (its whole timeline, archived entries included). Both are written
atomically, so a reader never sees half a file. The editable review is in the database
(``/api/incidents/<id>/review``, ``.md`` to export it).
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from pydantic import TypeAdapter
from temporalio import activity

from activities.record import IncidentRecorder
from activities.rendering import TEMPLATES
from workflows import contract
from workflows.activity_models import DocumentRequest, DocumentResult
from workflows.drills import drill_report
from workflows.models import IncidentView, TimelineEntry


class Documenter:
    """Holds where records go: report files, and the database when a recorder is given."""

    def __init__(self, reports: Path, recorder: IncidentRecorder | None = None) -> None:
        self.reports = reports
        self.recorder = recorder
        reports.mkdir(parents=True, exist_ok=True)

    @activity.defn(name=contract.DOCUMENT_INCIDENT)
    async def document_incident(self, request: DocumentRequest) -> DocumentResult:
        incident = request.incident
        if self.recorder is not None:  # a database that is down fails the attempt: Temporal retries
            await asyncio.to_thread(self.recorder.record, incident, request.archive, request.archive_start)
        self._keep_earlier_incident(incident)
        if request.archive:  # a long incident's earlier entries, each batch in a file of its own
            entries = TypeAdapter(list[TimelineEntry]).dump_json(request.archive, indent=2).decode()
            self._write(f"{incident.id}.timeline-{request.archive_start:07d}.json", entries)
        record = self._write(f"{incident.id}.json", incident.model_dump_json(indent=2))
        report = None
        if request.final:  # the report tells what the record holds (the workflow's view without one)
            recorded = incident
            if self.recorder is not None:
                recorded = await asyncio.to_thread(self.recorder.recorded, incident)
            report = self._write(f"{incident.id}.md", render_report(recorded))
        return DocumentResult(record=str(record), report=str(report) if report else None)

    def _keep_earlier_incident(self, incident: IncidentView) -> None:
        """A dedup key reopened after resolution reuses the incident id: move the
        earlier incident's files aside (suffixed with its opening time), never over them."""
        record = self.reports / f"{incident.id}.json"
        if not record.exists():
            return
        try:
            earlier = IncidentView.model_validate_json(record.read_text(encoding="utf-8"))
        except ValueError:
            return
        if earlier.created_at == incident.created_at:
            return
        stamp = earlier.created_at.strftime("%Y%m%dT%H%M%S")
        for suffix in (".json", ".md"):
            old = self.reports / f"{incident.id}{suffix}"
            if old.exists():
                os.replace(old, self.reports / f"{incident.id}.{stamp}{suffix}")

    def _write(self, name: str, text: str) -> Path:
        path = self.reports / name
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        try:
            tmp.write_text(text, encoding="utf-8")
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
        return path


def render_report(incident: IncidentView) -> str:
    """The post-incident report in Markdown: summary, metrics, people, timeline."""
    ack = incident.acknowledged_at or _first(incident, "acknowledged")
    involved = list(
        dict.fromkeys(
            [p.person for p in incident.paged]
            + [e.actor for e in incident.timeline if e.actor not in ("runbook", "api", "email")]
        )
    )
    return TEMPLATES.get_template("report.md").render(
        incident=incident,
        time_to_ack=(ack - incident.created_at) if ack else None,
        time_to_resolve=(incident.resolved_at - incident.created_at) if incident.resolved_at else None,
        tiers_reached=sorted({p.tier for p in incident.paged}),
        involved=involved,
        drill=drill_report(incident) if incident.drill else None,
    )


def _first(incident: IncidentView, kind: str):
    return next((e.at for e in incident.timeline if e.kind == kind), None)
