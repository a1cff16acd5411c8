"""What a process keeps of the database for its hot paths: the directory plans are made
from (``services/people.py``) and the SLA policies incidents are held to
(``services/sla_policies.py``).

A :class:`Refreshed` value is read at start-up and after this process's own edits, and
again at most every ``REFRESH_SECONDS`` in a background thread, so that no request waits
on the database (edits made by another replica show within that). A database that cannot
be read keeps the last value, so paging never stops on it; until the database holds
anything, the fallback (the seed file's data) answers.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Generic, Protocol, TypeVar

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)
REFRESH_SECONDS = 5.0


class Source(Protocol[T_co]):
    """Anything that answers the value as it stands now (a :class:`Refreshed`, a service)."""

    def current(self) -> T_co: ...


class Refreshed(Generic[T]):
    """``read()``'s answer, cached: ``read`` returns ``None`` while the database holds
    nothing, and ``fallback`` answers then. ``lock`` is held while reading; an editor holds
    it too, so that a refresh never reads halfway through its edit."""

    def __init__(
        self,
        read: Callable[[], T | None],
        fallback: T,
        what: str,
        log: logging.Logger,
        every: float = REFRESH_SECONDS,
    ) -> None:
        self._read = read
        self.fallback = fallback
        self._what = what
        self._log = log
        self._every = every
        self._cached: T | None = None
        self._read_at = float("-inf")
        self.lock = threading.RLock()
        self._refreshing = threading.Event()

    def current(self) -> T:
        """The value now, never waiting on the database: a stale copy is refreshed in the
        background (callers run on the API's event loop)."""
        if time.monotonic() - self._read_at >= self._every and not self._refreshing.is_set():
            self._refreshing.set()
            name = f"{self._what.replace(' ', '-')}-refresh"
            threading.Thread(target=self.load, name=name, daemon=True).start()
        return self.fallback if self._cached is None else self._cached

    def load(self) -> T:
        """Read the value now (blocking): at start-up, after an edit, and in the background."""
        with self.lock:
            try:
                found = self._read()
                self._cached = self.fallback if found is None else found
            except Exception as exc:  # whatever the database does, keep paging on what we had
                self._log.warning(
                    "cannot read the %s from the database (%s): keeping the last one", self._what, exc
                )
                if self._cached is None:
                    self._cached = self.fallback
            self._read_at = time.monotonic()
            self._refreshing.clear()
            return self._cached
