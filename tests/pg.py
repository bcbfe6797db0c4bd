"""A throwaway PostgreSQL cluster from the installed binaries, for the end-to-end tests.

``initdb`` and ``postgres`` refuse to run as root, so as root every server command runs as the
unprivileged ``postgres`` OS user through ``runuser``. The data directory lives in its own temp
dir (not under pytest's 0700 ``/tmp/pytest-of-root``, which that user could not enter).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import typing as t
from dataclasses import dataclass
from pathlib import Path

import psycopg

USER = "meltano"
PASSWORD = "meltano"  # a throwaway cluster on 127.0.0.1; trust auth for the superuser
SERVER_OPTIONS = (
    # Durability is worthless for a cluster deleted after the run; these make writes cheap.
    "-c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
)


def find_bindir() -> Path:
    """The server binaries: ``pg_config --bindir``, else the newest Debian install."""
    if pg_config := shutil.which("pg_config"):
        result = subprocess.run(
            [pg_config, "--bindir"], capture_output=True, text=True, check=False
        )
        bindir = Path(result.stdout.strip())
        if result.returncode == 0 and (bindir / "initdb").exists():
            return bindir
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4])
    )
    if candidates:
        return Path(candidates[-1]).parent
    msg = (
        "PostgreSQL server binaries (initdb) not found. Install them, e.g. "
        "`apt-get install -y postgresql-15` (.ci/run does this when they are missing)."
    )
    raise RuntimeError(msg)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class PostgresCluster:
    """A running cluster; ``dsn(db)`` connects as the ``meltano`` role."""

    bindir: Path
    base: Path
    port: int

    @property
    def data_dir(self) -> Path:
        return self.base / "data"

    @classmethod
    def start(cls) -> PostgresCluster:
        bindir = find_bindir()
        base = Path(tempfile.mkdtemp(prefix="e2e-postgres-"))
        cluster = cls(bindir=bindir, base=base, port=free_port())
        try:
            if os.geteuid() == 0:
                owner = pwd.getpwnam("postgres")
                os.chown(base, owner.pw_uid, owner.pw_gid)
            cluster._run(
                "initdb", "-D", str(cluster.data_dir), "-U", "postgres", "--auth=trust",
                "-E", "UTF8", "--locale=C.UTF-8",
            )  # fmt: skip
            cluster._run(
                "pg_ctl", "-D", str(cluster.data_dir), "-l", str(base / "server.log"), "-w",
                "start", "-o", f"-p {cluster.port} -k {base} {SERVER_OPTIONS}",
            )  # fmt: skip
            with cluster.connect("postgres", user="postgres") as conn:
                conn.execute(f"create role {USER} login createdb password '{PASSWORD}'")
        except BaseException:
            cluster.stop()
            raise
        return cluster

    def _run(self, program: str, *args: str) -> None:
        command = [str(self.bindir / program), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        # cwd=/ : the postgres user may not be allowed to enter the caller's directory.
        result = subprocess.run(command, capture_output=True, text=True, cwd="/", check=False)
        if result.returncode != 0:
            log = self.base / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            msg = f"{program} failed ({result.returncode}):\n{result.stdout}{result.stderr}{tail}"
            raise RuntimeError(msg)

    def stop(self) -> None:
        if (self.data_dir / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.data_dir), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.base, ignore_errors=True)

    def connect(
        self, dbname: str, *, user: str = USER, autocommit: bool = True
    ) -> psycopg.Connection[t.Any]:
        return psycopg.connect(
            host="127.0.0.1",
            port=self.port,
            user=user,
            password=PASSWORD,
            dbname=dbname,
            autocommit=autocommit,
        )

    def create_database(self, name: str) -> str:
        with self.connect("postgres") as conn:
            conn.execute(f'create database "{name}"')
        return name

    def target_env(self, database: str) -> dict[str, str]:
        """Environment that points meltano's target-postgres at this cluster."""
        return {
            "TARGET_POSTGRES_HOST": "127.0.0.1",
            "TARGET_POSTGRES_PORT": str(self.port),
            "TARGET_POSTGRES_USER": USER,
            "TARGET_POSTGRES_PASSWORD": PASSWORD,
            "TARGET_POSTGRES_DATABASE": database,
        }
