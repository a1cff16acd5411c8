"""Feedback after an incident: the signed ``/f/<token>`` form (GET shows it and records
nothing, POST records one answer per person, a second one replaces it), its refusals (a
page, nothing recorded), ``GET /api/incidents/{id}/feedback``, the review and its Markdown
(an anonymous answer never shows its person) and the satisfaction metric; on the real
app and a real database."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from pydantic import SecretStr, ValidationError

from activities.record import IncidentRecorder
from api.main import create_app
from conftest import serve_api
from hostile import AUTH, sign_in
from security.links import FEEDBACK_MAX_AGE, FeedbackLinks, LinkSigner
from services.settings import Settings
from store import feedback
from store.db import engine_for, migrate
from workflows.models import IncidentView, Page, Severity, State, TimelineEntry

T0 = datetime(2026, 11, 16, 3, 0, tzinfo=UTC)
INCIDENT = "inc-fb"
PERIOD = {"since": "2026-11-01T00:00:00Z", "until": "2026-12-01T00:00:00Z"}


def resolved(incident_id: str = INCIDENT) -> IncidentView:
    return IncidentView(
        id=incident_id,
        title="Checkout <b>down</b>",
        severity=Severity.SEV1,
        service="checkout",
        runbook="demo",
        state=State.RESOLVED,
        created_at=T0,
        paged=[Page(person="alice", tier=1, at=T0), Page(person="bob", tier=2, at=T0 + timedelta(minutes=5))],
        timeline=[
            TimelineEntry(at=T0, kind="triggered", actor="api", detail="SEV1 on checkout"),
            TimelineEntry(at=T0 + timedelta(minutes=20), kind="resolved", actor="bob", detail="rolled back"),
        ],
        acknowledged_by="bob",
        acknowledged_at=T0 + timedelta(minutes=6),
        resolved_by="bob",
        resolved_at=T0 + timedelta(minutes=20),
    )


@pytest.fixture
async def app(tmp_path) -> AsyncIterator[httpx.AsyncClient]:
    """The app on a database holding one resolved incident; the client sends no key by itself."""
    engine = engine_for(None, tmp_path)
    migrate(engine)
    IncidentRecorder(engine).record(resolved())
    async with serve_api(Settings(data_dir=tmp_path, api_keys="test-key")) as client:
        client.engine = engine
        yield client
    engine.dispose()


def link(api: httpx.AsyncClient, person: str, incident: str = INCIDENT) -> str:
    return "/f/" + FeedbackLinks(api.settings.link_secrets).sign(incident, person)


def stored(api: httpx.AsyncClient) -> list[feedback.FeedbackRecord]:
    return feedback.answers(api.engine, INCIDENT)


async def test_get_shows_the_form_and_records_nothing(app):
    path = link(app, "alice")
    for _ in range(3):  # a mail scanner opening the link again and again
        page = await app.get(path)
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    text = page.text
    assert "Checkout &lt;b&gt;down&lt;/b&gt;" in text and "<b>down</b>" not in text
    assert "SEV1" in text and "checkout" in text and "resolved 2026-11-16 04:20 (Europe/Paris)" in text
    assert "Alice Martin" in text and '<form method="post">' in text and "<script" not in text
    assert all(f'name="rating" value="{n}" required>' in text for n in range(1, 6))
    assert 'name="comment" rows="6" maxlength="5000">' in text and 'name="anonymous"' in text
    assert "You answered" not in text
    assert page.headers["cache-control"] == "no-store" and page.headers["referrer-policy"] == "no-referrer"
    assert "form-action 'self'" in page.headers["content-security-policy"]
    assert stored(app) == []


async def test_post_records_and_a_second_post_replaces_it(app):
    path = link(app, "alice")
    sent = await app.post(path, data={"rating": "2", "comment": "  Paged twice\r\nfor one alert "})
    assert sent.status_code == 200 and "Thank you, Alice Martin" in sent.text
    assert "2 out of 5, with your name" in sent.text
    (first,) = stored(app)
    assert (first.person_id, first.rating, first.comment, first.anonymous) == (
        "alice",
        2,
        "Paged twice\nfor one alert",
        False,
    )
    again = await app.get(path)
    assert "You answered on" in again.text and "sending again replaces it" in again.text
    assert 'value="2" required checked>' in again.text
    assert "Paged twice\nfor one alert</textarea>" in again.text

    replaced = await app.post(path, data={"rating": "5", "comment": "Fine after all"})
    assert replaced.status_code == 200
    (second,) = stored(app)  # still one answer
    assert (second.rating, second.comment, second.created_at) == (5, "Fine after all", first.created_at)
    assert second.updated_at >= first.updated_at
    answers = (await app.get(f"/api/incidents/{INCIDENT}/feedback", headers=AUTH)).json()
    assert (answers["responses"], answers["average"]) == (1, 5.0)


async def test_an_anonymous_answer_never_shows_its_person(app):
    sent = await app.post(
        link(app, "carol"), data={"rating": "4", "comment": "Paging | was *noisy*", "anonymous": "yes"}
    )
    assert sent.status_code == 200 and "anonymously" in sent.text
    assert (await app.post(link(app, "bob"), data={"rating": "2"})).status_code == 200
    assert feedback.answered(app.engine, INCIDENT) == {"bob", "carol"}  # one answer each, kept

    listed = (await app.get(f"/api/incidents/{INCIDENT}/feedback", headers=AUTH)).json()
    assert [(a["person_id"], a["rating"], a["anonymous"]) for a in listed["answers"]] == [
        (None, 4, True),
        ("bob", 2, False),
    ]
    assert "carol" not in str(listed).lower()
    review = (await app.get(f"/api/incidents/{INCIDENT}/review", headers=AUTH)).json()
    assert review["feedback"] == listed

    await sign_in(app)
    page = await app.get(f"/incidents/{INCIDENT}/review")
    assert page.status_code == 200 and "2 answers, average rating 3.0 out of 5." in page.text
    assert "<strong>4/5</strong> &middot; anonymous" in page.text and "Paging | was *noisy*" in page.text
    assert "<strong>2/5</strong> &middot; bob" in page.text and "carol" not in page.text.lower()
    exported = (await app.get(f"/incidents/{INCIDENT}/review.md")).text
    assert "| 4/5 | anonymous | Paging \\| was \\*noisy\\* |" in exported
    assert "| 2/5 | bob |  |" in exported and "carol" not in exported.lower()


def expired_link(api: httpx.AsyncClient, person: str) -> str:
    """A genuine link signed 7 days and a minute ago."""
    real = time.time
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(time, "time", lambda: real() - FEEDBACK_MAX_AGE - 60)
        return link(api, person)


async def test_forged_expired_and_action_tokens_are_400_and_record_nothing(app):
    genuine = link(app, "alice")
    action = "/f/" + LinkSigner(app.settings.link_secrets, 3600).sign(INCIDENT, "alice", "acknowledge")
    other_secret = "/f/" + FeedbackLinks(["not-our-secret"]).sign(INCIDENT, "alice")
    refused = {
        genuine[:-3] + ("xyz" if not genuine.endswith("xyz") else "abc"): "This feedback link is not valid",
        other_secret: "This feedback link is not valid",
        action: "This feedback link is not valid",
        expired_link(app, "alice"): "This feedback link has expired",
    }
    for path, reason in refused.items():
        for answer in (await app.get(path), await app.post(path, data={"rating": "5"})):
            assert answer.status_code == 400 and answer.headers["content-type"].startswith("text/html")
            assert reason in answer.text and "Nothing was recorded" in answer.text
    assert stored(app) == []


async def test_an_incident_not_in_the_record_is_404_and_a_person_gone_is_403(app):
    for path, code, reason in [
        (link(app, "alice", incident="inc-nowhere"), 404, "This incident is not in the record"),
        (link(app, "mallory"), 403, "no longer in the directory"),
    ]:
        for answer in (await app.get(path), await app.post(path, data={"rating": "5"})):
            assert answer.status_code == code and reason in answer.text
            assert answer.headers["content-type"].startswith("text/html")
    assert stored(app) == [] and feedback.answers(app.engine, "inc-nowhere") == []


@pytest.mark.parametrize(
    ("form", "problem"),
    [
        ({"rating": "0"}, "Choose a rating from 1"),
        ({"rating": "6"}, "Choose a rating from 1"),
        ({"rating": "", "comment": "no rating"}, "Choose a rating from 1"),
        ({"rating": "five"}, "Choose a rating from 1"),
        ({"rating": "3", "comment": "x" * 5_001}, "at most 5,000 characters; this one has 5,001"),
    ],
    ids=["zero", "six", "missing", "not-a-number", "comment-too-long"],
)
async def test_an_invalid_answer_is_422_with_the_form_again(app, form, problem):
    answer = await app.post(link(app, "alice"), data=form)
    assert answer.status_code == 422 and answer.headers["content-type"].startswith("text/html")
    assert problem in answer.text and '<form method="post">' in answer.text
    assert form.get("comment", "") + "</textarea>" in answer.text  # what they typed is kept
    assert stored(app) == []


async def test_a_comment_of_exactly_the_limit_is_recorded(app):
    sent = await app.post(link(app, "alice"), data={"rating": "3", "comment": "é" * 5_000})
    assert sent.status_code == 200 and stored(app)[0].comment == "é" * 5_000


async def test_the_api_lists_the_answers_and_the_metrics_count_them(app):
    assert (await app.get("/api/incidents/nowhere/feedback", headers=AUTH)).status_code == 404
    assert (await app.get(f"/api/incidents/{INCIDENT}/feedback")).status_code == 401
    empty = (await app.get(f"/api/incidents/{INCIDENT}/feedback", headers=AUTH)).json()
    assert empty == {"incident_id": INCIDENT, "responses": 0, "average": None, "answers": []}

    for person, rating in [("alice", "4"), ("bob", "1"), ("carol", "5")]:
        assert (await app.post(link(app, person), data={"rating": rating})).status_code == 200
    listed = (await app.get(f"/api/incidents/{INCIDENT}/feedback", headers=AUTH)).json()
    assert (listed["responses"], listed["average"]) == (3, 3.33)
    first = listed["answers"][0]
    assert set(first) == {"person_id", "rating", "comment", "anonymous", "created_at", "updated_at"}
    assert [first[k] for k in ("person_id", "rating", "comment", "anonymous")] == ["alice", 4, "", False]

    metrics = (await app.get("/api/metrics", params=PERIOD, headers=AUTH)).json()
    assert metrics["satisfaction"] == {"responses": 3, "average": 3.33, "ratings": {"1": 1, "4": 1, "5": 1}}


async def test_a_database_that_cannot_be_reached_is_a_503_page_not_a_stack_trace(tmp_path):
    down = SecretStr("postgresql://nobody@127.0.0.1:1/escalate")  # nothing listens on port 1
    settings = Settings(data_dir=tmp_path, api_keys="test-key", database_url=down)
    async with serve_api(settings) as api:
        answer = await api.post(link(api, "alice"), data={"rating": "4"})
        assert answer.status_code == 503 and "cannot be recorded right now" in answer.text
        listed = await api.get(f"/api/incidents/{INCIDENT}/feedback", headers=AUTH)
        assert listed.status_code == 503 and listed.headers["retry-after"] == "5"


def test_access_log_redacts_feedback_tokens(caplog):
    create_app()  # installs the filter on uvicorn's access logger
    logger = logging.getLogger("uvicorn.access")
    token = FeedbackLinks(["k"]).sign(INCIDENT, "alice")
    with caplog.at_level(logging.INFO, logger="uvicorn.access"):
        logger.info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "POST", f"/f/{token}", "1.1", 200)
    assert token not in caplog.text and '"POST /f/<redacted> HTTP/1.1"' in caplog.text


# -- store.feedback, on SQLite and PostgreSQL ---------------------------------------------


def test_the_store_keeps_one_answer_per_person_and_hides_anonymous_ones(engine):
    answer = feedback.FeedbackAnswer
    first = feedback.save(engine, "inc-1", "alice", answer(rating=2, comment=" slow "), now=T0)
    assert (first.person_id, first.rating, first.comment, first.created_at) == ("alice", 2, "slow", T0)
    later = T0 + timedelta(hours=1)
    feedback.save(engine, "inc-1", "alice", answer(rating=5, anonymous=True), now=later)
    feedback.save(engine, "inc-1", "bob", answer(rating=3), now=T0 + timedelta(minutes=1))
    feedback.save(engine, "inc-2", "alice", answer(rating=1), now=T0)
    own = feedback.get(engine, "inc-1", "alice")  # a person's own answer keeps them
    assert own is not None and (own.person_id, own.rating, own.anonymous) == ("alice", 5, True)
    assert (own.comment, own.created_at, own.updated_at) == ("", T0, later)
    shown = feedback.answers(engine, "inc-1")  # oldest first, the anonymous one without its person
    assert [(a.person_id, a.rating, a.anonymous) for a in shown] == [(None, 5, True), ("bob", 3, False)]
    assert feedback.answered(engine, "inc-1") == {"alice", "bob"}
    assert feedback.get(engine, "inc-1", "carol") is None and feedback.answers(engine, "inc-3") == []


def test_concurrent_answers_of_one_person_leave_one_row(engine):
    barrier = threading.Barrier(6)

    def send(rating: int) -> None:
        barrier.wait()
        feedback.save(engine, "inc-1", "alice", feedback.FeedbackAnswer(rating=rating))

    threads = [threading.Thread(target=send, args=(1 + n % 5,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    (only,) = feedback.answers(engine, "inc-1")
    assert only.person_id == "alice" and 1 <= only.rating <= 5


@pytest.mark.parametrize("fields", [{"rating": 0}, {"rating": 6}, {"rating": 3, "comment": "x" * 5_001}])
def test_an_answer_out_of_bounds_is_refused_before_the_store(fields):
    with pytest.raises(ValidationError):
        feedback.FeedbackAnswer(**fields)
