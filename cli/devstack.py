"""``escalate dev``: the Temporal dev server, one worker and one API, supervised.

The dev server keeps its SQLite file under ``.data/`` (write-ahead logging on,
which roughly doubles its throughput here), so incidents survive a restart.
A worker or API process that dies is restarted and the restart is logged.
Ctrl-C, SIGTERM (``kill``, systemd, ``timeout``, container runtimes) and SIGHUP
stop everything: each child runs in its own process group, which gets SIGTERM
and, after a grace period, SIGKILL. On Linux a child also gets SIGTERM if the
supervisor itself dies without cleaning up (``kill -9``, the OOM killer).
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from functools import partial
from pathlib import Path

from services.servers import binary, dev_server_flags
from services.settings import DEV_API_KEY, get_settings

log = logging.getLogger("escalate.dev")

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def dev_server_command(data_dir: Path, port: int, ui_port: int) -> list[str]:
    """The ``temporal server start-dev`` command line, our search attributes registered."""
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


def child_environment(api_port: int, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The children's environment: ``PUBLIC_URL`` (the base of email links) follows the
    API's port unless it is set explicitly (in any case, as the settings read it)."""
    env = dict(os.environ if environ is None else environ)
    if not any(key.upper() == "PUBLIC_URL" for key in env):
        env["PUBLIC_URL"] = f"http://127.0.0.1:{api_port}"
    return env


def _parent_death_signal(parent: int) -> None:
    """Runs in the child before exec: SIGTERM it when the supervisor dies (Linux only),
    also if the supervisor died before this could be set up."""
    assert _LIBC is not None  # only set as preexec_fn on Linux
    _LIBC.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:
        os.kill(os.getpid(), signal.SIGTERM)


_LIBC = ctypes.CDLL(None, use_errno=True) if sys.platform == "linux" else None


class Supervisor:
    """Keeps named child processes running until ``stop``.

    A child that keeps dying within seconds of its start is given up on, so a
    broken configuration ends the stack with a message instead of a restart loop.
    Once a stop is requested (``request_stop``, the handler of ``stop_on_signals``)
    nothing is restarted any more.
    """

    MAX_QUICK_RESTARTS = 5

    def __init__(self, env: Mapping[str, str] | None = None, grace: float = 10.0) -> None:
        self.env = dict(os.environ if env is None else env)
        self.grace = grace
        self.stopping = False
        self.stop_signal: int | None = None
        self.commands: dict[str, list[str]] = {}
        self.children: dict[str, subprocess.Popen] = {}
        self.started: dict[str, float] = {}
        self.quick_restarts: dict[str, int] = {}

    def start(self, name: str, command: list[str]) -> None:
        """Start ``command`` as child ``name`` in a new session (its own process group)."""
        self.commands[name] = command
        self.started[name] = time.monotonic()
        self.children[name] = subprocess.Popen(
            command,
            env=self.env,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=partial(_parent_death_signal, os.getpid()) if _LIBC else None,
        )

    def request_stop(self, signum: int | None = None, _frame: object = None) -> None:
        """Ask the supervisor to stop; the signal handler of ``stop_on_signals``."""
        self.stop_signal = self.stop_signal or signum
        self.stopping = True

    def check(self) -> None:
        """Restart any child that exited, unless a stop was requested."""
        for name, child in list(self.children.items()):
            if self.stopping:
                return
            if child.poll() is None:
                continue
            quick = time.monotonic() - self.started[name] < 10
            self.quick_restarts[name] = self.quick_restarts.get(name, 0) + 1 if quick else 0
            if self.quick_restarts[name] > self.MAX_QUICK_RESTARTS:
                raise RuntimeError(f"{name} keeps exiting (last code {child.returncode}); giving up")
            log.warning("%s exited with %s; restarting it", name, child.returncode)
            self.start(name, self.commands[name])

    def wait_for_port(self, port: int, timeout: float = 30.0) -> bool:
        """Wait until something listens on ``port``, supervising meanwhile.

        Returns:
            True once it listens, False if a stop was requested first.
        Raises:
            TimeoutError: nothing listened within ``timeout`` seconds.
        """
        deadline = time.monotonic() + timeout
        while not self.stopping:
            if port_in_use(port):
                return True
            if time.monotonic() > deadline:
                raise TimeoutError(f"nothing listening on 127.0.0.1:{port} after {timeout:.0f} s")
            time.sleep(0.2)
            self.check()
        return False

    def run(self) -> None:
        """Supervise until a stop is requested."""
        while not self.stopping:
            time.sleep(0.25)
            self.check()

    def stop(self) -> None:
        """Stop every child: the later ones (which need the first) together, then the first."""
        self.stopping = True
        if self.stop_signal:
            log.info("%s received; stopping", signal.Signals(self.stop_signal).name)
        children = list(self.children.items())
        _terminate(children[1:], self.grace)
        _terminate(children[:1], self.grace)


def _terminate(children: list[tuple[str, subprocess.Popen]], grace: float) -> None:
    """SIGTERM each child's process group, then SIGKILL whatever is left after ``grace`` s."""
    for _, child in children:
        _signal_group(child, signal.SIGTERM)
    deadline = time.monotonic() + grace
    waiting = list(children)
    while waiting and time.monotonic() < deadline:
        waiting = [(name, child) for name, child in waiting if _group_alive(child)]
        if waiting:
            time.sleep(0.1)
    for name, child in waiting:
        log.warning("%s did not stop within %.0f s; killing it", name, grace)
        _signal_group(child, signal.SIGKILL)
    for _, child in children:
        child.wait()


def _signal_group(child: subprocess.Popen, signum: int) -> None:
    with suppress(ProcessLookupError):  # the whole group is gone already
        os.killpg(child.pid, signum)


def _group_alive(child: subprocess.Popen) -> bool:
    """Whether the child, or anything else in its process group, still runs."""
    if child.poll() is None:
        return True
    try:
        os.killpg(child.pid, 0)
    except ProcessLookupError:
        return False
    return True


@contextmanager
def stop_on_signals(supervisor: Supervisor) -> Iterator[None]:
    """SIGINT, SIGTERM and SIGHUP request a stop of ``supervisor`` while inside."""
    previous = {signum: signal.signal(signum, supervisor.request_stop) for signum in STOP_SIGNALS}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def banner(api_url: str, ui_url: str, api_keys: list[str]) -> str:
    """What ``escalate dev`` prints once it is up; it shows an API key only if it is the
    built-in development key, never one that was configured."""
    body = (
        '{"title": "Checkout latency over 2 s", "severity": "SEV2", "service": "checkout", "runbook": "demo"}'
    )
    if api_keys[:1] == [DEV_API_KEY]:
        header, hint = f"'Authorization: Bearer {DEV_API_KEY}'", ""
    else:
        header = '"Authorization: Bearer $API_KEY"'
        hint = "\n  with API_KEY set to one of the keys in your API_KEYS"
    return (
        f"\n  API          {api_url}   (docs: {api_url}/docs)\n"
        f"  Temporal UI  {ui_url}\n\n"
        f"  Open a demo incident (pages alice, then bob after 10 s, then carol){hint}:\n\n"
        f"  curl -s -X POST {api_url}/api/incidents \\\n"
        f"    -H {header} -H 'Content-Type: application/json' \\\n"
        f"    -d '{body}'\n\n"
        "  Ctrl-C (or SIGTERM) stops everything.\n"
    )


def run_dev_stack(api_port: int = 8000) -> int:
    """Run the stack until a stop signal; 0 after a clean stop, 1 if it cannot run."""
    settings = get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    port = int(settings.temporal_address.rsplit(":", 1)[1])
    ui_port = int(settings.temporal_ui_url.rsplit(":", 1)[1])
    busy = [p for p in (port, ui_port, api_port) if port_in_use(p)]
    if busy:
        print(f"port {busy[0]} on 127.0.0.1 is already in use (another `escalate dev`?)", file=sys.stderr)
        return 1
    supervisor = Supervisor(child_environment(api_port))
    python = sys.executable
    with stop_on_signals(supervisor):
        try:
            supervisor.start("temporal", dev_server_command(settings.data_dir, port, ui_port))
            if supervisor.wait_for_port(port):
                supervisor.start("worker", [python, "-m", "cli", "worker"])
                supervisor.start("api", [python, "-m", "cli", "api", "--port", str(api_port)])
            if supervisor.wait_for_port(api_port):
                api_url = f"http://127.0.0.1:{api_port}"
                print(banner(api_url, settings.temporal_ui_url, settings.api_key_list), flush=True)
            supervisor.run()
        except (RuntimeError, TimeoutError) as exc:
            print(f"escalate dev: {exc}", file=sys.stderr)
            return 1
        finally:
            supervisor.stop()
    return 0
