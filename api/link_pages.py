"""What the links in emails answer when they cannot do what they say.

Both kinds of link, ``/r/<token>`` (acknowledge, resolve, escalate) and ``/f/<token>``
(feedback), are opened by a person in a browser, without an API key: the signed token is
the credential. A refusal is therefore a page, never JSON, and says that nothing happened.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import status
from fastapi.responses import HTMLResponse

from api.pages import render
from security.links import LinkError

Claim = TypeVar("Claim")
# How a link route documents its answers: every one is a page.
PAGE: dict[str, Any] = {"content": {"text/html": {}}}


def refusal(headline: str, code: int, detail: str) -> HTMLResponse:
    """The page for a link that did nothing: ``headline`` says why, ``detail`` what now."""
    return render("result.html", code, ok=False, incident=None, headline=headline, detail=detail)


def verified(verify: Callable[[str], Claim], token: str, detail: str) -> Claim | HTMLResponse:
    """The claim in ``token``, or a 400 page saying whether it expired or is not valid."""
    try:
        return verify(token)
    except LinkError as exc:
        return refusal(str(exc).capitalize(), status.HTTP_400_BAD_REQUEST, detail)
