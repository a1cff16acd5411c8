"""``/incidents/{id}/review``: the post-incident review to read and edit in the browser."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from api.errors import form_status, status_of
from api.pages import render
from api.routes.reviews import markdown
from api.web_session import SessionDep, WebSession, forbidden, nav, not_found, redirect
from services.reviews import Review, ReviewService
from store.reviews import ActionItem, ReviewSections
from workflows.errors import DomainError, NotFound

router = APIRouter(include_in_schema=False)
Text = Annotated[str, Form()]
SECTIONS = [
    ("summary", "Summary"),
    ("contributing_factors", "Contributing factors"),
    ("went_well", "What went well"),
    ("went_wrong", "What went wrong"),
    ("lucky", "Where we got lucky"),
]


def _items_text(sections: ReviewSections) -> str:
    return "\n".join(f"{'[x] ' if i.done else ''}{i.owner}: {i.text}" for i in sections.action_items)


def _items(text: str) -> list[ActionItem]:
    """``owner: what`` per line (``[x]`` first when done). Raises ValueError naming the line."""
    items = []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line:
            continue
        done = line.lower().startswith("[x]")
        owner, colon, what = line.removeprefix(line[:3] if done else "").partition(":")
        if not colon:
            raise ValueError(f"Action item line {number}: write it as 'owner: what'.")
        items.append(ActionItem(owner=owner.strip(), text=what.strip(), done=done))
    return items


def _page(
    request: Request, session: WebSession, review: Review, code: int = 200, **extra: object
) -> HTMLResponse:
    values = {**review.sections.model_dump(), "action_items": _items_text(review.sections)}
    context = {"errors": [], "notice": "", "values": values, **extra}
    return render(
        "review.html",
        code,
        nav=nav(request, session),
        review=review,
        sections=SECTIONS,
        csrf=session.csrf,
        **context,
    )


def _reviews(request: Request) -> ReviewService:
    service: ReviewService = request.app.state.reviews
    return service


@router.get("/incidents/{incident_id}/review", response_class=HTMLResponse)
async def review_page(
    request: Request, incident_id: str, session: SessionDep, saved: str = ""
) -> HTMLResponse:
    """The review: the record's facts and the sections the team writes."""
    try:
        review = await _reviews(request).get(incident_id)
    except NotFound:
        return not_found(request, session, "incident")
    except DomainError as err:
        if status_of(err) >= 500:
            raise
        return render(
            "result.html",
            status_of(err),
            nav=nav(request, session),
            ok=False,
            incident=None,
            headline=str(err).capitalize(),
            detail="",
        )
    return _page(request, session, review, notice="Saved." if saved else "")


@router.get("/incidents/{incident_id}/review.md")
async def review_markdown(request: Request, incident_id: str, session: SessionDep) -> Response:
    """The review as Markdown, for the signed-in browser."""
    try:
        return markdown(await _reviews(request).get(incident_id))
    except NotFound:
        return not_found(request, session, "incident")


@router.post("/incidents/{incident_id}/review", response_class=HTMLResponse)
async def save_review(
    request: Request,
    incident_id: str,
    session: SessionDep,
    csrf: Text = "",
    summary: Text = "",
    contributing_factors: Text = "",
    went_well: Text = "",
    went_wrong: Text = "",
    lucky: Text = "",
    action_items: Text = "",
) -> Response:
    """Save the written sections, as the signed-in key."""
    if not session.csrf_ok(csrf):
        return forbidden(request, session)
    service = _reviews(request)
    written = {
        "summary": summary,
        "contributing_factors": contributing_factors,
        "went_well": went_well,
        "went_wrong": went_wrong,
        "lucky": lucky,
    }
    try:
        sections = ReviewSections(**written, action_items=_items(action_items))
        await service.put(incident_id, sections, by=session.key_name or "web")
    except (ValueError, ValidationError, DomainError) as err:
        if isinstance(err, NotFound):
            return not_found(request, session, "incident")
        code = form_status(err)
        review = await service.get(incident_id)
        reason = _reason(err)
        values = {**written, "action_items": action_items}
        return _page(request, session, review, code, errors=[reason], values=values)
    return redirect(f"/incidents/{incident_id}/review?saved=1")


def _reason(err: Exception) -> str:
    if isinstance(err, ValidationError):
        first = err.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        return f"{where}: {first['msg']}".capitalize()
    return str(err)[:1].upper() + str(err)[1:]
