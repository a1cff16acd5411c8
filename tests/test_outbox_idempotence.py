"""The notify activity delivers each notification once: a retry of the same notification
(same id) leaves the one outbox file as it was, a different notification gets its own
file, and the email carries untracked, signed links back to this deployment."""

from datetime import UTC, datetime

import pytest
from temporalio.testing import ActivityEnvironment

from conftest import Outbox
from security.links import LinkSigner
from services.settings import Settings
from worker import build_activities
from workflows.activity_models import Notification
from workflows.models import IncidentView, NotificationKind, Person, State, TierRef

BOB = Person(id="bob", name="Bob Chen", email="bob@example.com")


def notification(note_id: str = "inc1234567-0002-bob") -> Notification:
    incident = IncidentView(
        id="inc1234567",
        title="Checkout is failing",
        severity="SEV2",
        service="checkout",
        runbook="demo",
        state=State.TRIGGERED,
        created_at=datetime(2025, 1, 1, 12, 0, tzinfo=UTC),
    )
    return Notification(
        id=note_id,
        kind=NotificationKind.PAGE,
        incident=incident,
        recipient=BOB,
        tier=TierRef(number=2, name="team-lead"),
        previously_paged=["Alice Martin"],
    )


def send_email(settings: Settings):
    """The activity exactly as the worker registers it."""
    send, *_others = build_activities(settings)
    return send


def links(payload_text: str) -> dict[str, str]:
    return dict(
        line.split(": ", 1)
        for line in payload_text.splitlines()
        if line.startswith(("Acknowledge: ", "Resolve: ", "Escalate: "))
    )


async def test_write_one_file_when_same_notification_is_sent_twice(settings):
    send = send_email(settings)
    first = await ActivityEnvironment().run(send, notification())
    path = settings.outbox / "inc1234567-0002-bob.json"
    written, inode = path.read_text(), path.stat().st_ino
    second = await ActivityEnvironment().run(send, notification())

    assert first.delivered and second.delivered and first.where == second.where
    assert [p.name for p in settings.outbox.glob("*.json")] == ["inc1234567-0002-bob.json"]
    assert path.read_text() == written and path.stat().st_ino == inode  # not rewritten
    assert not list(settings.outbox.glob(".*.tmp"))


async def test_write_second_file_for_different_notification(settings, outbox):
    send = send_email(settings)
    await ActivityEnvironment().run(send, notification("inc1234567-0002-bob"))
    await ActivityEnvironment().run(send, notification("inc1234567-0005-bob"))

    assert sorted(p.name for p in settings.outbox.glob("*.json")) == [
        "inc1234567-0002-bob.json",
        "inc1234567-0005-bob.json",
    ]
    assert [m["custom_args"]["notification_id"] for m in outbox.messages()] == [
        "inc1234567-0002-bob",
        "inc1234567-0005-bob",
    ]


@pytest.mark.parametrize("public_url", [None, "https://oncall.example.com/"])
async def test_sign_untracked_links_to_public_url(tmp_path, public_url):
    settings = Settings(data_dir=tmp_path, **({"public_url": public_url} if public_url else {}))
    base = (public_url or "http://127.0.0.1:8000").rstrip("/")
    assert settings.public_url == base
    await ActivityEnvironment().run(send_email(settings), notification())

    [payload] = Outbox(settings.outbox).messages()
    assert payload["tracking_settings"]["click_tracking"] == {"enable": False, "enable_text": False}
    assert payload["personalizations"][0]["to"] == [{"email": "bob@example.com"}]
    text = {part["type"]: part["value"] for part in payload["content"]}
    found = links(text["text/plain"])
    assert set(found) == {"Acknowledge", "Resolve", "Escalate"}
    acknowledge = found["Acknowledge"]
    assert acknowledge.startswith(settings.public_url + "/r/")
    assert f'href="{acknowledge}"' in text["text/html"]

    claim = LinkSigner(settings.link_secrets, settings.link_max_age).verify(
        acknowledge.removeprefix(settings.public_url + "/r/"), "acknowledge"
    )
    assert (claim.incident, claim.responder) == ("inc1234567", "bob")
