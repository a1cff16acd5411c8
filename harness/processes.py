"""Local processes for durability tests and benchmarks: a dev server that can be stopped
and restarted on the same SQLite file, and ``escalate`` processes that can be killed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from cli.devstack import dev_server_command, port_in_use, wait_for_port
from services.servers import free_port


class DevServer:
    """``temporal server start-dev`` on a free port, its database under ``data_dir``."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.port, self.ui_port = free_port(), free_port()
        self.process: subprocess.Popen | None = None
        self.address = f"127.0.0.1:{self.port}"

    def start(self, attempts: int = 3) -> None:
        """Start it and wait until it listens. A first start that exits at once (a port
        another process took between ``free_port`` and the bind) is tried on new ports;
        a restart keeps its ports, as clients already know the address."""
        first = self.process is None
        for attempt in range(1, attempts + 1):
            log = (self.data_dir / "temporal.log").open("a")
            self.process = subprocess.Popen(
                dev_server_command(self.data_dir, self.port, self.ui_port),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and self.process.poll() is None:
                if port_in_use(self.port):
                    return
                time.sleep(0.2)
            if self.process.poll() is None or not first or attempt == attempts:
                break
            self.port, self.ui_port = free_port(), free_port()
            self.address = f"127.0.0.1:{self.port}"
        wait_for_port(self.port, timeout=1)  # raises, naming the port

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        for _ in range(100):
            if not port_in_use(self.port):
                return
            time.sleep(0.1)


def escalate(*args: str) -> list[str]:
    """The command line of ``escalate <args>`` with this interpreter."""
    return [sys.executable, "-m", "cli", *args]


class Process:
    """One process (``escalate(...)`` or any command) with the given environment."""

    def __init__(self, command: list[str], env: dict[str, str], log: Path) -> None:
        self.command, self.env, self.log = command, env, log
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        out = self.log.open("a")
        self.process = subprocess.Popen(
            self.command, env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )

    def kill(self) -> None:
        """SIGKILL: no shutdown, no cleanup, as in a crash."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


def app_env(
    data_dir: Path,
    server: DevServer,
    api_key: str = "durable-key",
    task_queue: str = "durability",
    **extra: str,
) -> dict[str, str]:
    """The environment for worker and API processes against ``server``."""
    return {
        **os.environ,
        "DATA_DIR": str(data_dir),
        "TEMPORAL_ADDRESS": server.address,
        "TEMPORAL_UI_URL": f"http://127.0.0.1:{server.ui_port}",
        "API_KEYS": api_key,
        "TASK_QUEUE": task_queue,
        **extra,
    }


def rss_mib(pid: int) -> float:
    """Resident memory of a process, from /proc (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0
