"""Where a runbook's scenario failed, for its timeline entry and the author.

Pure and I/O-free (it runs inside the workflow sandbox): it walks the
traceback's frames without reading any source file.
"""

from __future__ import annotations

from pathlib import PurePath

RUNBOOK_PACKAGE = "runbooks"


def failure_site(error: BaseException) -> str:
    """``runbooks/<file>.py:<line>`` of the deepest runbook frame, else the deepest frame."""
    sites: list[tuple[PurePath, int]] = []
    tb = error.__traceback__
    while tb is not None:
        sites.append((PurePath(tb.tb_frame.f_code.co_filename), tb.tb_lineno))
        tb = tb.tb_next
    if not sites:
        return "unknown location"
    in_runbooks = [(p, n) for p, n in sites if RUNBOOK_PACKAGE in p.parts[:-1]]
    path, line = (in_runbooks or sites)[-1]
    parts = path.parts
    if RUNBOOK_PACKAGE in parts[:-1]:
        start = len(parts) - 1 - parts[::-1].index(RUNBOOK_PACKAGE)
        return f"{PurePath(*parts[start:]).as_posix()}:{line}"
    return f"{path.name}:{line}"
