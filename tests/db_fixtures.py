"""A throwaway PostgreSQL cluster for tests and the bench: initdb + pg_ctl in a temporary folder.

Nothing is assumed running. The server binaries come from ``pg_config --bindir`` (Debian:
``/usr/lib/postgresql/<v>/bin``, package ``postgresql``). PostgreSQL refuses to run as root, so
when the tests run as root (CI does) the cluster is created and started as the ``postgres`` OS
user (``runuser``), in a folder that user owns. The server listens on 127.0.0.1 on a free port
and on a unix socket inside the folder, with trust authentication, and is stopped (``pg_ctl stop
-m immediate``) and its folder removed afterwards. Durability is off (``fsync``), as befits a
cluster that lives for one test session.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

# A 10-table schema: composite primary keys, a unique group, two self-references, lengths, every type.
SCHEMA10 = Path(__file__).resolve().parent / "pipeline" / "database" / "schema10.json"
INSTALL_HINT = "apt-get install postgresql"
SERVER_USER = "postgres"


class PostgresUnavailable(RuntimeError):
    """No server binaries, or the cluster would not start: the message says what to do."""


def _bindir() -> Path:
    candidates = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False).stdout.strip()
        if out:
            candidates.append(Path(out))
    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    for folder in candidates:
        if (folder / "initdb").is_file() and (folder / "pg_ctl").is_file():
            return folder
    raise PostgresUnavailable(f"PostgreSQL server binaries (initdb, pg_ctl) not found: {INSTALL_HINT}")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class PostgresCluster:
    """A running throwaway cluster; ``url(dbname)`` is what ``generate --to`` takes."""

    bindir: Path
    root: Path
    port: int
    as_user: str | None

    @property
    def data(self) -> Path:
        return self.root / "data"

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://{SERVER_USER}@127.0.0.1:{self.port}/{dbname}"

    def connect(self, dbname: str = "postgres", autocommit: bool = True):  # -> psycopg.Connection
        import psycopg

        return psycopg.connect(host="127.0.0.1", port=self.port, user=SERVER_USER, dbname=dbname, autocommit=autocommit)

    def create_database(self, name: str | None = None) -> str:
        """A new empty database; its URL."""
        name = name or f"t_{uuid.uuid4().hex[:10]}"
        with self.connect() as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        command = [str(a) for a in args]
        if self.as_user:
            command = ["runuser", "-u", self.as_user, "--", *command]
        return subprocess.run(command, capture_output=True, text=True, check=False, timeout=120)

    def stop(self) -> None:
        self._run(self.bindir / "pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)


def start_postgres(parent: str | None = None) -> PostgresCluster:
    """initdb and start a cluster in a new temporary folder; PostgresUnavailable if it cannot."""
    bindir = _bindir()
    root = Path(tempfile.mkdtemp(prefix="synthbeam-pg-", dir=parent))
    as_user = None
    if os.geteuid() == 0:
        as_user = SERVER_USER
        try:
            shutil.chown(root, user=SERVER_USER)
        except (LookupError, PermissionError) as exc:
            shutil.rmtree(root, ignore_errors=True)
            raise PostgresUnavailable(
                f"no {SERVER_USER} OS user to run the server as ({exc}): {INSTALL_HINT}"
            ) from None
        root.chmod(0o755)
    cluster = PostgresCluster(bindir, root, _free_port(), as_user)
    init = cluster._run(
        bindir / "initdb", "-D", cluster.data, "-U", SERVER_USER, "--auth=trust", "--encoding=UTF8", "--no-sync"
    )
    if init.returncode:
        shutil.rmtree(root, ignore_errors=True)
        raise PostgresUnavailable(f"initdb failed: {init.stderr.strip().splitlines()[-1:]}")
    options = (
        f"-p {cluster.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={root} "
        "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=40"
    )
    started = cluster._run(
        bindir / "pg_ctl", "-D", cluster.data, "-o", options, "-l", root / "server.log", "-w", "-t", "60", "start"
    )
    if started.returncode:
        log = (root / "server.log").read_text(errors="replace")[-500:] if (root / "server.log").exists() else ""
        cluster.stop()
        raise PostgresUnavailable(f"pg_ctl start failed: {started.stderr.strip()} {log}".strip())
    return cluster
