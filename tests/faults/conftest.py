"""Faults injected into real processes: the app under gunicorn (`serve_app`: 2 workers, 4 threads each, the
gunicorn hooks config) on a database of the test's own, whatever FESTIVALS_DATABASE_URL says (a SQLite file, or
a private PostgreSQL cluster: the shared server is never stopped)."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import psycopg2
import pytest

from tests.processes import free_port, starts_process


def pg_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(p.split("/")[4]))
    if not found:
        pytest.fail("PostgreSQL's server binaries are not installed (no /usr/lib/postgresql/*/bin/pg_ctl)")
    return Path(found[-1]).parent


class Cluster:
    """A PostgreSQL cluster of this test alone: initdb into a temp folder, trust auth, loopback on its own port.
    As root, the server binaries run as the postgres user (initdb refuses root)."""

    def __init__(self):
        self.bin = pg_bin()
        self.folder = Path(tempfile.mkdtemp(prefix="festivals-pg-"))
        self.data = self.folder / "data"
        self.port = free_port()
        self.as_user = []
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres", "postgres")
            self.as_user = ["runuser", "-u", "postgres", "--"]
        self.run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")

    def run(self, tool: str, *args: str) -> None:
        result = subprocess.run(
            [*self.as_user, str(self.bin / tool), *args], capture_output=True, text=True, timeout=60, check=False
        )
        assert result.returncode == 0, f"{tool} failed: {result.stdout}{result.stderr}"

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        self.run("pg_ctl", "-D", str(self.data), "-l", str(self.folder / "server.log"), "-o", options, "-w", "start")

    def stop(self) -> None:
        self.run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        connection = psycopg2.connect(self.url("postgres"))
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{name}"')
        connection.close()
        return self.url(name)

    def remove(self) -> None:
        subprocess.run(
            [*self.as_user, str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"],
            capture_output=True,
            check=False,
        )
        shutil.rmtree(self.folder, ignore_errors=True)


@pytest.fixture
@starts_process
def cluster():
    cluster = Cluster()
    cluster.start()
    yield cluster
    cluster.remove()
