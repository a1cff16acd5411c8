"""The web pages as a person uses them: sign in with a key, find an incident, act on it,
read the outbox. The client below is the app's own, without the API's bearer header:
only the session cookie signs it in."""

from __future__ import annotations

import asyncio
import re
import uuid

import pytest
from pydantic import SecretStr
from web_helpers import csrf_of

AUTH = {"Authorization": "Bearer test-key"}
XSS = "<script>alert(1)</script>"
DEMO = {"title": "Checkout latency over 2 s", "severity": "SEV2", "service": "checkout", "runbook": "demo"}


async def sign_in(web, key: str = "test-key", next_path: str | None = None):
    form = await web.get("/login", params={"next": next_path} if next_path else None)
    data = {"key": key, "csrf": csrf_of(form.text)} | ({"next": next_path} if next_path else {})
    return await web.post("/login", data=data)


@pytest.fixture
def web(api):
    api.headers.pop("Authorization")
    return api


@pytest.fixture
async def browser(web):
    assert (await sign_in(web)).status_code == 303
    return web


async def open_incident(web, **fields) -> str:
    response = await web.post("/api/incidents", json=DEMO | fields, headers=AUTH)
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def view(web, incident: str) -> dict:
    return (await web.get(f"/api/incidents/{incident}", headers=AUTH)).json()


async def eventually(probe, check, tries: int = 80):
    """Visibility and pages are eventually consistent: ask again until ``check`` holds."""
    for _ in range(tries):
        result = await probe()
        if check(result):
            return result
        await asyncio.sleep(0.1)
    return result


async def paged(web, incident: str) -> dict:
    return await eventually(lambda: view(web, incident), lambda v: v["paged"])


async def act(browser, incident: str, action: str, responder: str = "alice", csrf: str | None = None):
    page = await browser.get(f"/incidents/{incident}")
    data = {"action": action, "responder": responder, "csrf": csrf_of(page.text) if csrf is None else csrf}
    return await browser.post(f"/incidents/{incident}/act", data=data)


async def test_get_incidents_without_session_redirects_to_login(web):
    response = await web.get("/incidents/abc")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/incidents/abc"


async def test_post_login_with_wrong_key_is_refused(web):
    response = await sign_in(web, key="not-the-key")
    assert response.status_code == 401 and "That key is not accepted." in response.text
    assert (await web.get("/incidents")).status_code == 303


async def test_login_sets_strict_httponly_cookie_without_the_key(web):
    cookie = (await sign_in(web)).headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Max-Age=43200" in cookie
    assert "test-key" not in cookie


async def test_login_returns_to_requested_page_but_never_off_site(web):
    assert (await sign_in(web, next_path="/outbox")).headers["location"] == "/outbox"
    assert (await sign_in(web, next_path="//evil.example/x")).headers["location"] == "/incidents"


async def test_logout_ends_the_session(browser):
    page = await browser.get("/incidents")
    assert (await browser.post("/logout", data={"csrf": csrf_of(page.text)})).status_code == 303
    assert (await browser.get("/incidents")).status_code == 303


async def test_list_shows_opened_incident_linking_to_its_page(browser):
    title = f"Listing {uuid.uuid4().hex[:8]}"
    incident = await open_incident(browser, title=title)
    page = await eventually(lambda: browser.get("/incidents"), lambda r: title in r.text)
    assert f'href="/incidents/{incident}"' in page.text and title in page.text


async def test_list_filters_by_state_severity_and_service(browser):
    service = f"web-{uuid.uuid4().hex[:8]}"
    acked = await open_incident(browser, service=service, title="Acked one")
    other = await open_incident(browser, service=service, severity="SEV4", title="Other one")
    await browser.post(f"/api/incidents/{acked}/acknowledge", json={"responder": "alice"}, headers=AUTH)

    def listing(**filters):
        return lambda: browser.get("/incidents", params={"service": service, **filters})

    by_state = await eventually(listing(state="acknowledged"), lambda r: acked in r.text)
    assert acked in by_state.text and other not in by_state.text
    by_severity = await eventually(listing(severity="SEV4"), lambda r: other in r.text)
    assert other in by_severity.text and acked not in by_severity.text
    elsewhere = await browser.get("/incidents", params={"service": "nothing-here"})
    assert acked not in elsewhere.text and "No incident matches" in elsewhere.text


async def test_list_with_injected_service_filter_is_422(browser):
    response = await browser.get("/incidents", params={"service": "x' OR 1=1"})
    assert response.status_code == 422 and "Service: lowercase letters" in response.text


async def test_detail_shows_timeline_who_is_paged_and_refreshes(browser):
    incident = await open_incident(browser, description="p99 above 2 s", labels={"region": "eu-west"})
    await paged(browser, incident)
    page = await browser.get(f"/incidents/{incident}")
    assert page.status_code == 200
    paged_now = re.search(r"<dt>Paged now</dt><dd>(.*?)</dd>", page.text).group(1)
    assert "Alice Martin" in paged_now
    assert "1: first-line" in page.text and "p99 above 2 s" in page.text and "eu-west" in page.text
    assert "triggered &middot; api" in page.text and "paged &middot; runbook" in page.text
    assert '<meta http-equiv="refresh" content="15">' in page.text
    assert f"/namespaces/default/workflows/incident-{incident}" in page.text


async def test_acknowledge_from_detail_page_changes_state(browser):
    incident = await open_incident(browser)
    await paged(browser, incident)
    response = await act(browser, incident, "acknowledge")
    assert response.status_code == 303
    after = await browser.get(response.headers["location"])
    assert "Acknowledged by Alice Martin." in after.text and "state-acknowledged" in after.text
    assert (await view(browser, incident))["acknowledged_by"] == "alice"


async def test_escalate_from_detail_page_pages_the_next_tier(browser):
    incident = await open_incident(browser)
    await paged(browser, incident)
    response = await act(browser, incident, "escalate", responder="alice")
    assert response.status_code == 303
    after = await browser.get(response.headers["location"])
    paged_now = re.search(r"<dt>Paged now</dt><dd>(.*?)</dd>", after.text).group(1)
    assert "Escalated by Alice Martin." in after.text and "2: team-lead" in after.text
    assert "Bob Chen" in paged_now and "Alice Martin" not in paged_now


async def test_acknowledge_twice_shows_the_workflow_refusal(browser):
    incident = await open_incident(browser)
    await browser.post(f"/api/incidents/{incident}/acknowledge", json={"responder": "bob"}, headers=AUTH)
    response = await act(browser, incident, "acknowledge", responder="alice")
    assert response.status_code == 409 and "Incident already acknowledged by bob" in response.text
    assert (await view(browser, incident))["acknowledged_by"] == "bob"


async def test_post_without_csrf_token_is_403_and_changes_nothing(browser):
    incident = await open_incident(browser)
    response = await act(browser, incident, "acknowledge", csrf="")
    assert response.status_code == 403 and "This form has expired" in response.text
    assert (await view(browser, incident))["state"] == "triggered"


async def test_post_with_another_sessions_csrf_token_is_403_and_changes_nothing(browser):
    incident = await open_incident(browser)
    old = csrf_of((await browser.get("/incidents")).text)
    await sign_in(browser)  # a new session, with a token of its own
    response = await act(browser, incident, "resolve", csrf=old)
    assert response.status_code == 403
    assert (await view(browser, incident))["state"] == "triggered"


async def test_note_form_adds_the_note_to_the_timeline(browser):
    incident = await open_incident(browser)
    page = await browser.get(f"/incidents/{incident}")
    response = await browser.post(
        f"/incidents/{incident}/notes",
        data={"csrf": csrf_of(page.text), "author": "bob", "text": "rolling back 1.42"},
    )
    assert response.status_code == 303
    after = await browser.get(response.headers["location"])
    assert "Note added by Bob Chen." in after.text
    assert "note &middot; Bob Chen: rolling back 1.42" in after.text


async def test_unknown_incident_page_is_404(browser):
    response = await browser.get("/incidents/nosuchthing")
    assert response.status_code == 404 and "No such incident" in response.text


async def test_script_title_is_escaped_in_list_detail_and_outbox(browser):
    title = f"{XSS} {uuid.uuid4().hex[:8]}"
    incident = await open_incident(browser, title=title)
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt;"
    listing = await eventually(lambda: browser.get("/incidents"), lambda r: incident in r.text)
    outbox = await eventually(lambda: browser.get("/outbox"), lambda r: title[-8:] in r.text)
    name = re.search(rf'href="/outbox/({incident}-[a-z0-9-]+\.json)"', outbox.text).group(1)
    pages = [
        listing,
        await browser.get(f"/incidents/{incident}"),
        outbox,
        await browser.get(f"/outbox/{name}"),
    ]
    for page in pages:
        assert escaped in page.text and XSS not in page.text


async def test_new_incident_with_empty_title_rerenders_with_error(browser):
    form = await browser.get("/incidents/new")
    response = await browser.post(
        "/incidents/new",
        data={
            "csrf": csrf_of(form.text),
            "title": "  ",
            "severity": "SEV3",
            "service": "checkout",
            "description": "kept as typed",
            "runbook": "demo",
        },
    )
    assert response.status_code == 422
    assert "Give the incident a title" in response.text and "kept as typed" in response.text


async def test_new_incident_form_opens_the_incident_and_shows_it(browser):
    form = await browser.get("/incidents/new")
    assert 'value="demo"' in form.text and 'value="security-breach"' in form.text
    response = await browser.post(
        "/incidents/new",
        data={
            "csrf": csrf_of(form.text),
            "title": "Opened from the web",
            "severity": "SEV1",
            "service": "payments",
            "description": "",
            "runbook": "demo",
        },
    )
    assert response.status_code == 303
    incident = response.headers["location"].split("/")[-1].split("?")[0]
    assert (await view(browser, incident))["title"] == "Opened from the web"
    assert "Opened." in (await browser.get(response.headers["location"])).text


async def test_outbox_lists_tier1_email_and_renders_it(browser):
    incident = await open_incident(browser)
    outbox = await eventually(lambda: browser.get("/outbox"), lambda r: f"/outbox/{incident}-" in r.text)
    assert "to alice@example.com" in outbox.text and "tier 1 (first-line) paged" in outbox.text
    email = await browser.get(f"/outbox/{incident}-0001-alice.json")
    assert email.status_code == 200 and "you are paged for this incident" in email.text
    assert ">Acknowledge</a>" in email.text
    assert "script-src" not in email.headers["content-security-policy"]
    assert email.headers["content-security-policy"].startswith("default-src 'none'")


@pytest.mark.parametrize(
    "name", ["..%2Fsecret.json", "%2E%2E%2Fsecret.json", "notes.txt", "Upper.json", ".hidden.json"]
)
async def test_outbox_refuses_names_outside_the_pattern(browser, name):
    (browser.settings.data_dir / "secret.json").write_text('{"subject": "TOPSECRET"}')
    browser.settings.outbox.mkdir(parents=True, exist_ok=True)
    (browser.settings.outbox / "notes.txt").write_text("TOPSECRET")
    (browser.settings.outbox / ".hidden.json").write_text("TOPSECRET")
    response = await browser.get(f"/outbox/{name}")
    assert response.status_code == 404 and "TOPSECRET" not in response.text


async def test_outbox_is_404_with_sendgrid_configured(browser):
    browser.settings.sendgrid_api_key = SecretStr("SG.test")
    assert (await browser.get("/outbox")).status_code == 404
    page = await browser.get("/incidents")
    assert 'href="/outbox"' not in page.text


async def test_pages_render_on_a_phone_without_script_and_with_security_headers(browser):
    incident = await open_incident(browser)
    for path in ("/login", "/incidents", "/incidents/new", f"/incidents/{incident}", "/outbox"):
        page = await browser.get(path)
        assert page.status_code == 200, path
        assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page.text
        assert "<script" not in page.text.lower()
        assert page.headers["x-frame-options"] == "DENY" and page.headers["cache-control"] == "no-store"
