"""The post-incident review: drafted from the record when an incident is resolved, edited
through the API (owners from the directory), exported as Markdown that nothing written in
an incident can inject into; on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pydantic import SecretStr

from activities.record import IncidentRecorder
from conftest import serve_api
from services.settings import Settings
from store.db import engine_for
from workflows.models import IncidentView, Page, Severity, State, TimelineEntry

T0 = datetime(2026, 11, 16, 3, 0, tzinfo=UTC)


def resolved(incident_id: str = "inc-7", state: State = State.RESOLVED) -> IncidentView:
    done = state is State.RESOLVED
    return IncidentView(
        id=incident_id,
        title="Checkout | <b>down</b>",
        severity=Severity.SEV1,
        service="checkout",
        runbook="demo",
        description="Payments failed for 20 minutes.",
        state=state,
        created_at=T0,
        paged=[Page(person="alice", tier=1, at=T0), Page(person="bob", tier=2, at=T0 + timedelta(minutes=5))],
        timeline=[
            TimelineEntry(at=T0, kind="triggered", actor="api", detail="SEV1 on checkout"),
            TimelineEntry(at=T0 + timedelta(minutes=6), kind="acknowledged", actor="bob"),
            TimelineEntry(at=T0 + timedelta(minutes=20), kind="resolved", actor="bob", detail="rolled back"),
        ][: 3 if done else 2],
        acknowledged_by="bob",
        acknowledged_at=T0 + timedelta(minutes=6),
        resolved_by="bob" if done else None,
        resolved_at=T0 + timedelta(minutes=20) if done else None,
    )


SECTIONS = {
    "summary": "Payments failed.\nA bad deploy.",
    "contributing_factors": "No canary | for payments",
    "went_well": "Bob answered in 6 minutes",
    "went_wrong": "",
    "lucky": "Low traffic at 3 am",
    "action_items": [{"text": "Add a canary stage", "owner": "alice"}],
}


async def test_a_resolved_incident_has_a_draft_to_edit_and_export(tmp_path, database_url):
    IncidentRecorder(engine_for(database_url, tmp_path)).record(resolved())
    settings = Settings(data_dir=tmp_path, api_keys="ops:k", database_url=SecretStr(database_url))
    async with serve_api(settings, key="k") as api:
        review = (await api.get("/api/incidents/inc-7/review")).json()
        assert review["sections"]["summary"] == "Payments failed for 20 minutes."  # the draft
        assert (review["mtta_seconds"], review["mttr_seconds"], review["tiers_reached"]) == (
            360,
            1200,
            [1, 2],
        )
        assert review["responders"] == ["alice", "bob"]
        assert [e["kind"] for e in review["timeline"]] == ["triggered", "acknowledged", "resolved"]

        saved = await api.put("/api/incidents/inc-7/review", json=SECTIONS)
        assert saved.status_code == 200 and saved.json()["updated_by"] == "ops"
        assert saved.json()["sections"]["action_items"][0] == {
            "text": "Add a canary stage",
            "owner": "alice",
            "done": False,
        }
        # A retried recording of the resolution never overwrites what people wrote.
        IncidentRecorder(engine_for(database_url, tmp_path)).record(resolved())
        again = (await api.get("/api/incidents/inc-7/review")).json()
        assert again["sections"]["lucky"] == "Low traffic at 3 am"

        exported = await api.get("/api/incidents/inc-7/review.md")
        assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/markdown")
        text = exported.text
        assert "# Post-incident review: Checkout \\| \\<b\\>down\\</b\\>" in text  # no markup injected
        assert "No canary \\| for payments" in text and "Payments failed.\nA bad deploy." in text
        assert "- [ ] Add a canary stage (owner: alice)" in text
        assert "| Time to acknowledge | 6m 00s |" in text


async def test_reviews_refuse_what_does_not_apply(tmp_path):
    engine = engine_for(None, tmp_path)
    from store.db import migrate

    migrate(engine)
    IncidentRecorder(engine).record(resolved("inc-open", State.ACKNOWLEDGED))
    IncidentRecorder(engine).record(resolved("inc-done"))
    async with serve_api(Settings(data_dir=tmp_path, api_keys="k"), key="k") as api:
        assert (await api.get("/api/incidents/nothing/review")).status_code == 404
        not_yet = await api.get("/api/incidents/inc-open/review")
        assert not_yet.status_code == 409 and "resolved" in not_yet.json()["detail"]
        assert (await api.put("/api/incidents/inc-open/review", json=SECTIONS)).status_code == 409
        stranger = {**SECTIONS, "action_items": [{"text": "Fix it", "owner": "mallory"}]}
        refused = await api.put("/api/incidents/inc-done/review", json=stranger)
        assert refused.status_code == 422 and "mallory" in refused.json()["detail"]
        assert (await api.put("/api/incidents/inc-done/review", json={"verdict": "bad"})).status_code == 422
        assert (
            await api.get("/api/incidents/inc-done/review.md", headers={"Authorization": ""})
        ).status_code == 401
        unchanged = (await api.get("/api/incidents/inc-done/review")).json()
        assert unchanged["sections"]["action_items"] == [] and unchanged["updated_by"] is None


async def test_the_review_is_edited_in_the_browser(tmp_path):
    import re

    from hostile import sign_in
    from store.db import migrate

    engine = engine_for(None, tmp_path)
    migrate(engine)
    IncidentRecorder(engine).record(resolved("inc-done"))
    async with serve_api(Settings(data_dir=tmp_path, api_keys="test-key")) as web:
        await sign_in(web)
        page = await web.get("/incidents/inc-done/review")
        assert page.status_code == 200 and "Payments failed for 20 minutes." in page.text
        assert "<b>down</b>" not in page.text  # the title is escaped
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
        form = {
            "csrf": csrf,
            "summary": "Bad deploy",
            "lucky": "Quiet night",
            "action_items": "alice: Add a canary",
        }
        saved = await web.post("/incidents/inc-done/review", data=form)
        assert saved.status_code == 303
        shown = await web.get(saved.headers["location"])
        assert "Saved." in shown.text and "Quiet night" in shown.text and "alice: Add a canary" in shown.text
        stranger = await web.post(
            "/incidents/inc-done/review", data={**form, "action_items": "mallory: Fix it"}
        )
        assert stranger.status_code == 422 and "mallory" in stranger.text and "Quiet night" in stranger.text
        malformed = await web.post(
            "/incidents/inc-done/review", data={**form, "action_items": "no owner here"}
        )
        assert malformed.status_code == 422 and "owner: what" in malformed.text
        assert (
            await web.post("/incidents/inc-done/review", data={**form, "csrf": "forged"})
        ).status_code == 403
        exported = await web.get("/incidents/inc-done/review.md")
        assert exported.status_code == 200 and "- [ ] Add a canary (owner: alice)" in exported.text
        assert (await web.get("/incidents/nothing/review")).status_code == 404
