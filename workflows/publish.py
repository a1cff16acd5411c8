"""What is seen of an incident outside its workflow: the search attributes and current
details the Temporal UI and its list show (kept in step with the record), and the record
and report the document activity writes."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import SearchAttributeUpdate

from workflows import contract, patches
from workflows.activity_models import DocumentRequest
from workflows.models import IncidentFlag, TimelineEntry
from workflows.record import IncidentRecord

_UNSET = object()


def publish(record: IncidentRecord, shown: dict[str, object]) -> None:
    """Upsert the search attributes that changed and set the current details from ``record``.

    ``shown`` holds the values this run last upserted (by attribute name): an unchanged
    attribute is not sent again, as each upsert is one more event in the history and
    one more write to the server's visibility store."""
    tier = record.tier
    updates: list[SearchAttributeUpdate[Any]] = [
        contract.STATE.value_set(record.state.value),
        contract.TIER.value_set(tier.number if tier else 0),
    ]
    if patches.patched(patches.SEARCHABLE):
        updates.append(contract.FLAGS.value_set([f.value for f in sorted(record.flags)]))
        updates.append(contract.RESPONDERS.value_set(record.responders()))
    if record.sla is not None:  # only incidents held to targets carry these
        updates.append(contract.SLA_BREACHED.value_set(record.sla.breached))
    fresh = patches.patched(patches.CHANGES)
    changed = [u for u in updates if not fresh or shown.get(u.key.name, _UNSET) != u.value]
    if changed:
        workflow.upsert_search_attributes(changed)
        shown.update((u.key.name, u.value) for u in changed)
    lines = [f"**{record.state.value}**" + (" (all tiers exhausted)" if record.exhausted else "")]
    if IncidentFlag.RUNBOOK_FAILED in record.flags:
        lines.append("Runbook failed: the plan is walked plainly (see the timeline)")
    if tier:
        lines.append(f"Tier {tier.number}: {tier.name}")
    if record.acknowledged_by:
        lines.append(f"Acknowledged by {record.acknowledged_by}")
    if record.sla is not None:
        due = [t for t in record.sla.targets if t.open]
        late = [t.goal.value for t in record.sla.targets if t.breached_at]
        if due:
            lines.append("Due: " + ", ".join(f"{t.goal.value} by {t.due:%H:%M} UTC" for t in due))
        if late:
            lines.append("SLA breached: " + ", ".join(late))
    workflow.set_current_details("\n\n".join(lines))


async def document(
    record: IncidentRecord,
    final: bool = False,
    archive: list[TimelineEntry] | None = None,
    archive_start: int = 0,
) -> None:
    """Have the document activity write the record (and, when ``final``, the report)."""
    request = DocumentRequest(
        incident=record.view(), final=final, archive=archive or [], archive_start=archive_start
    )
    summary = "archive earlier timeline" if archive else "update incident record"
    await workflow.execute_activity(
        contract.DOCUMENT_INCIDENT,
        request,
        start_to_close_timeout=timedelta(seconds=30),
        summary="write incident report" if final else summary,
    )
