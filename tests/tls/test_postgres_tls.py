"""PostgreSQL over TLS (an option): `?sslmode=verify-full&sslrootcert=<ca.pem>` in FESTIVALS_DATABASE_URL.
A throwaway PostgreSQL server of the Debian package serves TLS with a certificate of our CA and accepts only
TLS connections (hostssl), so a plain connection, another CA or a name not in the certificate are refused."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile

import pytest

from app.db import db
from common import pki
from tests.processes import free_port, starts_process


def _as_postgres(args: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: run its tools as the `postgres` user then."""
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


@pytest.fixture(scope="module")
@starts_process
def tls_postgres(certs):
    binaries = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    assert binaries, "PostgreSQL server binaries not found (Debian package postgresql; scripts/setup installs it)"
    bindir = os.path.dirname(binaries[-1])
    pki.issue(certs.folder, "postgres", dns=["localhost"])  # a name only: 127.0.0.1 is not in it
    root = tempfile.mkdtemp(prefix="festivals-pg-tls-")
    os.chmod(root, 0o755)
    data = os.path.join(root, "data")
    for name in ("server.crt", "server.key"):
        source = certs.folder / ("postgres.pem" if name.endswith("crt") else "postgres.key")
        shutil.copy(source, os.path.join(root, name))
        os.chmod(os.path.join(root, name), 0o600)
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
        for name in ("server.crt", "server.key"):
            shutil.chown(os.path.join(root, name), "postgres", "postgres")
    port = free_port()
    subprocess.run(
        _as_postgres([f"{bindir}/initdb", "-D", data, "-U", "postgres", "--auth=trust", "-N"]),
        check=True,
        capture_output=True,
        timeout=120,
    )
    with open(os.path.join(root, "pg_hba.conf"), "w") as handle:
        handle.write("hostssl all all 127.0.0.1/32 trust\n")  # TLS or nothing
    if os.geteuid() == 0:
        shutil.chown(os.path.join(root, "pg_hba.conf"), "postgres", "postgres")
    options = (
        f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c ssl=on -c ssl_cert_file={root}/server.crt "
        f"-c ssl_key_file={root}/server.key -c hba_file={root}/pg_hba.conf -c fsync=off"
    )
    started = subprocess.run(
        _as_postgres([f"{bindir}/pg_ctl", "-D", data, "-o", options, "-l", f"{root}/log", "-w", "-t", "60", "start"]),
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert started.returncode == 0, started.stdout + started.stderr + open(f"{root}/log").read()
    yield port
    subprocess.run(
        _as_postgres([f"{bindir}/pg_ctl", "-D", data, "-m", "immediate", "stop"]), capture_output=True, timeout=60
    )
    shutil.rmtree(root, ignore_errors=True)


def ready(make_app, tmp_path, url: str) -> int:
    app = make_app(DATABASE_URL=url, INSTANCE_PATH=str(tmp_path / f"instance-{abs(hash(url))}"))
    return app.test_client().get("/ready").status_code


def test_verify_full_with_our_ca_connects_over_tls(tls_postgres, certs, make_app, tmp_path):
    url = f"postgresql://postgres@localhost:{tls_postgres}/postgres?sslmode=verify-full&sslrootcert={certs.ca}"
    app = make_app(DATABASE_URL=url, INSTANCE_PATH=str(tmp_path / "tls"))
    assert app.test_client().get("/ready").status_code == 200
    with app.app_context(), db.connection_context():
        ssl, version = db.execute_sql("SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()").fetchone()
    assert ssl is True and version.startswith("TLS")


def test_plain_other_ca_and_wrong_name_are_refused(tls_postgres, certs, make_app, tmp_path):
    base = f"postgresql://postgres@%s:{tls_postgres}/postgres?sslmode="
    other_ca = str(certs.other / "ca.pem")
    assert ready(make_app, tmp_path, base % "localhost" + "disable") == 503  # hostssl only
    assert ready(make_app, tmp_path, base % "localhost" + f"verify-full&sslrootcert={other_ca}") == 503
    assert ready(make_app, tmp_path, base % "127.0.0.1" + f"verify-full&sslrootcert={certs.ca}") == 503
    assert ready(make_app, tmp_path, base % "127.0.0.1" + f"verify-ca&sslrootcert={certs.ca}") == 200
