"""A throwaway PostgreSQL server for the tests, from the machine's own binaries.

``postgres`` (session) initialises a cluster in a fresh folder under /tmp, starts it on a
free loopback port (unix socket in the same folder, ``fsync=off``) and removes it all at
the end. ``initdb`` and ``postgres`` refuse to run as root: as root the folder is given to
the ``postgres`` system user and every server command runs through ``runuser``.
``PostgresServer.kill()`` / ``start()`` / ``restart()`` let a test crash and revive it.

``database_url`` (parametrized ``sqlite`` / ``postgresql``) is a fresh, migrated database
per test: a SQLite file in ``tmp_path``, or a PostgreSQL database copied from a template
migrated once per session (``CREATE DATABASE ... TEMPLATE``, a few milliseconds).
``empty_database_url`` is the same without the migration.

Missing binaries fail the tests with the command that installs them (``make postgresql``).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import Engine

from store.db import engine_for, migrate

TEMPLATE = "escalate_template"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def postgres_bindir() -> Path:
    """The newest ``/usr/lib/postgresql/<v>/bin`` with ``initdb``, else ``pg_config --bindir``."""
    found = [p.parent for p in Path("/usr/lib/postgresql").glob("*/bin/initdb")]
    found.sort(key=lambda p: [int(n) for n in re.findall(r"\d+", p.parent.name)] or [0])
    if found:
        return found[-1]
    with contextlib.suppress(OSError, subprocess.CalledProcessError):
        bindir = Path(
            subprocess.run(
                ["pg_config", "--bindir"], capture_output=True, text=True, check=True
            ).stdout.strip()
        )
        if (bindir / "initdb").exists():
            return bindir
    pytest.fail(
        "PostgreSQL server binaries (initdb, pg_ctl) are not installed: run `make postgresql` "
        "(as root: apt-get update && apt-get install -y postgresql)",
        pytrace=False,
    )


class PostgresServer:
    """One cluster in ``root``: ``data/`` (the cluster), ``socket/``, ``server.log``."""

    def __init__(self, bindir: Path, root: Path) -> None:
        self.bindir, self.root = bindir, root
        self.data, self.socket, self.logfile = root / "data", root / "socket", root / "server.log"
        self.port = free_port()
        self.as_root = os.geteuid() == 0

    def _run(self, tool: str, *args: str, timeout: float = 60) -> None:
        command = [str(self.bindir / tool), *args]
        if self.as_root:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
        if done.returncode != 0:
            log = self.logfile.read_text(errors="replace")[-3000:] if self.logfile.exists() else ""
            raise RuntimeError(f"{tool} {' '.join(args)} failed:\n{done.stdout}{done.stderr}\n{log}")

    def init(self) -> None:
        self.socket.mkdir(parents=True)
        if self.as_root:
            shutil.chown(self.root, "postgres", "postgres")
            shutil.chown(self.socket, "postgres", "postgres")
        self._run(
            "initdb", "-D", str(self.data), "--auth=trust", "-U", "postgres", "-E", "UTF8", "--no-locale"
        )

    def start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.socket} "
            # fsync=off survives a killed server (the OS keeps the writes), not a killed machine;
            # synchronous_commit stays on: a commit must be in the WAL before it is answered.
            "-c fsync=off -c max_connections=200"
        )
        self._run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.logfile), "-o", options, "-w", "-t", "60", "start"
        )

    def stop(self) -> None:
        """Stop at once (``-m immediate``): the next start runs crash recovery."""
        if (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def kill(self) -> None:
        """SIGKILL the postmaster and every backend, as a crashed machine would leave them."""
        pid = self.postmaster_pid()
        if pid is None:
            return
        victims = [pid, *_children(pid)]
        for victim in victims:
            with contextlib.suppress(ProcessLookupError):
                os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while any(_alive(v) for v in victims):
            if time.monotonic() > deadline:
                raise RuntimeError(f"PostgreSQL processes {victims} survived SIGKILL")
            time.sleep(0.05)
        # The dead postmaster may linger as a zombie until it is reaped, and a new postmaster
        # would take it for a live one: its lock files go, as after a reboot.
        (self.data / "postmaster.pid").unlink(missing_ok=True)
        for leftover in self.socket.glob(".s.PGSQL.*"):
            leftover.unlink(missing_ok=True)

    def restart(self) -> None:
        self.kill()
        self.start()

    def postmaster_pid(self) -> int | None:
        pidfile = self.data / "postmaster.pid"
        try:
            pid = int(pidfile.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None
        return pid if _alive(pid) else None

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def admin(self, sql: str) -> None:
        """Run one statement outside a transaction (``CREATE DATABASE`` needs that)."""
        with psycopg.connect(
            f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True
        ) as c:
            c.execute(sql)  # type: ignore[arg-type]

    def create_database(self, template: str | None = None) -> str:
        name = f"t_{uuid.uuid4().hex[:16]}"
        self.admin(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
        return name


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"  # a zombie is gone for our purposes


def _children(parent: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == parent:
                found.append(int(stat.parent.name))
    return found


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    bindir = postgres_bindir()
    root = Path(tempfile.mkdtemp(prefix="escalate-pg-"))
    server = PostgresServer(bindir, root)
    try:
        server.init()
        server.start()
        server.admin(f'CREATE DATABASE "{TEMPLATE}"')
        engine = engine_for(server.url(TEMPLATE), root)
        migrate(engine)
        engine.dispose()  # a template must have no connections while it is copied
        yield server
    finally:
        with contextlib.suppress(Exception):
            server.stop()
        server.kill()
        shutil.rmtree(root, ignore_errors=True)


def _url(request: pytest.FixtureRequest, tmp_path: Path, migrated: bool) -> str:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'escalate.db'}"
        if migrated:
            engine = engine_for(url, tmp_path)
            migrate(engine)
            engine.dispose()
        return url
    server: PostgresServer = request.getfixturevalue("postgres")
    return server.url(server.create_database(TEMPLATE if migrated else None))


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh database at the schema's head, on each backend."""
    return _url(request, tmp_path, migrated=True)


@pytest.fixture
def engine(database_url: str, tmp_path: Path) -> Iterator[Engine]:
    """An engine on ``database_url``: a fresh migrated database on each backend."""
    made = engine_for(database_url, tmp_path)
    yield made
    made.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh database with no tables at all, on each backend."""
    return _url(request, tmp_path, migrated=False)
