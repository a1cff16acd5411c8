"""Signed, expiring action links.

A token binds one incident, one responder and one action, and is signed with
``itsdangerous`` using one salt per action (a resolve token can never pass as
an acknowledge token). The first key in ``LINK_SECRET`` signs; every key
verifies, so keys can be rotated without breaking links already sent.
Tokens are made in the notify activity, never in workflow code, so they do not
appear in Temporal payloads.

Feedback links (``FeedbackLinks``) bind one incident and one person, with a salt of
their own (no feedback token passes as an action token, nor the reverse), and expire
after ``FEEDBACK_MAX_AGE`` (7 days) whatever the action links' lifetime.
"""

from __future__ import annotations

from dataclasses import dataclass

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from workflows.vocabulary import Action

ACTIONS = tuple(action.value for action in Action)
FEEDBACK_MAX_AGE = 7 * 24 * 3600
FEEDBACK_SALT = "incident-feedback"


class LinkError(ValueError):
    """A token that is forged, altered, expired or for another action."""


@dataclass(frozen=True)
class LinkClaim:
    incident: str
    responder: str
    action: Action


@dataclass(frozen=True)
class FeedbackClaim:
    incident: str
    person: str


class LinkSigner:
    def __init__(self, secrets: list[str], max_age: int) -> None:
        if not secrets:
            raise ValueError("at least one link secret is required")
        self._secrets = secrets
        self._max_age = max_age

    def _serializer(self, action: str) -> URLSafeTimedSerializer:
        if action not in ACTIONS:
            raise LinkError(f"unknown action {action!r}")
        return _serializer(self._secrets, f"incident-{action}")

    def feedback(self) -> FeedbackLinks:
        """The feedback links made with the same keys."""
        return FeedbackLinks(self._secrets)

    def sign(self, incident: str, responder: str, action: str) -> str:
        return self._serializer(action).dumps({"i": incident, "r": responder})

    def verify(self, token: str, action: str | None = None) -> LinkClaim:
        """The claim inside ``token`` if it is genuine and current.

        Args:
            token: as it came in the link.
            action: when given, the token must have been made for this action.

        Raises:
            LinkError: with a message fit to show the responder.
        """
        expired = False
        for candidate in (action,) if action else ACTIONS:
            try:
                data = self._serializer(candidate).loads(token, max_age=self._max_age)
            except SignatureExpired:
                expired = True
                continue
            except BadSignature:
                continue
            if isinstance(data, dict) and isinstance(data.get("i"), str) and isinstance(data.get("r"), str):
                return LinkClaim(incident=data["i"], responder=data["r"], action=Action(candidate))
        raise LinkError("this link has expired" if expired else "this link is not valid")


class FeedbackLinks:
    """Signs and checks the links that ask one person for feedback on one incident."""

    def __init__(self, secrets: list[str], max_age: int = FEEDBACK_MAX_AGE) -> None:
        if not secrets:
            raise ValueError("at least one link secret is required")
        self._serializer = _serializer(secrets, FEEDBACK_SALT)
        self._max_age = max_age

    def sign(self, incident: str, person: str) -> str:
        return self._serializer.dumps({"i": incident, "p": person})

    def verify(self, token: str) -> FeedbackClaim:
        """The claim inside ``token``; ``LinkError`` (fit to show) if forged, altered or expired."""
        try:
            data = self._serializer.loads(token, max_age=self._max_age)
        except SignatureExpired:
            raise LinkError("this feedback link has expired") from None
        except BadSignature:
            raise LinkError("this feedback link is not valid") from None
        if isinstance(data, dict) and isinstance(data.get("i"), str) and isinstance(data.get("p"), str):
            return FeedbackClaim(incident=data["i"], person=data["p"])
        raise LinkError("this feedback link is not valid")


def _serializer(secrets: list[str], salt: str) -> URLSafeTimedSerializer:
    # itsdangerous signs with the *last* key of the list and verifies with all.
    return URLSafeTimedSerializer(secrets[::-1], salt=salt)
