"""Signed, expiring action links.

A token binds one incident, one responder and one action, and is signed with
``itsdangerous`` using one salt per action (a resolve token can never pass as
an acknowledge token). The first key in ``LINK_SECRET`` signs; every key
verifies, so keys can be rotated without breaking links already sent.
Tokens are made in the notify activity, never in workflow code, so they do not
appear in Temporal payloads.
"""

from __future__ import annotations

from dataclasses import dataclass

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from workflows.vocabulary import Action

ACTIONS = tuple(action.value for action in Action)


class LinkError(ValueError):
    """A token that is forged, altered, expired or for another action."""


@dataclass(frozen=True)
class LinkClaim:
    incident: str
    responder: str
    action: Action


class LinkSigner:
    def __init__(self, secrets: list[str], max_age: int) -> None:
        if not secrets:
            raise ValueError("at least one link secret is required")
        self._secrets = secrets
        self._max_age = max_age

    def _serializer(self, action: str) -> URLSafeTimedSerializer:
        if action not in ACTIONS:
            raise LinkError(f"unknown action {action!r}")
        # itsdangerous signs with the *last* key of the list and verifies with all.
        return URLSafeTimedSerializer(self._secrets[::-1], salt=f"incident-{action}")

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
