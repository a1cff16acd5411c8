"""The activities of a simulation, under their real names: they record and send or write nothing."""

from __future__ import annotations

from temporalio import activity

from workflows import contract
from workflows.activity_models import DocumentRequest, DocumentResult, Notification, NotificationResult
from workflows.models import TimelineEntry


class Recorder:
    """Every email the workflow asks for, and every record it writes, kept in memory."""

    def __init__(self) -> None:
        self.emails: list[Notification] = []
        self._archives: dict[str, dict[int, TimelineEntry]] = {}

    @activity.defn(name=contract.SEND_EMAIL)
    async def send_email(self, note: Notification) -> NotificationResult:
        self.emails.append(note)
        return NotificationResult(id=note.id, delivered=True, where="simulation (not sent)")

    @activity.defn(name=contract.DOCUMENT_INCIDENT)
    async def document_incident(self, request: DocumentRequest) -> DocumentResult:
        kept = self._archives.setdefault(request.incident.id, {})
        for offset, entry in enumerate(request.archive):
            kept[request.archive_start + offset] = entry
        return DocumentResult(record="simulation (not written)")

    def archive(self, incident_id: str) -> list[TimelineEntry]:
        """The timeline entries a long incident moved out of its state, in order."""
        kept = self._archives.get(incident_id, {})
        return [kept[index] for index in sorted(kept)]
