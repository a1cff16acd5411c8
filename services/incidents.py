"""The incident service: the one way in for the API, the link pages, the web forms and
the Alertmanager intake.

It makes the only identity check (a responder must be in the directory), talks to
Temporal, and turns every Temporal failure into a domain error
(``workflows/errors.py``): no Temporal exception leaves this module.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from temporalio.client import Client, WorkflowHandle

from runbooks.directory import Directory
from runbooks.sla_seed import load_policies
from services.cache import Source
from services.handles import RPC_TIMEOUT, count_notes, execute, update, view_of
from services.intake import RepeatLog
from services.listing import IncidentSummary, summary, visibility_query
from services.opening import locate, open_or_repeat, prepare, start
from services.repeats import RepeatCoalescer
from services.settings import Settings
from services.temporal import ClientSource, temporal_calls
from workflows import contract
from workflows.errors import AlreadyResolved, UnknownIncident, UnknownResponder
from workflows.models import (
    Incident,
    IncidentFlag,
    IncidentRequest,
    IncidentView,
    Note,
    Person,
    ResponderAction,
    Severity,
    State,
)
from workflows.pauses import Pause
from workflows.run_state import IncidentInput
from workflows.runbook import Registry
from workflows.targets import SlaPolicy
from workflows.vocabulary import Action


@dataclass(frozen=True)
class Opened:
    """An incident just opened (``created``), or the open one a repeat was counted on."""

    id: str
    state: State
    runbook: str
    created: bool


# The pauses an incident about to be opened starts with: the maintenance windows in
# force for it, and those to come that will pause incidents already open (suppress_all).
Hold = Callable[[Incident], Awaitable[list[Pause]]]


class IncidentService:
    """The one way in to incidents: open, read, list, act on and annotate them. Holds the
    Temporal client source, the settings, the directory, the runbook registry and the SLA
    policies (``SlaPolicyService``; without one, the seed file's, read once)."""

    def __init__(
        self,
        temporal: ClientSource,
        settings: Settings,
        directory: Directory | Source[Directory],
        registry: Registry,
        policies: Source[Mapping[str, SlaPolicy]] | None = None,
    ) -> None:
        self._temporal = temporal
        self.settings = settings
        self._directory = directory
        self._registry = registry
        self._repeats = RepeatCoalescer()
        self._seed_policies = load_policies(settings.sla_file) if policies is None else {}
        self._policies = policies
        self.hold: Hold | None = None  # maintenance windows: set by the API at start
        self.intake: RepeatLog | None = None  # the storm's fast path: set by the API at start

    @property
    def directory(self) -> Directory:
        """The directory plans are made from now (a fixed one, or the database's)."""
        source = self._directory
        return source if isinstance(source, Directory) else source.current()

    def _prepare(self, request: IncidentRequest, idempotency_key: str | None = None) -> IncidentInput:
        """The incident's input: its id, its frozen plan, its feedback delay and its targets."""
        return prepare(
            request,
            self._registry,
            self.directory,
            idempotency_key=idempotency_key,
            feedback_delay=self.settings.feedback_after,
            policies=self._seed_policies if self._policies is None else self._policies.current(),
        )

    async def _held(self, data: IncidentInput) -> IncidentInput:
        """The input, paused by the maintenance windows covering it (if any)."""
        pauses = await self.hold(data.incident) if self.hold is not None else []
        return data.model_copy(update={"pauses": pauses}) if pauses else data

    async def client(self) -> Client:
        """The connected Temporal client.

        Raises:
            Unavailable: Temporal cannot be reached.
        """
        return await self._temporal.client()

    async def check_health(self) -> None:
        """Returns when Temporal answers.

        Raises:
            Unavailable: it does not.
        """
        client = await self.client()
        with temporal_calls():
            await client.service_client.check_health(timeout=RPC_TIMEOUT)

    # -- who ---------------------------------------------------------------------

    def person(self, person_id: str, role: str = "responder") -> Person:
        """The one identity check: the person, if the directory has them.

        Raises:
            UnknownResponder: nobody in the directory has this id.
        """
        person = self.directory.person(person_id)
        if person is None:
            raise UnknownResponder(f"{role} {person_id!r} is not in the directory")
        return person

    # -- opening -------------------------------------------------------------------

    async def open(self, request: IncidentRequest, idempotency_key: str | None = None) -> Opened:
        """Open an incident, or count a repeat on the open one with its dedup key.

        A retried request with the same ``idempotency_key`` gets the first answer again. A
        repeat of an incident known to be open is recorded in the intake log, when there is
        one, and counted shortly after (``services/intake.py``).

        Raises:
            UnknownRunbook, UnknownTarget: the plan cannot be made.
            Unavailable, RetryLater: Temporal cannot take it now.
        """
        data = self._prepare(request, idempotency_key=idempotency_key)
        if idempotency_key is None and request.dedup_key is not None and self.intake is not None:
            known = self.intake.known(data.incident.id)
            if known is not None and await self.intake.record(data):
                return Opened(known.id, known.state, known.runbook, created=False)
        data = await self._held(data)
        client = await self.client()
        task_queue = self.settings.task_queue
        with temporal_calls():
            if idempotency_key is not None:
                update_id = "idempotency-" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]
                view, created = await open_or_repeat(client, data, task_queue, update_id=update_id)
            elif request.dedup_key is None:
                await start(client, data, task_queue)
                return Opened(data.incident.id, State.TRIGGERED, data.plan.runbook, created=True)
            else:
                send = lambda data, count: open_or_repeat(client, data, task_queue, count=count)  # noqa: E731
                asked = self.intake.asked() if self.intake is not None else 0
                view, created = await self._repeats.submit(send, data)
                if self.intake is not None:
                    self.intake.remember(data.incident.id, view, asked)
        return Opened(view.id, view.state, view.runbook, created)

    async def forward(self, data: IncidentInput, count: int, batch: str) -> IncidentView:
        """Count ``count`` logged repeats on their incident in one update (id ``batch``), or
        open it anew if it has been resolved since (the intake log's forwarder)."""
        data = await self._held(data)
        client = await self.client()
        with temporal_calls():
            view, _ = await open_or_repeat(
                client, data, self.settings.task_queue, count=count, update_id=batch
            )
        return view

    async def open_alert(self, request: IncidentRequest, source: str, key: str) -> tuple[IncidentView, bool]:
        """Open an integration's incident or count its alert on the open one (once per ``key``)."""
        data = await self._held(self._prepare(request))
        client = await self.client()
        with temporal_calls():
            return await open_or_repeat(client, data, self.settings.task_queue, source=source, key=key)

    # -- reading -------------------------------------------------------------------

    async def locate(self, incident_id: str) -> WorkflowHandle:
        """The handle of one incident, by its id (``services.opening.locate``).

        Raises:
            UnknownIncident: no such incident.
        """
        client = await self.client()
        with temporal_calls():
            handle = await locate(client, incident_id, RPC_TIMEOUT)
        if handle is None:
            raise UnknownIncident("no such incident")
        return handle

    async def read(self, incident_id: str) -> IncidentView:
        """The incident as its workflow sees it now, with its whole timeline."""
        handle = await self.locate(incident_id)
        return await view_of(handle)

    async def list(
        self,
        state: State | None = None,
        severity: Severity | None = None,
        service: str | None = None,
        responder: str | None = None,
        flag: IncidentFlag | None = None,
        limit: int = 50,
    ) -> list[IncidentSummary]:
        """Incidents, newest first, from Temporal visibility. ``service`` and ``responder``
        must have matched the slug pattern: nothing can escape the query's quotes."""
        query = visibility_query(state, severity, service, responder, flag)
        client = await self.client()
        rows = []
        with temporal_calls():
            async for execution in client.list_workflows(query, limit=limit, rpc_timeout=RPC_TIMEOUT):
                rows.append(await summary(execution))
        return rows

    def links(self, incident_id: str) -> dict[str, str]:
        """Where the incident is read: the API and the Temporal UI."""
        settings = self.settings
        return {
            "url": f"{settings.public_url}/api/incidents/{incident_id}",
            "temporal_ui_url": f"{settings.temporal_ui_url}/namespaces/"
            f"{settings.temporal_namespace}/workflows/{contract.workflow_id(incident_id)}",
        }

    # -- acting --------------------------------------------------------------------

    async def act(
        self, incident_id: str, action: Action | str, body: ResponderAction, update_id: str | None = None
    ) -> IncidentView:
        """Acknowledge, resolve or escalate (or change the severity, snooze: the update's
        name, ``contract.SET_SEVERITY``...) as a person of the directory; the new view.

        Raises:
            UnknownResponder, UnknownIncident, ActionRejected (AlreadyResolved...), Unavailable.
        """
        person = self.person(body.responder)
        handle = await self.locate(incident_id)
        signed = body.model_copy(update={"name": person.name})
        view = await update(handle, action, signed, update_id)
        if self.intake is not None and view.state is State.RESOLVED:
            self.intake.forget(contract.base_id(incident_id))
        return view

    async def resolve_alert(self, base_id: str, body: ResponderAction, update_id: str) -> IncidentView | None:
        """An integration resolves the open incident of its key; None when none is open."""
        handle = (await self.client()).get_workflow_handle(contract.workflow_id(base_id))
        if self.intake is not None:
            self.intake.forget(base_id)
        try:
            return await execute(handle, Action.RESOLVE, body, update_id)
        except (UnknownIncident, AlreadyResolved):  # none, or its run has ended, or it is closing
            return None

    async def note(self, incident_id: str, note: Note) -> IncidentView:
        """Add a note to the timeline; returns the view once the note shows on it."""
        self.person(note.author, role="author")
        handle = await self.locate(incident_id)
        before = count_notes(await view_of(handle), note)
        with temporal_calls():
            await handle.signal(contract.ADD_NOTE, note, rpc_timeout=RPC_TIMEOUT)
        # A signal is applied by the next workflow task: read until the note shows.
        for _ in range(50):
            view = await view_of(handle)
            if count_notes(view, note) > before:
                break
            await asyncio.sleep(0.1)
        return view
