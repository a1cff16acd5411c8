"""``escalate dev``: the Temporal dev server, one worker and one API, supervised.

The dev server keeps its SQLite file under ``.data/`` (write-ahead logging on,
which roughly doubles its throughput here), so incidents survive a restart.
A worker or API process that dies is restarted and the restart is logged;
Ctrl-C stops everything.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from escalate.servers import binary, dev_server_flags
from escalate.settings import DEV_API_KEY, get_settings

log = logging.getLogger("escalate.dev")


def dev_server_command(data_dir: Path, port: int, ui_port: int) -> list[str]:
    return [
        binary("temporal"),
        "server",
        "start-dev",
        "--ip",
        "127.0.0.1",
        "--port",
        str(port),
        "--ui-port",
        str(ui_port),
        "--db-filename",
        str(data_dir / "temporal.db"),
        "--sqlite-pragma",
        "journal_mode=wal",
        "--log-level",
        "warn",
        *dev_server_flags(),
    ]


def wait_for_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if port_in_use(port):
            return
        time.sleep(0.2)
    raise TimeoutError(f"nothing listening on 127.0.0.1:{port} after {timeout:.0f} s")


def port_in_use(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


class Supervisor:
    """Keeps named child processes running until ``stop``.

    A child that keeps dying within seconds of its start is given up on, so a
    broken configuration ends the stack with a message instead of a restart loop.
    """

    MAX_QUICK_RESTARTS = 5

    def __init__(self) -> None:
        self.commands: dict[str, list[str]] = {}
        self.children: dict[str, subprocess.Popen] = {}
        self.started: dict[str, float] = {}
        self.quick_restarts: dict[str, int] = {}

    def start(self, name: str, command: list[str]) -> None:
        self.commands[name] = command
        self.started[name] = time.monotonic()
        self.children[name] = subprocess.Popen(command, env=os.environ.copy())

    def check(self) -> None:
        for name, child in list(self.children.items()):
            if child.poll() is None:
                continue
            quick = time.monotonic() - self.started[name] < 10
            self.quick_restarts[name] = self.quick_restarts.get(name, 0) + 1 if quick else 0
            if self.quick_restarts[name] > self.MAX_QUICK_RESTARTS:
                raise RuntimeError(f"{name} keeps exiting (last code {child.returncode}); giving up")
            log.warning("%s exited with %s; restarting it", name, child.returncode)
            self.start(name, self.commands[name])

    def stop(self) -> None:
        for child in reversed(list(self.children.values())):
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for name, child in self.children.items():
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                log.warning("%s did not stop in time; killing it", name)
                child.kill()


def banner(api_url: str, ui_url: str) -> str:
    body = (
        '{"title": "Checkout latency over 2 s", "severity": "SEV2", "service": "checkout", "runbook": "demo"}'
    )
    return (
        f"\n  API          {api_url}   (docs: {api_url}/docs)\n"
        f"  Temporal UI  {ui_url}\n\n"
        "  Open a demo incident (pages alice, then bob after 10 s, then carol):\n\n"
        f"  curl -s -X POST {api_url}/api/incidents \\\n"
        f"    -H 'Authorization: Bearer {DEV_API_KEY}' -H 'Content-Type: application/json' \\\n"
        f"    -d '{body}'\n\n"
        "  Ctrl-C stops everything.\n"
    )


def run_dev_stack(api_port: int = 8000) -> int:
    settings = get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    port = int(settings.temporal_address.rsplit(":", 1)[1])
    ui_port = int(settings.temporal_ui_url.rsplit(":", 1)[1])
    busy = [p for p in (port, ui_port, api_port) if port_in_use(p)]
    if busy:
        print(f"port {busy[0]} on 127.0.0.1 is already in use (another `escalate dev`?)", file=sys.stderr)
        return 1
    supervisor = Supervisor()
    python = sys.executable
    try:
        supervisor.start("temporal", dev_server_command(settings.data_dir, port, ui_port))
        wait_for_port(port)
        supervisor.start("worker", [python, "-m", "escalate.cli", "worker"])
        supervisor.start("api", [python, "-m", "escalate.cli", "api", "--port", str(api_port)])
        wait_for_port(api_port)
        print(banner(f"http://127.0.0.1:{api_port}", settings.temporal_ui_url), flush=True)
        while True:
            time.sleep(1)
            supervisor.check()
    except KeyboardInterrupt:
        log.info("stopping")
    except (RuntimeError, TimeoutError) as exc:
        print(f"escalate dev: {exc}", file=sys.stderr)
        return 1
    finally:
        supervisor.stop()
    return 0
