"""``escalate verify``: is this change safe to deploy?

Two questions, for CI and for an author before a deploy:

1. **Can every incident in flight carry on?** Every recorded history (the shipped ones in
   ``tests/histories/``, those exported with ``escalate export-histories``, and any other
   folder given) is replayed against the working tree. A history that no longer
   replays is a failure.
2. **What does the change do to the pages?** The simulation suite (:mod:`simulation.suite`)
   runs on the working tree and on a base git revision (its own code and seed files, in
   a throwaway copy), and the timelines are compared (:mod:`simulation.diff`). A
   difference is shown; it fails the check only when asked to (``--strict``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from simulation.diff import differences
from simulation.replay import Replayed, history_files, replay
from simulation.suite import run_suite

BASE_TIMEOUT = 900  # seconds for the base revision's suite


@dataclass
class Verdict:
    replayed: list[Replayed] = field(default_factory=list)
    scenarios: int = 0
    broken: list[str] = field(default_factory=list)  # scenarios that could not run
    base_note: str = ""  # why the base was not compared, if it was not
    changes: list[str] = field(default_factory=list)

    def failed(self, strict: bool) -> bool:
        not_replayed = any(r.failure for r in self.replayed)
        return not_replayed or bool(self.broken) or (strict and bool(self.changes))


async def verify(
    folders: list[Path], base: str | None, report: Callable[[str], None] = lambda line: None
) -> Verdict:
    """Replay the histories in ``folders``, run the suite here and (with ``base``) there."""
    verdict = Verdict()
    paths = history_files(folders)
    report(f"replaying {len(paths)} histories from {', '.join(str(f) for f in folders if f.is_dir())}")
    for path in paths:
        verdict.replayed.append(done := await replay(path))
        if done.failure:
            report(str(done))
    report("running the simulation suite on the working tree")
    here = await run_suite(progress=report)
    verdict.scenarios = len(here)
    verdict.broken = [f"{name}: {t['error']}" for name, t in here.items() if "error" in t]
    if base is None:
        verdict.base_note = "no base revision given: timelines not compared"
        return verdict
    report(f"running the simulation suite on {base}")
    there = base_suite(base, report)
    if isinstance(there, str):
        verdict.base_note = there
    else:
        verdict.changes = differences(there, here)
    return verdict


def base_suite(revision: str, report: Callable[[str], None]) -> dict[str, dict] | str:
    """The suite's timelines at ``revision`` (its own code and seed files); or why not."""
    try:
        commit = _git("rev-parse", "--verify", f"{revision}^{{commit}}").strip()
    except RuntimeError as exc:
        return f"base {revision!r} is not a revision of this repository ({exc})"
    with tempfile.TemporaryDirectory(prefix="escalate-verify-") as folder:
        archive = Path(folder) / "base.tar"
        _git("archive", "--format=tar", f"--output={archive}", commit)
        tree = Path(folder) / "tree"
        with tarfile.open(archive) as tar:
            tar.extractall(tree, filter="data")
        if not (tree / "simulation" / "suite.py").exists():
            return f"base {revision} ({commit[:10]}) has no simulation suite: timelines not compared"
        env = {**os.environ, "PYTHONPATH": str(tree), "PYTHONDONTWRITEBYTECODE": "1"}
        for name in ("DIRECTORY_FILE", "SCHEDULES_FILE", "SLA_FILE"):
            env.pop(name, None)  # the base's own seed files
        out = Path(folder) / "timelines.json"
        done = subprocess.run(
            [sys.executable, "-m", "simulation.suite", str(out)],
            cwd=tree,
            env=env,
            capture_output=True,
            text=True,
            timeout=BASE_TIMEOUT,
            check=False,
        )
        if done.returncode != 0 or not out.exists():
            last = (done.stderr.strip().splitlines() or ["no output"])[-1]
            return f"the suite failed on base {revision} ({commit[:10]}): {last}"
        timelines: dict[str, dict] = json.loads(out.read_text(encoding="utf-8"))
    report(f"base {revision} ({commit[:10]}): {len(timelines)} scenarios run")
    return timelines


def _git(*args: str) -> str:
    done = subprocess.run(["git", *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(done.stderr.strip() or f"git {args[0]} failed")
    return done.stdout
