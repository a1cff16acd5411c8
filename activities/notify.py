"""The notify activity: one email to one person, through SendGrid or into the outbox.

Retry contract: throttling (429), server errors (5xx) and network failures
raise a retryable error and Temporal retries with backoff; any other 4xx means
SendGrid refused the message for good and raises a non-retryable
``EmailRejected`` that the workflow records on the timeline. A notification
already delivered (same id) is never delivered twice by a retry.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from python_http_client.exceptions import HTTPError
from sendgrid import SendGridAPIClient
from sendgrid.helpers.mail import ClickTracking, CustomArg, Mail, TrackingSettings
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.rendering import TEMPLATES
from escalate.links import LinkSigner
from workflows import contract
from workflows.models import Notification, NotificationKind, NotificationResult

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Email:
    subject: str
    text: str
    html: str


class Notifier:
    """Holds the mail settings and the SendGrid client; built once in the worker."""

    def __init__(
        self,
        *,
        outbox: Path,
        public_url: str,
        mail_from: str,
        signer: LinkSigner,
        sendgrid: SendGridAPIClient | None = None,
    ) -> None:
        self.outbox = outbox
        self.public_url = public_url
        self.mail_from = mail_from
        self.signer = signer
        self.sendgrid = sendgrid
        (outbox / ".sent").mkdir(parents=True, exist_ok=True)

    @activity.defn(name=contract.SEND_EMAIL)
    async def send_email(self, note: Notification) -> NotificationResult:
        payload = self.build(note).get()
        if self.sendgrid is None:
            return NotificationResult(id=note.id, delivered=True, where=self._to_outbox(note, payload))
        return await asyncio.to_thread(self._to_sendgrid, note, payload)

    def render(self, note: Notification) -> Email:
        context = self._context(note)
        subject = TEMPLATES.get_template("subject.txt").render(context)
        return Email(
            subject=" ".join(subject.split())[:250],  # one line: no header injection
            text=TEMPLATES.get_template("email.txt").render(context),
            html=TEMPLATES.get_template("email.html").render(context),
        )

    def build(self, note: Notification) -> Mail:
        email = self.render(note)
        mail = Mail(
            from_email=self.mail_from,
            to_emails=note.recipient.email,
            subject=email.subject,
            plain_text_content=email.text,
            html_content=email.html,
        )
        mail.tracking_settings = TrackingSettings(click_tracking=ClickTracking(False, False))
        mail.custom_arg = CustomArg("notification_id", note.id)
        return mail

    def _context(self, note: Notification) -> dict[str, Any]:
        incident = note.incident
        actions = (
            ("acknowledge", "resolve", "escalate")
            if note.kind is NotificationKind.PAGE
            else (("acknowledge", "resolve") if note.kind is NotificationKind.EXHAUSTED else ())
        )
        links = {
            a: f"{self.public_url}/r/{self.signer.sign(incident.id, note.recipient.id, a)}" for a in actions
        }
        return {
            "note": note,
            "incident": incident,
            "links": links,
            "notes": [e for e in incident.timeline if e.kind == "note"],
        }

    def _to_outbox(self, note: Notification, payload: dict) -> str:
        """Write the exact v3 payload as one file; a second write of the same id is a no-op."""
        final = self.outbox / f"{note.id}.json"
        tmp = self.outbox / f".{note.id}.{os.getpid()}.tmp"
        tmp.write_text(json.dumps(payload, indent=2, ensure_ascii=False), encoding="utf-8")
        try:
            os.link(tmp, final)  # atomic, and refuses to overwrite: exactly one file per id
        except FileExistsError:
            activity.logger.info("notification %s already in the outbox", note.id)
        finally:
            tmp.unlink(missing_ok=True)
        return str(final)

    def _to_sendgrid(self, note: Notification, payload: dict) -> NotificationResult:
        marker = self.outbox / ".sent" / note.id
        if marker.exists():
            return NotificationResult(id=note.id, delivered=True, where=marker.read_text())
        try:
            response = self.sendgrid.client.mail.send.post(request_body=payload)  # type: ignore[union-attr]
        except HTTPError as err:
            raise _classify(err) from None
        message_id = response.headers.get("X-Message-Id", "") if response.headers else ""
        marker.write_text(f"sendgrid:{message_id}")
        return NotificationResult(id=note.id, delivered=True, where=f"sendgrid:{message_id}")


def _classify(err: HTTPError) -> ApplicationError:
    status = getattr(err, "status_code", 0)
    body = err.body.decode("utf-8", "replace") if isinstance(err.body, bytes) else str(err.body)
    message = f"SendGrid answered {status}: {body[:300]}"
    if 400 <= status < 500 and status != 429:
        return ApplicationError(message, type="EmailRejected", non_retryable=True)
    return ApplicationError(message, type="EmailDeferred")


def sendgrid_client(api_key: str, host: str, timeout: float) -> SendGridAPIClient:
    client = SendGridAPIClient(api_key=api_key, host=host)
    client.client.timeout = timeout
    return client
