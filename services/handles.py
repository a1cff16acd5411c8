"""Talking to one incident's workflow handle: its view, and updates sent to it, with every
Temporal failure turned into a domain error (``services.temporal.temporal_calls``)."""

from __future__ import annotations

from datetime import datetime, timedelta

from temporalio.client import WorkflowHandle

from services.temporal import temporal_calls
from workflows import contract
from workflows.errors import AlreadyResolved, UnknownIncident
from workflows.models import IncidentView, Note, ResponderAction
from workflows.vocabulary import Action, EventKind

RPC_TIMEOUT = timedelta(seconds=10)


async def view_of(handle: WorkflowHandle) -> IncidentView:
    with temporal_calls():
        return await handle.query(contract.GET_INCIDENT, result_type=IncidentView, rpc_timeout=RPC_TIMEOUT)


async def update(
    handle: WorkflowHandle, action: Action | str, body: ResponderAction, update_id: str | None
) -> IncidentView:
    try:
        return await execute(handle, action, body, update_id)
    except UnknownIncident:
        # A resolved incident's workflow has completed: updates find no running
        # execution. Tell the caller why, rather than "not found".
        view = await view_of(handle)
        raise AlreadyResolved(f"incident already resolved by {view.resolved_by}") from None


async def execute(
    handle: WorkflowHandle, action: Action | str, body: ResponderAction, update_id: str | None
) -> IncidentView:
    with temporal_calls():
        return await handle.execute_update(
            str(action), body, id=update_id, result_type=IncidentView, rpc_timeout=RPC_TIMEOUT
        )


def count_notes(view: IncidentView, note: Note) -> int:
    return sum(
        e.kind == EventKind.NOTE and e.actor == note.author and e.detail == note.text for e in view.timeline
    )


def acted_at(view: IncidentView, action: Action) -> datetime | None:
    """When ``action`` last took effect on the incident (for "Acknowledged by … at …")."""
    return next((e.at for e in reversed(view.timeline) if e.kind == action.event), None)
