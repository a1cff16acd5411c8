"""The one set of domain errors, each with a stable ``code``.

Lifecycle rules (``workflows/record.py``) and the incident service
(``services/incidents.py``) raise them; ``rejected()`` is the only place the
workflow turns one into an ``ApplicationError`` (type = code); the service turns
Temporal's failures back into them with ``DomainError.from_code``; the HTTP edge
maps each class to a status once (``api/errors.py``). Nobody matches on message
text. Codes are a contract with callers: add codes, never rename one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NoReturn

from temporalio.exceptions import ApplicationError


class DomainError(Exception):
    """Something the caller asked for that cannot be done, and why (``str(err)``)."""

    code = "error"

    @classmethod
    def from_code(cls, code: str | None, message: str) -> DomainError:
        """The error a code stands for; an unknown code is a plain ``ActionRejected``."""
        return _BY_CODE.get(code or "", ActionRejected)(message)


class NotFound(DomainError):
    """What the caller named does not exist (404)."""

    code = "not-found"


class UnknownIncident(NotFound):
    """No incident (or no running workflow for it) has this id."""

    code = "unknown-incident"


class NotADrill(NotFound):
    """A drill's report was asked of an incident that is not a drill (404)."""

    code = "not-a-drill"


class UnknownResponder(DomainError):
    """A person who is not in the directory."""

    code = "unknown-responder"


class UnknownRunbook(DomainError):
    """The request names a runbook the registry does not have."""

    code = "unknown-runbook"


class UnknownTarget(DomainError):
    """A runbook's plan names a person or team the directory does not have."""

    code = "unknown-target"


class InvalidRequest(DomainError):
    """A request the rules refuse for what it asks (422), e.g. a window already over."""

    code = "invalid-request"


class ActionRejected(DomainError):
    """An action that does not apply to the incident as it is now."""

    code = "action-rejected"


class AlreadyResolved(ActionRejected):
    """The incident is resolved (or closing): nothing more can be done to it."""

    code = "already-resolved"


class AlreadyAcknowledged(ActionRejected):
    """Someone has already acknowledged the incident."""

    code = "already-acknowledged"


class NothingToEscalate(ActionRejected):
    """An escalation is already pending, or every tier of the plan has been paged."""

    code = "nothing-to-escalate"


class Unavailable(DomainError):
    """Temporal cannot be reached or did not answer in time: try again shortly."""

    code = "unavailable"
    retry_after = 5


class RetryLater(Unavailable):
    """Reachable, but the alert could not be placed yet (an incident is closing)."""

    code = "retry-later"
    retry_after = 1


class Refused(DomainError):
    """Temporal refused a call for a reason of its own (logged; the caller sees why)."""

    code = "refused"


_BY_CODE: dict[str, type[DomainError]] = {
    cls.code: cls
    for cls in (
        NotFound,
        UnknownIncident,
        NotADrill,
        UnknownResponder,
        UnknownRunbook,
        UnknownTarget,
        InvalidRequest,
        ActionRejected,
        AlreadyResolved,
        AlreadyAcknowledged,
        NothingToEscalate,
        Unavailable,
        RetryLater,
        Refused,
    )
}
# Workers of earlier releases named the error by class and put a code, if any, in the details.
_BY_CODE["ActionRejected"] = ActionRejected
_BY_CODE["UnknownResponder"] = UnknownResponder


def decode(failure: BaseException | None) -> DomainError:
    """The domain error an update's failure (its ``ApplicationError`` cause) stands for."""
    if isinstance(failure, ApplicationError):
        code = failure.type
        if code == "ActionRejected" and failure.details:  # an earlier release's already-resolved
            code = str(failure.details[0])
        return DomainError.from_code(code, failure.message)
    return ActionRejected(str(failure or "the incident refused the action"))


def rejected(err: DomainError) -> NoReturn:
    """Raise ``err`` as the workflow's refusal: an ApplicationError whose type is its code."""
    raise ApplicationError(str(err), type=err.code, non_retryable=True) from None


def check(rule: Callable[[], None]) -> None:
    """Run a lifecycle rule in an update's validator; its refusal becomes the update's failure."""
    try:
        rule()
    except DomainError as err:
        rejected(err)
