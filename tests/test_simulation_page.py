"""``/runbooks`` as a runbook author uses it: signed in with a key, the list of runbooks,
a runbook's page with its simulation form (an example script filled in), a simulation
posted with the session's CSRF token that shows who was paged when as a table, totals and
a picture, and every bad input refused on the page with one sentence. The simulation runs
its own time-skipping server: no Temporal server is needed here."""

from __future__ import annotations

import asyncio
import html
import re
import xml.etree.ElementTree as ET

import pytest
from web_helpers import csrf_of

from api import simulate_page
from conftest import serve_api
from services.settings import Settings

XSS = "<script>alert(1)</script>"
SCRIPT = """\
name: tier 1 acknowledges at 7m
steps:
  - {at: 7m, do: acknowledge, by: tier 1}
"""
FORM = {
    "severity": "SEV1",
    "service": "checkout",
    "start": "2026-03-08T01:30",
    "zone": "America/Chicago",
    "title": "Checkout is down",
    "length": "1h",
    "script": SCRIPT,
}


def rows_of(text: str) -> list[list[str]]:
    """The timeline table's rows, as the cells' text."""
    body = text.split('<table id="timeline">', 1)[1].split("</table>", 1)[0]
    return [
        [html.unescape(cell) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
        if "<td" in row
    ]


@pytest.fixture
async def web(tmp_path):
    async with serve_api(Settings(data_dir=tmp_path, api_keys="k")) as client:
        yield client


async def simulate(browser, runbook: str = "demo", **fields):
    page = await browser.get(f"/runbooks/{runbook}")
    return await browser.post(f"/runbooks/{runbook}", data=FORM | fields | {"csrf": csrf_of(page.text)})


async def test_the_pages_need_a_session(web):
    listed = await web.get("/runbooks")
    assert listed.status_code == 303 and listed.headers["location"] == "/login?next=/runbooks"
    page = await web.get("/runbooks/demo")
    assert page.status_code == 303 and page.headers["location"] == "/login?next=/runbooks/demo"
    posted = await web.post("/runbooks/demo", data=FORM | {"csrf": "x"})
    assert posted.status_code == 303 and posted.headers["location"] == "/login"


async def test_the_list_shows_every_runbook_with_its_description(browser):
    page = await browser.get("/runbooks")
    assert page.status_code == 200
    assert '<a href="/runbooks/demo"><strong>demo</strong></a>' in page.text
    assert '<a href="/runbooks/default">' in page.text
    assert "Three tiers, 10 seconds each, for trying the product and for checks." in page.text
    assert '<a href="/runbooks">Runbooks</a>' in (await browser.get("/incidents/new")).text


async def test_a_runbook_page_offers_the_form_with_an_example_script(browser):
    page = await browser.get("/runbooks/demo")
    assert page.status_code == 200 and "Simulate demo" in page.text
    assert 'name="start" type="datetime-local"' in page.text and 'name="zone" value="UTC"' in page.text
    assert "{at: 7m, do: acknowledge, by: tier 1}" in page.text
    assert '<table id="timeline">' not in page.text
    missing = await browser.get("/runbooks/nonesuch")
    assert missing.status_code == 404 and "No such runbook" in missing.text


async def test_a_simulation_shows_who_was_paged_when_as_a_table_and_a_picture(browser):
    response = await simulate(browser)
    assert response.status_code == 200, response.text
    rows = rows_of(response.text)
    pages = [row for row in rows if row[3] == "paged"]
    assert pages[0] == [
        "+0s",
        "Sun 2026-03-08 01:30:00 CST",
        "1",
        "paged",
        "Alice Martin",
        "first-line; schedule first-line (revision 1), layer everyday",
    ]
    assert [row[4] for row in pages] == ["Alice Martin", "Bob Chen", "Carol Diaz"]
    acknowledged = next(row for row in rows if row[3] == "acknowledged")
    assert acknowledged[:2] == ["+7m", "Sun 2026-03-08 01:37:00 CST"] and acknowledged[4] == "Alice Martin"
    assert "<dt>time to acknowledge</dt><dd>7m</dd>" in response.text
    assert "<dt>pages per person</dt><dd>Alice Martin 1, Bob Chen 1, Carol Diaz 1</dd>" in response.text
    drawing = response.text.split('<div class="picture" id="picture">', 1)[1].split("</svg>", 1)[0]
    picture = ET.fromstring(drawing + "</svg>")
    marks = [g for g in picture.iter("{http://www.w3.org/2000/svg}g") if g.get("class") == "mark paged"]
    assert len(marks) == 3
    assert 'name="service" value="checkout"' in response.text  # the form keeps what was typed


async def test_names_from_the_script_are_escaped_in_the_table_and_the_picture(browser):
    script = f"name: '{XSS}'\nsteps:\n  - {{at: 5s, do: note, text: '{XSS}'}}\n"
    response = await simulate(browser, script=script, length="30s")
    assert response.status_code == 200, response.text
    assert XSS not in response.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text


@pytest.mark.parametrize(
    ("fields", "sentence"),
    [
        ({"script": "steps:\n  - {at: 7m, do: dance}\n"}, "Script: steps.0.do: Input should be"),
        ({"script": "steps: [\n"}, "Script: not valid YAML (line 2)."),
        ({"script": "steps:\n  - {at: 7m, do: snooze}\n"}, "Script: steps.0: a snooze step needs for:"),
        ({"zone": "Mars/Olympus_Mons"}, "Time zone: an IANA time zone name such as America/Chicago"),
        ({"zone": "../../etc/passwd"}, "Time zone: an IANA time zone name such as America/Chicago"),
        ({"start": "yesterday"}, "Start: a date and time (YYYY-MM-DDTHH:MM)."),
        ({"length": "6 hours"}, "Length: &#39;6 hours&#39; is not a duration: write e.g. 45s"),
        ({"length": "40d"}, "Length: more than 0s and at most 31d."),
        ({"service": "Not A Service!"}, "Service: String should match pattern"),
        ({"title": ""}, "Title: String should have at least 1 character."),
    ],
)
async def test_bad_input_is_refused_with_one_sentence(browser, fields, sentence):
    response = await simulate(browser, **fields)
    assert response.status_code == 422
    assert f"<strong>Not simulated:</strong> {sentence}" in response.text
    assert "Traceback" not in response.text and '<table id="timeline">' not in response.text


async def test_a_script_too_long_is_refused(browser):
    steps = "".join(f"  - {{at: {n}m, do: note}}\n" for n in range(simulate_page.MAX_STEPS + 1))
    response = await simulate(browser, script="steps:\n" + steps)
    assert response.status_code == 422 and "Script: at most 50 steps." in response.text
    huge = await simulate(browser, script="#" * (simulate_page.MAX_SCRIPT_CHARS + 1))
    assert huge.status_code == 422 and "Script: at most 10,000 characters." in huge.text


async def test_unknown_runbook_and_expired_form(browser):
    page = await browser.get("/runbooks/demo")
    posted = await browser.post("/runbooks/nonesuch", data=FORM | {"csrf": csrf_of(page.text)})
    assert posted.status_code == 404 and "No such runbook" in posted.text
    stale = await browser.post("/runbooks/demo", data=FORM | {"csrf": "stale"})
    assert stale.status_code == 403 and "This form has expired" in stale.text


async def test_a_second_simulation_at_once_is_told_to_come_back(browser, monkeypatch):
    monkeypatch.setattr(simulate_page, "BUSY_WAIT", 0.05)
    browser.app.state.simulation_gate = asyncio.Semaphore(0)  # another simulation holds it
    response = await simulate(browser)
    assert response.status_code == 429 and response.headers["retry-after"] == "10"
    assert "Another simulation is running: try again in a few seconds." in response.text


async def test_an_empty_service_is_the_runbooks_sample_service(browser):
    response = await simulate(browser, service="", length="30s", script="")
    assert response.status_code == 200, response.text
    assert rows_of(response.text)[0][3:] == ["triggered", "", "SEV1 on example, runbook demo"]
