"""A CA with service certificates, plus what must be refused: a certificate of another CA and an expired one;
and real gunicorn processes serving mTLS on their internal port."""

from __future__ import annotations

import datetime as dt
import shutil
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from common import pki
from common.tls import TlsFiles
from tests.conftest import USE_POSTGRES
from tests.processes import Gunicorn, starts_process


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


class Server(Gunicorn):
    """gunicorn of `target` serving TLS with its certificate and requiring client certificates of its CA (the
    same arguments scripts/stack uses), without our hooks config; access lines and errors in its log."""

    def output(self, waiting_for: str = "", seconds: float = 5) -> str:
        """The process's log so far; with `waiting_for`, once that text is in it (the access log line of a
        request is written after its response is sent)."""
        deadline = time.monotonic() + seconds
        while True:
            text = self.log()
            if waiting_for in text or time.monotonic() > deadline:
                return text
            time.sleep(0.05)


def clean_env(**settings: str) -> dict:
    return {"FESTIVALS_ARGON2_TIME_COST": "1", "FESTIVALS_ARGON2_MEMORY_COST": "1024", **settings}


@pytest.fixture(scope="module")
def internal_db(database_template, tmp_path_factory) -> str:
    """A database for the processes of a module: the worker's PostgreSQL database, or a SQLite copy."""
    if USE_POSTGRES:
        return database_template
    path = tmp_path_factory.mktemp("internal-db") / "festivals.sqlite3"
    shutil.copy(database_template, path)
    return f"sqlite:///{path}"


@pytest.fixture(scope="module")
@starts_process
def serve(certs, internal_db, tmp_path_factory):
    """serve(target, name, **settings): a gunicorn process of `target` with the certificate `name`."""
    started = []
    folder = tmp_path_factory.mktemp("processes")

    def start(target: str, name: str, **settings: str) -> Server:
        instance = folder / f"{name}-instance"
        tls = certs.files(name)
        env = clean_env(
            FESTIVALS_INSTANCE_PATH=str(instance),
            FESTIVALS_DATABASE_URL=internal_db,
            FESTIVALS_TLS_CERT=tls.cert,
            FESTIVALS_TLS_KEY=tls.key,
            FESTIVALS_TLS_CA=tls.ca,
            **settings,
        )
        gateway = certs.files("gateway")
        server = Server(target, folder, env, workers=1, threads=1, name=name, tls=tls, client=gateway, hooks=False)
        server.instance = instance
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
