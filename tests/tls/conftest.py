"""A CA with service certificates, plus what must be refused: a certificate of another CA and an expired one;
and real gunicorn processes serving mTLS on their internal port."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from app import ROOT
from common import pki
from common.tls import TlsFiles
from tests.conftest import USE_POSTGRES
from tests.processes import free_port, wait_for


def tls_files(folder: Path, name: str) -> TlsFiles:
    return TlsFiles(str(folder / f"{name}.pem"), str(folder / f"{name}.key"), str(folder / "ca.pem"))


@pytest.fixture(scope="session")
def certs(tmp_path_factory):
    """`folder` holds the CA and certificates for app, identity, files, gateway (127.0.0.1 and localhost) and an
    expired `old` one; `other` a second CA with an `intruder` certificate of the same names."""
    folder = tmp_path_factory.mktemp("pki")
    other = tmp_path_factory.mktemp("other-pki")
    pki.init_ca(folder)
    pki.init_ca(other, common_name="Someone else's CA")
    for name in ("app", "identity", "files", "gateway"):
        pki.issue(folder, name, dns=["localhost"], ips=["127.0.0.1"])
    pki.issue(
        folder,
        "old",
        dns=["localhost"],
        ips=["127.0.0.1"],
        days=1,
        not_before=dt.datetime.now(dt.UTC) - dt.timedelta(days=2),
    )
    pki.issue(other, "intruder", dns=["localhost"], ips=["127.0.0.1"])
    return SimpleNamespace(
        folder=folder,
        other=other,
        ca=str(folder / "ca.pem"),
        files=lambda name: tls_files(folder, name),
        client=lambda name: (str(folder / f"{name}.pem"), str(folder / f"{name}.key")),
        intruder=(str(other / "intruder.pem"), str(other / "intruder.key")),
    )


class Gunicorn:
    """`gunicorn <target>` on a free port serving TLS with `tls` and requiring client certificates from its CA
    (the same arguments scripts/stack uses); access log and errors in `log_path`."""

    def __init__(self, target: str, env: dict, tls: TlsFiles, log_path: Path, client: TlsFiles):
        self.port = free_port()
        self.url = f"https://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.log = open(log_path, "w+")  # noqa: SIM115 - closed in stop()
        env = {**env, "FESTIVALS_TLS_CERT": tls.cert, "FESTIVALS_TLS_KEY": tls.key, "FESTIVALS_TLS_CA": tls.ca}
        self.process = subprocess.Popen(
            [
                os.path.join(os.path.dirname(sys.executable), "gunicorn"),
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                "1",
                "--no-control-socket",
                "--access-logfile",
                "-",
                *tls.gunicorn_args(),
                target,
            ],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            wait_for(
                f"{self.url}/health",
                self.process,
                seconds=30,
                name=target,
                log=self.log,
                context=client.client_context(),
            )
        except Exception:
            self.stop()
            raise

    def output(self, waiting_for: str = "", seconds: float = 5) -> str:
        """The process's log so far; with `waiting_for`, once that text is in it (the access log line of a
        request is written after its response is sent)."""
        deadline = time.monotonic() + seconds
        while True:
            text = self.log_path.read_text()
            if waiting_for in text or time.monotonic() > deadline:
                return text
            time.sleep(0.05)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)
        self.log.close()


def clean_env(**settings: str) -> dict:
    env = {key: value for key, value in os.environ.items() if not key.startswith("FESTIVALS_")}
    env.update({"FESTIVALS_ARGON2_TIME_COST": "1", "FESTIVALS_ARGON2_MEMORY_COST": "1024", **settings})
    return env


@pytest.fixture(scope="module")
def internal_db(database_template, tmp_path_factory) -> str:
    """A database for the processes of a module: the worker's PostgreSQL database, or a SQLite copy."""
    if USE_POSTGRES:
        return database_template
    path = tmp_path_factory.mktemp("internal-db") / "festivals.sqlite3"
    shutil.copy(database_template, path)
    return f"sqlite:///{path}"


@pytest.fixture(scope="module")
def serve(certs, internal_db, tmp_path_factory):
    """serve(target, name, **settings): a gunicorn process of `target` with the certificate `name`."""
    started = []
    folder = tmp_path_factory.mktemp("processes")

    def start(target: str, name: str, **settings: str) -> Gunicorn:
        instance = folder / f"{name}-instance"
        env = clean_env(FESTIVALS_INSTANCE_PATH=str(instance), FESTIVALS_DATABASE_URL=internal_db, **settings)
        server = Gunicorn(target, env, certs.files(name), folder / f"{name}.log", certs.files("gateway"))
        server.instance = instance
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
