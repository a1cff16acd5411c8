"""``/api/incidents/{id}/review``: the post-incident review, to read, edit and export."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.deps import ApiKey
from api.errors import ACTION_ERRORS, INCIDENT_ERRORS, Responses, error_doc
from api.pages import PAGES
from services.reviews import Review, ReviewService
from store.reviews import ReviewSections

router = APIRouter(prefix="/api/incidents", tags=["post-incident review"])
READ_ERRORS: Responses = {
    **{code: INCIDENT_ERRORS[code] for code in (401, 403, 429, 503)},
    404: error_doc("The incident is not in the record"),
    409: error_doc("The incident is not resolved yet: the review opens at its resolution"),
}
WRITE_ERRORS: Responses = {
    **READ_ERRORS,
    **{code: ACTION_ERRORS[code] for code in (400, 413)},
    422: error_doc("Invalid fields, or an action item owner who is not in the directory"),
}


def _reviews(request: Request) -> ReviewService:
    service: ReviewService = request.app.state.reviews
    return service


@router.get("/{incident_id}/review", response_model=Review, responses=READ_ERRORS)
async def read_review(incident_id: str, request: Request, _: ApiKey) -> Review:
    """The review: the record's facts (impact, timeline, responders, times to acknowledge
    and resolve) and the sections the team writes. Drafted when the incident is resolved."""
    return await _reviews(request).get(incident_id)


@router.put("/{incident_id}/review", response_model=Review, responses=WRITE_ERRORS)
async def write_review(
    incident_id: str, sections: ReviewSections, request: Request, caller: ApiKey
) -> Review:
    """Replace the written sections (summary, contributing factors, what went well, what
    went wrong, where we got lucky, action items with owners from the directory)."""
    return await _reviews(request).put(incident_id, sections, by=caller.name)


@router.get(
    "/{incident_id}/review.md",
    response_class=Response,
    responses={200: {"content": {"text/markdown": {}}, "description": "The review"}, **READ_ERRORS},
)
async def export_review(incident_id: str, request: Request, _: ApiKey) -> Response:
    """The review as a Markdown document."""
    return markdown(await _reviews(request).get(incident_id))


def markdown(review: Review) -> Response:
    """The review as a Markdown download."""
    text = PAGES.get_template("review.md").render(review=review)
    headers = {"Content-Disposition": f'attachment; filename="{review.incident_id}-review.md"'}
    return Response(text, media_type="text/markdown; charset=utf-8", headers=headers)
