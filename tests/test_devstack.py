"""``escalate dev`` as a process supervisor: a stop signal to the supervisor alone (as systemd,
``timeout`` and container runtimes send it) stops the dev server, worker and API and frees their
ports; ``--port`` moves the links in emails with the API; the banner never prints a configured key."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from cli.devstack import Supervisor, banner, child_environment, port_in_use, wait_for_port
from conftest import start_dev_stack, wait_for_file
from services.servers import free_port

pytestmark = pytest.mark.slow  # real servers or long runs: left out of make test-fast

BOUND = 60  # seconds: a generous liveness bound, not a performance target


def _stat(pid: int) -> tuple[str, int, int, int] | None:
    """(state, ppid, pgid, start time) of a process from /proc, None if it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = text[text.rindex(")") + 2 :].split()
    return fields[0], int(fields[1]), int(fields[2]), int(fields[19])


def _processes() -> dict[int, tuple[str, int, int, int]]:
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (stat := _stat(int(entry.name))):
            found[int(entry.name)] = stat
    return found


def running(pid: int, start: int) -> bool:
    """The process still runs (a zombie holds no port; a reused pid is another process)."""
    stat = _stat(pid)
    return stat is not None and stat[0] != "Z" and stat[3] == start


@dataclass
class Stack:
    """One ``escalate dev`` on free loopback ports, and every process it started."""

    process: subprocess.Popen
    api_port: int
    ports: list[int]
    log: Path
    outbox: Path
    seen: dict[int, int] = field(default_factory=dict)  # pid -> start time

    def record(self) -> dict[int, int]:
        """Remember the supervisor's children and everything in their process groups."""
        table = _processes()
        children = {pid for pid, stat in table.items() if stat[1] == self.process.pid}
        for pid, (state, _, pgid, start) in table.items():
            if state != "Z" and (pid in children or pgid in children):
                self.seen.setdefault(pid, start)
        return self.seen

    def commands(self) -> list[str]:
        return [Path(f"/proc/{pid}/cmdline").read_text(errors="replace") for pid in self.record()]

    def wait_until_up(self) -> None:
        wait_for_port(self.api_port, timeout=BOUND)
        deadline = time.monotonic() + BOUND
        while "stops everything" not in self.log.read_text() or len(self.record()) < 3:
            assert time.monotonic() < deadline, self.log.read_text()
            time.sleep(0.2)

    def assert_all_gone(self) -> None:
        """The supervisor exited cleanly, and within the bound nothing it started runs and
        no port of the stack is taken."""
        assert self.process.wait(timeout=BOUND) == 0, self.log.read_text()
        deadline = time.monotonic() + BOUND
        while True:
            left = [pid for pid, start in self.seen.items() if running(pid, start)]
            busy = [port for port in self.ports if port_in_use(port)]
            if not left and not busy:
                return
            assert time.monotonic() < deadline, f"still running {left}, ports taken {busy}"
            time.sleep(0.2)

    def kill_leftovers(self) -> None:
        for pid, start in self.seen.items():
            if running(pid, start):
                os.kill(pid, signal.SIGKILL)
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def launch(tmp_path):
    """Starts ``escalate dev`` in its own session (so a signal reaches the supervisor only),
    with ``env`` added; kills whatever a failed test leaves behind."""
    stacks: list[Stack] = []

    def _launch(**env: str) -> Stack:
        data = tmp_path / f"stack{len(stacks)}"
        data.mkdir()
        api_port = free_port()
        process, ports = start_dev_stack(data, api_port, **env)
        stack = Stack(process, api_port, ports, data / "dev.log", data / "outbox")
        stacks.append(stack)
        return stack

    yield _launch
    for stack in stacks:
        stack.kill_leftovers()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP], ids=lambda s: s.name)
def test_a_stop_signal_to_the_supervisor_stops_the_whole_stack(launch, signum):
    stack = launch()
    stack.wait_until_up()
    commands = stack.commands()
    assert any("start-dev" in c for c in commands) and any("worker" in c for c in commands), commands
    os.kill(stack.process.pid, signum)
    stack.assert_all_gone()


def test_sigterm_while_the_stack_is_starting_stops_what_was_started(launch):
    stack = launch()
    deadline = time.monotonic() + BOUND
    while not any("start-dev" in c for c in stack.commands()):
        assert time.monotonic() < deadline and stack.process.poll() is None, stack.log.read_text()
        time.sleep(0.05)
    os.kill(stack.process.pid, signal.SIGTERM)
    stack.assert_all_gone()


@pytest.mark.skipif(sys.platform != "linux", reason="the parent-death signal is Linux's")
def test_children_stop_when_the_supervisor_is_killed_outright(launch):
    stack = launch()
    stack.wait_until_up()
    stack.process.kill()
    assert stack.process.wait(timeout=BOUND) == -signal.SIGKILL
    deadline = time.monotonic() + BOUND
    while any(running(pid, start) for pid, start in stack.seen.items()) or any(
        port_in_use(port) for port in stack.ports
    ):
        assert time.monotonic() < deadline, "children outlived a killed supervisor"
        time.sleep(0.2)


STUBBORN = """
import signal, subprocess, sys, time

signal.signal(signal.SIGTERM, signal.SIG_IGN)  # inherited by the grandchild too
grandchild = subprocess.Popen(["sleep", "120"])
open(sys.argv[1], "w").write(str(grandchild.pid))
time.sleep(120)
"""


def test_once_stopping_nothing_restarts_and_stubborn_groups_are_killed(tmp_path):
    supervisor = Supervisor(grace=1)
    pid_file = tmp_path / "grandchild"
    supervisor.start("server", [sys.executable, "-c", "import time; time.sleep(120)"])
    supervisor.start("stubborn", [sys.executable, "-c", STUBBORN, str(pid_file)])
    try:
        deadline = time.monotonic() + BOUND
        while not pid_file.exists() or not pid_file.read_text():
            assert time.monotonic() < deadline
            time.sleep(0.05)
        grandchild = int(pid_file.read_text())
        grandchild_start = _stat(grandchild)[3]
        started = dict(supervisor.children)
        assert _stat(grandchild)[2] == started["stubborn"].pid  # in the child's own group

        supervisor.request_stop(signal.SIGTERM)
        started["server"].kill()  # a child that exits during shutdown ...
        started["server"].wait()
        supervisor.check()
        assert supervisor.children == started  # ... is not restarted

        supervisor.stop()
        assert started["stubborn"].returncode == -signal.SIGKILL
        deadline = time.monotonic() + BOUND
        while running(grandchild, grandchild_start):
            assert time.monotonic() < deadline, "the grandchild survived the stop"
            time.sleep(0.1)
    finally:
        for child in supervisor.children.values():
            if child.poll() is None:
                os.killpg(child.pid, signal.SIGKILL)
                child.wait()


def test_port_moves_the_email_links_and_the_banner_keeps_configured_keys_secret(launch):
    key = "configured-secret-key"
    stack = launch(API_KEYS=key)
    stack.wait_until_up()
    base = f"http://127.0.0.1:{stack.api_port}"
    shown = stack.log.read_text()
    start = shown.index(f"  API          {base}")
    printed = shown[start : shown.index("stops everything", start)]
    assert key not in printed and "dev-api-key" not in printed and "$API_KEY" in printed, printed
    assert f"{base}/api/incidents" in printed

    answer = httpx.post(
        f"{base}/api/incidents",
        headers={"Authorization": f"Bearer {key}"},
        json={"title": "Checkout is slow", "severity": "SEV2", "service": "checkout", "runbook": "demo"},
        timeout=30,
    )
    assert answer.status_code == 201, answer.text
    assert answer.json()["url"].startswith(f"{base}/")
    email = json.loads(wait_for_file(stack.outbox, "*.json", timeout=BOUND).read_text())
    links = re.findall(r"https?://[^\s\"'<>]+/r/[^\s\"'<>]+", json.dumps(email))
    assert links and all(link.startswith(f"{base}/r/") for link in links), links
    os.kill(stack.process.pid, signal.SIGTERM)
    stack.assert_all_gone()


def test_an_explicit_public_url_is_kept():
    assert child_environment(9000, {})["PUBLIC_URL"] == "http://127.0.0.1:9000"
    for name in ("PUBLIC_URL", "public_url"):
        kept = child_environment(9000, {name: "https://escalate.example.com"})
        assert kept[name] == "https://escalate.example.com" and len(kept) == 1


def test_the_banner_shows_only_the_built_in_key():
    url, ui = "http://127.0.0.1:9000", "http://127.0.0.1:8233"
    assert "Bearer dev-api-key" in banner(url, ui, ["dev-api-key", "second-secret"])
    assert "second-secret" not in banner(url, ui, ["dev-api-key", "second-secret"])
    other = banner(url, ui, ["first-secret", "dev-api-key"])
    assert "first-secret" not in other and "dev-api-key" not in other and "$API_KEY" in other
