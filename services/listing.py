"""The incident list: one row per incident, from Temporal visibility (no workflow query)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel
from temporalio.client import WorkflowExecution

from workflows import contract
from workflows.models import IncidentFlag, Severity, State


class IncidentSummary(BaseModel):
    """One row of the incident list, read from Temporal visibility (no workflow query)."""

    id: str
    title: str
    severity: Severity
    service: str
    state: State
    tier: int
    runbook: str
    opened_at: datetime
    flags: list[IncidentFlag] = []
    drill: bool = False  # a training run (left out of the metrics)


def visibility_query(
    state: State | None,
    severity: Severity | None,
    service: str | None,
    responder: str | None,
    flag: IncidentFlag | None,
) -> str:
    """The visibility query for these filters. ``service`` and ``responder`` must have
    matched the slug pattern: nothing can escape the query's quotes."""
    # A long incident continues as new: only the last run of each stands for it.
    clauses = [f"WorkflowType = '{contract.WORKFLOW_NAME}'", "ExecutionStatus != 'ContinuedAsNew'"]
    filters = (
        (contract.STATE, state),
        (contract.SEVERITY, severity),
        (contract.SERVICE, service),
        (contract.RESPONDERS, responder),
        (contract.FLAGS, flag),
    )
    clauses += [f"{key.name} = '{value}'" for key, value in filters if value is not None]
    return " AND ".join(clauses)


async def summary(execution: WorkflowExecution) -> IncidentSummary:
    attributes = execution.typed_search_attributes
    memo = await execution.memo()
    return IncidentSummary(
        id=memo.get("incident_id") or execution.id.removeprefix("incident-"),
        title=memo.get("title", ""),
        severity=Severity(attributes.get(contract.SEVERITY) or Severity.SEV4),
        service=attributes.get(contract.SERVICE) or "",
        state=State(attributes.get(contract.STATE) or State.TRIGGERED),
        tier=attributes.get(contract.TIER) or 0,
        runbook=attributes.get(contract.RUNBOOK) or "",
        opened_at=execution.start_time,
        flags=[IncidentFlag(f) for f in attributes.get(contract.FLAGS) or []],
        drill=memo.get("drill") is True,
    )
