"""``/f/{token}``: the feedback links in the email sent after an incident is resolved, and
``/api/incidents/{id}/feedback``: the answers, for the API.

A link is protected as the action links are (``api/routes/links.py``): the signed token is
the credential (no API key, no session), GET only shows the form and never records
anything (mail scanners open every link), the answer is the form's POST, the page has no
script, and the body is bounded like every request's (``MAX_BODY_BYTES``). A refusal is a
page saying why, and nothing is recorded.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request, status
from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from api.deps import ApiKey
from api.errors import INCIDENT_ERRORS, Responses
from api.link_pages import PAGE, refusal, verified
from api.pages import render
from security.links import FeedbackClaim, FeedbackLinks
from services.feedback import Asked, FeedbackService, IncidentFeedback
from store.feedback import FeedbackAnswer
from workflows.errors import DomainError, NotFound, UnknownResponder

router = APIRouter(tags=["feedback"])
FormText = Annotated[str, Form()]
NOTHING_RECORDED = "Nothing was recorded. Use the link in the latest email about this incident."
MAX_COMMENT = 5_000  # store.feedback.Comment's limit
RATINGS = [("1", "badly"), ("2", "not well"), ("3", "fine"), ("4", "well"), ("5", "very well")]
READ_ERRORS: Responses = {code: INCIDENT_ERRORS[code] for code in (401, 403, 429)}
READ_ERRORS[404] = {**INCIDENT_ERRORS[404], "description": "The incident is not in the record"}
READ_ERRORS[503] = {**INCIDENT_ERRORS[503], "description": "The database cannot be reached"}


def _feedback(request: Request) -> FeedbackService:
    service: FeedbackService = request.app.state.feedback
    return service


def _links(request: Request) -> FeedbackLinks:
    return FeedbackLinks(request.app.state.settings.link_secrets)


async def _asked(token: str, request: Request) -> tuple[FeedbackClaim, Asked] | HTMLResponse:
    """The link's claim, its incident and person, or the refusal page to show instead."""
    claim = verified(_links(request).verify, token, NOTHING_RECORDED)
    if isinstance(claim, HTMLResponse):
        return claim
    try:
        return claim, await _feedback(request).asked(claim.incident, claim.person)
    except DomainError as err:
        return _refused(err)


def _refused(err: DomainError) -> HTMLResponse:
    """The page for a domain error: the person gone, the incident not in the record, the
    database down."""
    if isinstance(err, UnknownResponder):
        return refusal("This link's person is no longer in the directory", 403, NOTHING_RECORDED)
    if isinstance(err, NotFound):
        return refusal("This incident is not in the record", 404, NOTHING_RECORDED)
    return refusal(
        "Your answer cannot be recorded right now",
        status.HTTP_503_SERVICE_UNAVAILABLE,
        "Nothing was recorded. Try again in a minute: the link works for 7 days after it was sent.",
    )


def _form(asked: Asked, code: int = 200, errors: list[str] | None = None, **values: object) -> HTMLResponse:
    """The form, filled with ``values`` (else with the person's earlier answer)."""
    earlier = asked.answer
    if not values and earlier is not None:
        values = {"rating": str(earlier.rating), "comment": earlier.comment, "anonymous": earlier.anonymous}
    elif not values:
        values = {"rating": "", "comment": "", "anonymous": False}
    return render(
        "feedback.html",
        code,
        incident=asked.incident,
        person=asked.person,
        answered_at=earlier.updated_at if earlier else None,
        errors=errors or [],
        values=values,
        ratings=RATINGS,
        max_comment=MAX_COMMENT,
    )


@router.get(
    "/f/{token}",
    response_class=HTMLResponse,
    responses={200: PAGE, 400: PAGE, 403: PAGE, 404: PAGE, 503: PAGE},
)
async def feedback_form(token: str, request: Request) -> HTMLResponse:
    """The feedback form of the link's person on the link's incident, filled with their
    earlier answer if any. Records nothing."""
    checked = await _asked(token, request)
    if isinstance(checked, HTMLResponse):
        return checked
    return _form(checked[1])


@router.post(
    "/f/{token}",
    response_class=HTMLResponse,
    responses={200: PAGE, 400: PAGE, 403: PAGE, 404: PAGE, 422: PAGE, 503: PAGE},
)
async def send_feedback(
    token: str, request: Request, rating: FormText = "", comment: FormText = "", anonymous: FormText = ""
) -> HTMLResponse:
    """Record the person's answer (a rating from 1 to 5, a comment, anonymous or not); a
    second answer replaces the first."""
    checked = await _asked(token, request)
    if isinstance(checked, HTMLResponse):
        return checked
    claim, asked = checked
    wants_anonymity = bool(anonymous)
    answer = _answer(rating, comment, wants_anonymity)
    if isinstance(answer, list):
        code = status.HTTP_422_UNPROCESSABLE_CONTENT
        return _form(asked, code, answer, rating=rating, comment=comment, anonymous=wants_anonymity)
    try:
        saved = await _feedback(request).answer(claim.incident, claim.person, answer)
    except DomainError as err:
        return _refused(err)
    how = "anonymously" if answer.anonymous else "with your name"
    return render(
        "result.html",
        ok=True,
        incident=None,
        headline=f"Thank you, {saved.person.name}",
        detail=f"Your answer ({answer.rating} out of 5, {how}) is recorded for "
        f"“{saved.incident.title}”. Open the link again to change it.",
    )


def _answer(rating: str, comment: str, anonymous: bool) -> FeedbackAnswer | list[str]:
    """The form as an answer, or what is wrong with it (one line per field)."""
    chosen = int(rating) if rating.strip() in dict(RATINGS) else 0
    comment = comment.replace("\r\n", "\n")  # as the browser counted it (maxlength)
    try:
        return FeedbackAnswer(rating=chosen, comment=comment, anonymous=anonymous)
    except ValidationError as err:
        wrong = {str(e["loc"][0]) for e in err.errors()}
    problems = []
    if "rating" in wrong:
        problems.append("Choose a rating from 1 (badly) to 5 (very well).")
    if "comment" in wrong:
        problems.append(
            f"The comment is at most {MAX_COMMENT:,} characters; this one has {len(comment.strip()):,}."
        )
    return problems or ["The answer could not be read: send the form again."]


@router.get("/api/incidents/{incident_id}/feedback", response_model=IncidentFeedback, responses=READ_ERRORS)
async def read_feedback(incident_id: str, request: Request, _: ApiKey) -> IncidentFeedback:
    """The responders' answers on the incident (oldest first, an anonymous one without its
    person), how many, and their average rating (null while there is none)."""
    return await _feedback(request).of(incident_id)
