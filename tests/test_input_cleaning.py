"""Input the API cleans or refuses rather than keeps: control and bidi characters in titles,
blank notes, JSON objects that give a key twice, outbox names too long for the file system.

Titles: control characters other than whitespace (NUL, BEL, ESC, DEL, C1) and the bidi
controls (U+061C, U+200E/F, U+202A-202E, U+2066-2069) are removed, not refused, so an
alert is never dropped for its summary; a title left empty is a 422. Whitespace (CR, LF,
tab) and other format characters (zero-width joiner in emoji) stay as typed.
"""

from __future__ import annotations

import asyncio
import json
import re

import pytest
from pydantic import ValidationError

from api.limits import first_duplicate_key
from hostile import AUTH, serve, sign_in
from workflows.models import IncidentRequest, Note

DEMO = {"severity": "SEV2", "service": "checkout", "runbook": "demo"}
EMOJI = "\U0001f469\u200d\U0001f692 zero\u200bwidth\ufeff"  # ZWJ, ZWSP, BOM: format, not bidi
ALERT = {
    "status": "firing",
    "labels": {"alertname": "DiskFull"},
    "annotations": {},
    "startsAt": "2025-05-01T10:00:00Z",
    "fingerprint": "0123456789abcdef",
}


@pytest.fixture
async def client(dev_env, tmp_path):
    async with serve(dev_env, tmp_path) as served:
        yield served


def title_of(title: str) -> str:
    return IncidentRequest(title=title, **DEMO).title


# -- titles ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("nul\x00byte", "nulbyte"),
        ("bell\x07 and escape\x1b[31m", "bell and escape[31m"),
        ("del\x7f and c1\x85nel\x9b", "del and c1\x85nel"),
        ("invoice \u202egnp.exe", "invoice gnp.exe"),
        ("\u2066isolate\u2069 \u202aembed\u202c \u200emarks\u200f \u061c", "isolate embed marks"),
        ("Subject\r\nBcc: evil@example.com", "Subject\r\nBcc: evil@example.com"),
        ("tab\tkept", "tab\tkept"),
        (EMOJI, EMOJI),
        ("  \x00 padded \u202e ", "padded"),
    ],
    ids=["nul", "bel-esc", "del-c1", "rlo", "bidi-set", "crlf", "tab", "zwj-emoji", "trimmed"],
)
def test_title_loses_control_and_bidi_characters_and_keeps_the_rest(typed, kept):
    assert title_of(typed) == kept


@pytest.mark.parametrize("typed", ["\x00", "\u202e\u202c", " \x07 \u2066 "])
def test_title_empty_once_cleaned_is_refused(typed):
    with pytest.raises(ValidationError, match="at least 1 character"):
        title_of(typed)


def test_title_limit_counts_what_is_kept():
    assert title_of("x" * 200 + "\x00" * 50) == "x" * 200
    with pytest.raises(ValidationError):
        title_of("x" * 201)


async def test_post_incident_with_control_title_is_stored_and_mailed_clean(client):
    response = await client.post(
        "/api/incidents", json=DEMO | {"title": "disk\x00 full\x07 on \u202edb1"}, headers=AUTH
    )
    assert response.status_code == 201, response.text
    incident = response.json()["id"]
    view = (await client.get(f"/api/incidents/{incident}", headers=AUTH)).json()
    assert view["title"] == "disk full on db1"
    for _ in range(100):
        mails = sorted(client.settings.outbox.glob(f"{incident}-*.json"))
        if mails:
            break
        await asyncio.sleep(0.1)
    subject = json.loads(mails[0].read_text(encoding="utf-8"))["subject"]
    assert "disk full on db1" in subject and not {"\x00", "\x07", "\u202e"} & set(subject)


async def test_post_incident_with_only_control_characters_in_title_is_422(client):
    response = await client.post("/api/incidents", json=DEMO | {"title": "\x00\u202e\x07"}, headers=AUTH)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "title"]


# -- notes -------------------------------------------------------------------------------


def test_note_is_trimmed_and_a_blank_one_refused():
    assert Note(author="bob", text="  rolling back \n").text == "rolling back"
    for blank in ["", "   ", "\n\t \r\n"]:
        with pytest.raises(ValidationError):
            Note(author="bob", text=blank)


async def test_post_whitespace_note_is_422_and_not_stored(client):
    opened = await client.post("/api/incidents", json=DEMO | {"title": "Notes"}, headers=AUTH)
    incident = opened.json()["id"]
    blank = await client.post(
        f"/api/incidents/{incident}/notes", json={"author": "bob", "text": " \n\t "}, headers=AUTH
    )
    assert blank.status_code == 422 and blank.json()["detail"][0]["loc"] == ["body", "text"]
    padded = await client.post(
        f"/api/incidents/{incident}/notes", json={"author": "bob", "text": "  on it \n"}, headers=AUTH
    )
    assert padded.status_code == 200, padded.text
    notes = [e["detail"] for e in padded.json()["timeline"] if e["kind"] == "note"]
    assert notes == ["on it"]


async def test_web_blank_note_is_refused_with_a_reason(client):
    opened = await client.post("/api/incidents", json=DEMO | {"title": "Web notes"}, headers=AUTH)
    incident = opened.json()["id"]
    await sign_in(client)
    page = await client.get(f"/incidents/{incident}")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    response = await client.post(
        f"/incidents/{incident}/notes", data={"csrf": csrf, "author": "bob", "text": "   "}
    )
    assert response.status_code == 422 and "Write the note first" in response.text
    view = (await client.get(f"/api/incidents/{incident}", headers=AUTH)).json()
    assert not [e for e in view["timeline"] if e["kind"] == "note"]


# -- duplicate JSON keys -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "key"),
    [
        (b'{"a": 1, "a": 2}', "a"),
        (b'{"a": {"b": 1, "c": 2, "b": 3}}', "b"),
        (b'[{"x": 1}, {"y": 1, "y": 1}]', "y"),
        (b'{"a": 1, "b": {"a": 2}}', None),
        (b"not json", None),
        (b'{"\\u0061": 1, "a": 2}', "a"),
    ],
)
def test_first_duplicate_key_finds_a_key_given_twice_at_any_depth(body, key):
    assert first_duplicate_key(body) == key


async def test_post_json_with_a_duplicate_key_is_400_on_every_json_route(client):
    opened = await client.post("/api/incidents", json=DEMO | {"title": "Target"}, headers=AUTH)
    incident = opened.json()["id"]
    bodies = {
        "/api/incidents": '{"title": "a", "title": "b", "severity": "SEV2", "service": "checkout"}',
        f"/api/incidents/{incident}/acknowledge": '{"responder": "alice", "responder": "bob"}',
        f"/api/incidents/{incident}/notes": '{"author": "bob", "text": "x", "author": "alice"}',
        "/api/integrations/alertmanager": json.dumps({"version": "4", "alerts": [ALERT]})[:-1]
        + ', "version": "4"}',
    }
    for route, body in bodies.items():
        for content_type in ["application/json", "application/merge-patch+json; charset=utf-8"]:
            response = await client.post(route, content=body, headers=AUTH | {"Content-Type": content_type})
            assert response.status_code == 400, (route, response.text)
            assert response.headers["content-type"] == "application/json"
            assert "duplicate key" in response.json()["detail"]
    view = (await client.get(f"/api/incidents/{incident}", headers=AUTH)).json()
    assert view["state"] == "triggered"


async def test_post_nested_duplicate_label_is_400_and_opens_nothing(client):
    body = json.dumps(DEMO | {"title": "Labels", "labels": {}}).replace(
        '"labels": {}', '"labels": {"region": "eu", "region": "us"}'
    )
    response = await client.post(
        "/api/incidents", content=body, headers=AUTH | {"Content-Type": "application/json"}
    )
    assert response.status_code == 400 and "'region'" in response.json()["detail"]


# -- outbox names ------------------------------------------------------------------------


@pytest.mark.parametrize("length", [196, 300, 5000])
async def test_outbox_name_too_long_for_the_file_system_is_the_404_page(client, length):
    await sign_in(client)
    client.settings.outbox.mkdir(parents=True, exist_ok=True)
    response = await client.get(f"/outbox/{'a' * length}.json")
    assert response.status_code == 404 and "No such email" in response.text
