"""Where the email activity records its calls to SendGrid, so that a retry never sends twice.

SendGrid has no idempotency key, and a call that times out on our side may still be
delivered. So each call is **claimed** before it is made and its outcome recorded after:

* a claim is granted while fewer than two calls of pending or unknown outcome are on record
  (so SendGrid accepts one notification at most twice, and twice only when it did not answer
  in time); an email already accepted is answered from the record without a call;
* ``release``: SendGrid answered with an error, or the request never left: it does not count;
* ``unknown``: no answer came (timeout, connection lost, worker killed mid-call): it stays;
* ``accepted``: SendGrid took the message (``sendgrid:<message id>``).

Two ledgers keep that record:

* :class:`DatabaseLedger`, the ``notifications`` table of the application database: one row
  per notification, so effectively-once holds with several workers on several hosts;
* :class:`FileLedger`, files under ``<outbox>/.sent/`` (created exclusively or replaced
  atomically, and fsynced): one host's record. The database ledger falls back to it, for
  that one email, when the database cannot answer within ``DB_WAIT`` seconds: an outage of
  the database never delays a page. An email recorded there during an outage is still
  recognised by a later retry on that host.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as WaitedTooLong
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol, TypeVar

from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from store import notifications as rows
from workflows.activity_models import Notification

log = logging.getLogger(__name__)
T = TypeVar("T")

ALLOWED = rows.ALLOWED  # SendGrid calls of unknown outcome allowed per notification
DB_WAIT = 3.0  # seconds the database may take to answer before the local record is used


@dataclass(frozen=True)
class Granted:
    """A claimed call: ``number`` is 1 for the first call, 2 for the one allowed repeat."""

    note_id: str
    number: int
    token: object = None  # the ledger's own handle (a file path for the file ledger)


class Ledger(Protocol):
    def claim(self, note: Notification) -> Granted | str | None:
        """A grant to call SendGrid; or where the email already went (``sendgrid:<id>``);
        or None when the allowance is used up."""

    def release(self, grant: Granted, error: str) -> None: ...

    def unknown(self, grant: Granted, detail: str) -> None: ...

    def accepted(self, grant: Granted, where: str) -> None: ...


class FileLedger:
    """The record as files under ``folder`` (one host's, or a shared volume's)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    def done(self, note_id: str) -> str | None:
        marker = self.folder / note_id
        return marker.read_text() if marker.exists() else None

    def claim(self, note: Notification) -> Granted | str | None:
        if (where := self.done(note.id)) is not None:
            return where
        for number in range(1, ALLOWED + 1):
            path = self.folder / f"{note.id}.try{number}"
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                continue
            with os.fdopen(fd, "w", encoding="utf-8") as file:
                file.write(f"attempt {number} called SendGrid at {datetime.now(UTC).isoformat()}\n")
                file.flush()
                os.fsync(file.fileno())
            _fsync_dir(self.folder)
            return Granted(note.id, number, path)
        return self.done(note.id)  # an earlier call may have just finished

    def release(self, grant: Granted, error: str) -> None:
        assert isinstance(grant.token, Path)
        grant.token.unlink(missing_ok=True)

    def unknown(self, grant: Granted, detail: str) -> None:
        assert isinstance(grant.token, Path)
        _write(grant.token, f"{grant.token.read_text()}outcome unknown: {detail}\n")

    def accepted(self, grant: Granted, where: str) -> None:
        _write(self.folder / grant.note_id, where)


class DatabaseLedger:
    """The record in the ``notifications`` table, with ``local`` for when the database is out."""

    def __init__(self, engine: Engine, local: FileLedger, wait: float = DB_WAIT) -> None:
        self.engine = engine
        self.local = local
        self.wait = wait
        # Database calls run here, so that a hung connection costs a page ``wait`` seconds at most.
        self._pool = ThreadPoolExecutor(8, thread_name_prefix="ledger")

    def claim(self, note: Notification) -> Granted | str | None:
        if (where := self.local.done(note.id)) is not None:  # sent during a database outage
            return where
        ids = {"incident_id": note.about, "person_id": note.recipient.id, "kind": note.kind.value}
        try:
            answer = self._ask(rows.claim, self.engine, note.id, **ids)
        except (SQLAlchemyError, WaitedTooLong) as err:
            log.warning(
                "notification %s: database unavailable (%s); using this host's record", note.id, _name(err)
            )
            return self.local.claim(note)
        if answer.attempt is not None:
            return Granted(note.id, answer.attempt)
        return answer.sent if answer.sent is not None else None

    def release(self, grant: Granted, error: str) -> None:
        if grant.token is not None:
            return self.local.release(grant, error)
        self._record(grant, rows.release, error)  # if this fails, the call stays counted: safe

    def unknown(self, grant: Granted, detail: str) -> None:
        if grant.token is not None:
            return self.local.unknown(grant, detail)
        self._record(grant, rows.mark_unknown, detail)  # the call is counted already

    def accepted(self, grant: Granted, where: str) -> None:
        if grant.token is not None or not self._record(grant, rows.mark_sent, where):
            self.local.accepted(grant, where)  # so that a retry on this host does not send again

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _record(self, grant: Granted, store: Callable[[Engine, str, str], bool], text: str) -> bool:
        """Record an outcome in the database; False (and a warning) if it did not answer."""
        try:
            self._ask(store, self.engine, grant.note_id, text)
            return True
        except (SQLAlchemyError, WaitedTooLong) as err:
            log.warning(
                "notification %s: outcome not recorded in the database (%s)", grant.note_id, _name(err)
            )
            return False

    def _ask(self, call: Callable[..., T], *args: object, **kwargs: object) -> T:
        return self._pool.submit(call, *args, **kwargs).result(timeout=self.wait)


def _name(err: BaseException) -> str:
    return "no answer in time" if isinstance(err, WaitedTooLong) else type(err).__name__


def _write(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` atomically and durably."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    with tmp.open("w", encoding="utf-8") as file:
        file.write(text)
        file.flush()
        os.fsync(file.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
