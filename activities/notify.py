"""The notify activity: one email to one person, through SendGrid or into the outbox.

Retry contract: throttling (429), server errors (5xx) and network failures
raise a retryable error and Temporal retries with backoff, or after the wait that
SendGrid's ``Retry-After`` (else ``X-RateLimit-Reset``) asks for, within 1 s and
``MAX_RETRY_AFTER``; any other 4xx means SendGrid refused the message for good and
raises a non-retryable ``EmailRejected`` that the workflow records on the timeline.

Duplicates. Every SendGrid call is claimed before it is made and its outcome recorded
after, in the notification ledger (``activities/ledger.py``: the ``notifications`` table of
the application database, or one host's files when there is no database or it is out). A
retry of an email already accepted returns the recorded result without sending. One that
finds one call of unknown outcome sends once more; one that finds two does not send again
and fails for good with ``EmailUnconfirmed`` (on the timeline: it may or may not have
arrived). SendGrid thus accepts a notification at most twice, and twice only when it did
not answer in time.

Timeouts. A call waits at most the client's timeout (``SENDGRID_TIMEOUT``, 30 s: above
SendGrid's slow tail, so a slow answer is not taken for a lost one) and never past the
attempt's start-to-close less ``MARGIN``, so that a retry does not overlap a call still
in flight. The workflow's start-to-close for this activity must exceed the timeout plus
the margin plus a possible wait for a thread: 60 s for 30 s.

Threads. The HTTP client blocks, so calls run on the Notifier's own thread pool
(``SENDGRID_THREADS``, 32) rather than Python's default one (6 threads on 2 cores),
and one slow provider holds one thread per call; the worker takes at least as many
activities at once, and shuts the pool down when it stops (``Notifier.close``).
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import http.client
import json
import logging
import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.error import URLError

from python_http_client.exceptions import HTTPError
from sendgrid import SendGridAPIClient
from sendgrid.helpers.mail import ClickTracking, CustomArg, Mail, TrackingSettings
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.ledger import ALLOWED, DatabaseLedger, FileLedger, Ledger
from activities.rendering import TEMPLATES
from security.links import LinkSigner
from workflows import contract
from workflows.activity_models import Notification, NotificationResult
from workflows.drills import drill_report
from workflows.vocabulary import LINK_ACTIONS, EventKind

log = logging.getLogger(__name__)

MAX_RETRY_AFTER = 600.0  # seconds: a longer Retry-After (or a date far ahead) is cut to this
MARGIN = 2.0  # seconds of an attempt's start-to-close kept for rendering and reporting back
FEEDBACK_LINK = "give feedback"  # the feedback email's one link, as its button reads
MIN_CALL = 0.5  # seconds: with less left of the attempt, do not call SendGrid at all


@dataclass(frozen=True)
class Email:
    subject: str
    text: str
    html: str


class Notifier:
    """Holds the mail settings, the SendGrid client and its ``threads`` for calls; built once
    in the worker, which calls ``close()`` when it stops."""

    def __init__(
        self,
        *,
        outbox: Path,
        public_url: str,
        mail_from: str,
        signer: LinkSigner,
        sendgrid: SendGridAPIClient | None = None,
        threads: int = 32,
        ledger: Ledger | None = None,
    ) -> None:
        self.outbox = outbox
        self.public_url = public_url
        self.mail_from = mail_from
        self.signer = signer
        self.sendgrid = sendgrid
        self.pool = ThreadPoolExecutor(threads, thread_name_prefix="sendgrid") if sendgrid else None
        self.ledger = ledger or FileLedger(outbox / ".sent")

    def close(self) -> None:
        """Stop the thread pool: calls not started are dropped (their activities are already
        cancelled); calls in flight end within the client timeout and record their outcome."""
        if self.pool is not None:
            self.pool.shutdown(wait=False, cancel_futures=True)
        if isinstance(self.ledger, DatabaseLedger):
            self.ledger.close()

    @activity.defn(name=contract.SEND_EMAIL)
    async def send_email(self, note: Notification) -> NotificationResult:
        payload = self.build(note).get()
        if self.sendgrid is None or self.pool is None:
            return NotificationResult(id=note.id, delivered=True, where=self._to_outbox(note, payload))
        deadline = _call_deadline(activity.info().start_to_close_timeout)
        call = functools.partial(contextvars.copy_context().run, self._to_sendgrid, note, payload, deadline)
        return await asyncio.get_running_loop().run_in_executor(self.pool, call)

    def render(self, note: Notification) -> Email:
        if note.shift is not None:  # a shift notice: no incident, its own wording
            names = ("shift_subject.txt", "shift.txt", "shift.html")
            context = {"note": note, "schedule_url": f"{self.public_url}/schedules/{note.shift.schedule}"}
        else:
            names = ("subject.txt", "email.txt", "email.html")
            context = self._context(note)
        subject, text, html = (TEMPLATES.get_template(name).render(context) for name in names)
        return Email(subject=" ".join(subject.split())[:250], text=text, html=html)  # one-line subject

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
        if incident is None:
            raise ValueError(f"notification {note.id} names no incident")
        actions = LINK_ACTIONS.get(note.kind, ())
        links = {
            a.value: f"{self.public_url}/r/{self.signer.sign(incident.id, note.recipient.id, a)}"
            for a in actions
        }
        if note.kind.asks_feedback:
            token = self.signer.feedback().sign(incident.id, note.recipient.id)
            links[FEEDBACK_LINK] = f"{self.public_url}/f/{token}"
        return {
            "note": note,
            "incident": incident,
            "links": links,
            "notes": [e for e in incident.timeline if e.kind == EventKind.NOTE],
            "drill": drill_report(incident) if incident.drill else None,
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

    def _to_sendgrid(self, note: Notification, payload: dict, deadline: float | None) -> NotificationResult:
        """One SendGrid call, recorded before and after (see the module's docstring)."""
        assert self.sendgrid is not None
        timeout = self.sendgrid.client.timeout or 30.0
        if deadline is not None:
            timeout = min(timeout, deadline - time.monotonic())
        if timeout < MIN_CALL:
            raise ApplicationError("no time left in this attempt to call SendGrid", type="EmailDeferred")
        grant = self.ledger.claim(note)
        if isinstance(grant, str):  # accepted by an earlier call
            return NotificationResult(id=note.id, delivered=True, where=grant)
        if grant is None:
            raise ApplicationError(
                f"SendGrid did not answer the last {ALLOWED} attempts in time: the email may have "
                "been delivered, so it is not sent again",
                type="EmailUnconfirmed",
                non_retryable=True,
            )
        try:
            response = self.sendgrid.client.mail.send.post(request_body=payload, timeout=timeout)
        except HTTPError as err:  # SendGrid answered: not accepted
            refused = _classify(err)
            self.ledger.release(grant, refused.message)
            raise refused from None
        except URLError as err:  # the request never reached SendGrid whole
            self.ledger.release(grant, f"unreachable: {err.reason}")
            raise ApplicationError(f"SendGrid unreachable: {err.reason}", type="EmailDeferred") from None
        except (OSError, http.client.HTTPException) as err:  # sent, no answer: it may be delivered
            outcome = f"no answer within {timeout:.1f} s: {err!r}"
            self.ledger.unknown(grant, outcome)
            raise ApplicationError(f"SendGrid gave {outcome}", type="EmailUnanswered") from None
        message_id = response.headers.get("X-Message-Id", "") if response.headers else ""
        self.ledger.accepted(grant, f"sendgrid:{message_id}")
        return NotificationResult(id=note.id, delivered=True, where=f"sendgrid:{message_id}")


def _call_deadline(start_to_close: timedelta | None) -> float | None:
    """When (``time.monotonic()``) a SendGrid call of this attempt must have ended: the
    attempt's start-to-close from now, less ``MARGIN`` (a fifth of a short one)."""
    if not start_to_close:
        return None
    budget = start_to_close.total_seconds()
    return time.monotonic() + budget - min(MARGIN, budget / 5)


def _classify(err: HTTPError) -> ApplicationError:
    status = getattr(err, "status_code", 0)
    body = err.body.decode("utf-8", "replace") if isinstance(err.body, bytes) else str(err.body)
    message = f"SendGrid answered {status}: {body[:300]}"
    if 400 <= status < 500 and status != 429:
        return ApplicationError(message, type="EmailRejected", non_retryable=True)
    return ApplicationError(message, type="EmailDeferred", next_retry_delay=_retry_after(err.headers))


def _retry_after(headers: Any) -> timedelta | None:
    """The wait SendGrid asks for: ``Retry-After`` (seconds or an HTTP date), else
    ``X-RateLimit-Reset`` (a Unix time); between 1 s and ``MAX_RETRY_AFTER``; None if neither."""
    value = (headers.get("Retry-After") or "").strip() if headers else ""
    reset = (headers.get("X-RateLimit-Reset") or "").strip() if headers else ""
    try:
        if value:
            try:
                seconds = float(value)
            except ValueError:
                seconds = (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds()
        elif reset:
            seconds = float(reset) - time.time()
        else:
            return None
    except (TypeError, ValueError, OverflowError):
        return None
    return timedelta(seconds=max(1.0, min(seconds, MAX_RETRY_AFTER)))


def sendgrid_client(api_key: str, host: str, timeout: float) -> SendGridAPIClient:
    """The SendGrid client, pointed at ``host`` (a local double in tests); ``timeout`` is the
    longest one call waits (and ``Notifier`` cuts it to what is left of the attempt)."""
    client = SendGridAPIClient(api_key=api_key, host=host)
    client.client.timeout = timeout
    return client
