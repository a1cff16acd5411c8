"""Hostile input through intake, email, the action links, the web pages and the report.

Proven here, against a real Temporal dev server with a worker:

- intake answers 201, 422 or 413 to any title (script and attribute injection, Jinja
  syntax, CR/LF, RTL override, emoji, zero-width characters, NUL, 10,000 characters,
  1 MB), never a 5xx; bodies over ``MAX_BODY_BYTES`` are 413 with a JSON detail,
  whether their length is declared or streamed; bodies that are not UTF-8, or JSON
  with a lone surrogate escape, are 4xx with a JSON detail on every JSON route;
- an accepted title is text everywhere: escaped in the tier-1 email's HTML part, on
  the ``/r/<token>`` confirmation page and on the signed-in list and incident pages,
  never evaluated as a template (``{{7*7}}`` stays as typed); the email subject is one
  line, so ``Bcc:`` can never become a header; the Markdown report escapes markup and
  keeps the title on its heading line.
"""

from __future__ import annotations

import asyncio
import html
import inspect
import json
import re
import uuid

import pytest

from hostile import AUTH, HUGE, LONE_SURROGATE, LONG, NON_UTF8, TITLES, serve, sign_in
from workflows.models import clean_text

DEMO = {"severity": "SEV2", "service": "checkout", "runbook": "demo"}
JSON_ROUTES = [
    "/api/incidents",
    "/api/incidents/{id}/acknowledge",
    "/api/incidents/{id}/notes",
    "/api/integrations/alertmanager",
]


@pytest.fixture
async def client(dev_env, tmp_path):
    async with serve(dev_env, tmp_path) as served:  # MAX_BODY_BYTES at its default, 64 KiB
        yield served


async def eventually(probe, check, tries: int = 100):
    """Emails, reports and visibility come a moment later: ask again until ``check`` holds."""
    for _ in range(tries):
        result = probe()
        result = await result if inspect.isawaitable(result) else result
        if check(result):
            return result
        await asyncio.sleep(0.1)
    raise AssertionError(f"never happened; last: {result!r}"[:500])


async def tier1_email(client, incident: str) -> dict:
    paths = await eventually(lambda: sorted(client.settings.outbox.glob(f"{incident}-*-alice.json")), bool)
    return json.loads(paths[0].read_text(encoding="utf-8"))


def part(email: dict, kind: str) -> str:
    return next(c["value"] for c in email["content"] if c["type"] == kind)


def assert_shown_as_text(fragments: list[str], title: str, page: str) -> None:
    """Some fragment is the title, HTML-escaped; the raw title appears nowhere as markup."""
    assert any(html.unescape(f) == title and not {"<", ">", '"'} & set(f) for f in fragments), fragments
    if {"<", ">", '"'} & set(title):
        assert title not in page


def assert_report_escapes(report: str, title: str) -> None:
    heading, after = report.splitlines()[:2]
    assert heading.startswith("# Incident report: ") and after == ""
    shown = heading.removeprefix("# Incident report: ")
    assert not re.search(r"(?<!\\)[<>{}\[\]`*_#|!]", shown), shown  # every special is escaped
    assert re.sub(r"\\(.)", r"\1", shown) == title.replace("\r", " ").replace("\n", " ")


async def open_incident(client, **fields) -> str:
    response = await client.post("/api/incidents", json=DEMO | fields, headers=AUTH)
    assert response.status_code == 201, response.text
    return response.json()["id"]


@pytest.mark.parametrize("title", [*TITLES.values(), LONG, HUGE], ids=[*TITLES, "10k", "1mb"])
async def test_post_incident_with_hostile_title_answers_201_422_or_413(client, title):
    response = await client.post("/api/incidents", json=DEMO | {"title": title}, headers=AUTH)
    expected = {LONG: 422, HUGE: 413}.get(title, 201)
    assert response.status_code == expected, response.text[:300]
    assert response.headers["content-type"] == "application/json"
    assert ("id" if expected == 201 else "detail") in response.json()


@pytest.mark.parametrize("title", TITLES.values(), ids=TITLES.keys())
async def test_open_incident_with_hostile_title_shows_it_as_text_everywhere(client, title):
    service = f"hostile-{uuid.uuid4().hex[:8]}"
    # Control and bidi-override characters are removed from titles (never shown as typed).
    typed, title = title, str(clean_text(title)).strip()
    incident = await open_incident(client, title=typed, service=service)
    email = await tier1_email(client, incident)
    subject, page_html = email["subject"], part(email, "text/html")
    assert "\r" not in subject and "\n" not in subject  # one line: "Bcc:" is never a header
    # As typed, whitespace runs folded to one space: never evaluated ({{7*7}} is not 49).
    assert subject == f"[SEV2] {service}: {' '.join(title.split())} - tier 1 (first-line) paged"
    assert_shown_as_text(re.findall(r"<h1[^>]*>(.*?)</h1>", page_html, re.S), title, page_html)
    assert_shown_as_text(re.findall(r"<title>(.*?)</title>", page_html, re.S), title, page_html)

    link = re.search(r"Acknowledge: \S+?(/r/\S+)", part(email, "text/plain")).group(1)
    confirm = await client.get(link)
    assert confirm.status_code == 200
    assert_shown_as_text(re.findall(r"<h1>(.*?)</h1>", confirm.text, re.S), title, confirm.text)

    await sign_in(client)
    detail = await client.get(f"/incidents/{incident}")
    assert detail.status_code == 200
    assert_shown_as_text(re.findall(r"<h1>(.*?)</h1>", detail.text, re.S), title, detail.text)
    row = rf'href="/incidents/{incident}"><strong>(.*?)</strong>'
    listing = await eventually(
        lambda: client.get("/incidents", params={"service": service}), lambda r: re.search(row, r.text, re.S)
    )
    assert_shown_as_text(re.findall(row, listing.text, re.S), title, listing.text)

    resolved = await client.post(
        f"/api/incidents/{incident}/resolve", json={"responder": "alice"}, headers=AUTH
    )
    assert resolved.status_code == 200, resolved.text
    report = client.settings.reports / f"{incident}.md"
    await eventually(report.exists, bool)
    assert_report_escapes(report.read_text(encoding="utf-8"), title)


async def test_open_incident_with_10k_markup_description_escapes_it_in_email(client):
    incident = await open_incident(client, title="Long description", description=LONG)
    page_html = part(await tier1_email(client, incident), "text/html")
    assert "&lt;b&gt;x&lt;/b&gt;" * 1250 in page_html and "<b>x</b>" not in page_html


@pytest.mark.parametrize("streamed", [False, True], ids=["declared-length", "streamed"])
async def test_post_oversized_body_is_413_with_json_detail(client, streamed):
    body = json.dumps(DEMO | {"title": "big", "description": HUGE}).encode()
    if streamed:

        async def chunks():
            for start in range(0, len(body), 16_384):
                yield body[start : start + 16_384]

    response = await client.post(
        "/api/incidents",
        content=chunks() if streamed else body,
        headers=AUTH | {"Content-Type": "application/json"},
    )
    assert response.status_code == 413, response.text[:300]
    assert "65536" in response.json()["detail"]


@pytest.mark.parametrize("content_type", ["application/json", "text/plain"])
@pytest.mark.parametrize("body", [NON_UTF8, LONE_SURROGATE], ids=["non-utf8", "lone-surrogate"])
@pytest.mark.parametrize("route", JSON_ROUTES)
async def test_post_undecodable_body_is_4xx_with_json_detail(client, route, body, content_type):
    incident = await open_incident(client, title="Target") if "{id}" in route else ""
    response = await client.post(
        route.replace("{id}", incident), content=body, headers=AUTH | {"Content-Type": content_type}
    )
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:300])
    assert response.headers["content-type"] == "application/json"
    assert "detail" in response.json()


@pytest.mark.parametrize(
    "form",
    [
        b"title=%FF%FE&severity=SEV2&service=checkout&runbook=demo",
        b"title=\xff\xfe&severity=SEV2&service=checkout&runbook=demo",
    ],
    ids=["percent-encoded", "raw-bytes"],
)
async def test_post_web_form_with_non_utf8_title_never_answers_5xx(client, form):
    await sign_in(client)
    page = await client.get("/incidents/new")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    response = await client.post(
        "/incidents/new",
        content=form + b"&csrf=" + csrf.encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code in (303, 400, 422), (response.status_code, response.text[:300])
    if response.status_code == 303:
        shown = await client.get(response.headers["location"])
        assert shown.status_code == 200 and re.search(r"<h1>.+</h1>", shown.text)
