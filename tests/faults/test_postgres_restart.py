"""PostgreSQL stopped and started again while the app serves under gunicorn: 503 with the envelope while it is
down (fast, no hanging threads), /health alive and /ready naming the database, and every answer back to normal
once it is up again, without restarting the app. On a private throwaway cluster (initdb in a temp folder, its
own port): the shared server is never stopped. Runs whatever FESTIVALS_DATABASE_URL says."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg2
import pytest
import requests

from tests.processes import free_port, migrated, seed

DOWN_ANSWER_S = 3.0  # a request while the server is down answers within this (connection refused at once)
ENVELOPE = {"error": "the database is unavailable; try again shortly"}


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
def cluster():
    cluster = Cluster()
    cluster.start()
    yield cluster
    cluster.remove()


def timed(call) -> tuple[requests.Response, float]:
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


def test_postgres_down_answers_503_and_the_app_recovers_without_a_restart(cluster, tmp_path, serve_app):
    url = migrated(cluster.create_database("festivals"))
    seeded = seed(tmp_path / "instance", url)
    server = serve_app(tmp_path, url)
    base = server.url
    festival = f"{base}/api/v1/festivals/{seeded['festival_id']}"

    def calls():
        return {
            "Api-Key read": lambda: requests.get(festival, headers=seeded["api_key"], timeout=10),
            "Bearer read": lambda: requests.get(f"{festival}/events", headers=seeded["creator"], timeout=10),
            "write": lambda: requests.post(
                f"{base}/api/v1/festivals", json={"festival_name": f"f{time.time_ns()}"}, headers=seeded["creator"]
            ),
        }

    for name, call in calls().items():
        assert call().ok, name  # the pool holds live connections now

    cluster.stop()
    for name, call in calls().items():
        response, seconds = timed(call)
        assert response.status_code == 503, (name, response.text)
        assert response.json() == ENVELOPE and response.headers["Retry-After"], name
        assert seconds < DOWN_ANSWER_S, (name, seconds)
    assert requests.get(f"{base}/health", timeout=5).status_code == 200
    ready = requests.get(f"{base}/ready", timeout=5)
    assert ready.status_code == 503 and ready.json()["database"] == "unreachable"

    cluster.start()
    ready = requests.get(f"{base}/ready", timeout=5)
    assert ready.status_code == 200 and ready.json()["database_write"] == "ok"
    for _ in range(3):  # every pooled connection died with the server: none of them is handed out again
        for name, call in calls().items():
            response = call()
            assert response.ok, (name, response.status_code, response.text)
    assert server.process.poll() is None  # the same app all along
    assert "database unavailable" in server.log()
