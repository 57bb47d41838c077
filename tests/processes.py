"""Helpers for tests that start real server processes (gunicorn) and talk to them over HTTP."""

from __future__ import annotations

import os
import random
import socket
import subprocess
import time
import urllib.request
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

_handed_out: set[int] = set()


def starts_process(fixture_function):
    """Under @pytest.fixture: the fixture starts a real process (gunicorn, Caddy, moto, PostgreSQL ...), so every
    test using it is marked `processes` (tests/conftest.py) and stays out of the fast lane."""
    fixture_function.starts_process = "processes"
    return fixture_function


def starts_chromium(fixture_function):
    """Under @pytest.fixture: the fixture starts Chromium; every test using it is marked `browser`."""
    fixture_function.starts_process = "browser"
    return fixture_function


def free_port() -> int:
    """A port nothing listens on now and that this process has not handed out before: the kernel may offer a
    port again once its probe socket is closed, and two processes of one stack (Caddy and an app) then
    collided on it."""
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        if port not in _handed_out:
            _handed_out.add(port)
            return port


def free_block(size: int) -> int:
    """The first of `size` consecutive free loopback ports, below the kernel's range for outgoing connections:
    there every even port may be held by a client socket or its TIME_WAIT (a bind conflicts with those), and
    after the load tests of a full run no block of five was free in 200 tries."""
    lowest_outgoing = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    candidates = range(10_000, lowest_outgoing - size)
    for _ in range(500):
        first = random.choice(candidates)
        ports = range(first, first + size)
        if _handed_out.isdisjoint(ports) and all(nobody_listens(port) for port in ports):
            _handed_out.update(ports)
            return first
    raise RuntimeError(f"no {size} consecutive free ports between 10000 and {lowest_outgoing}")


def nobody_listens(port: int) -> bool:
    """Nobody holds it: a server could bind it now."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _output(process: subprocess.Popen, log) -> str:
    if log is not None:
        log.flush()
        log.seek(0)
        return log.read()
    return process.stdout.read() if process.stdout is not None else ""


def wait_for(
    url: str, process: subprocess.Popen, seconds: float = 30, name: str = "server", log=None, context=None
) -> None:
    """Until `url` answers; fails loudly with the process's output when it exits or stays silent.
    `context`: an ssl.SSLContext for https URLs (e.g. with a client certificate for an mTLS port)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with {process.returncode}: {_output(process, log)}")
        try:
            with urllib.request.urlopen(url, timeout=1, context=context):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{name} did not answer {url} within {seconds}s")


def terminate(process: subprocess.Popen, seconds: float = 15) -> None:
    """SIGTERM, then SIGKILL when it has not exited within `seconds`."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


class Gunicorn:
    """gunicorn of `kind` ("app", "files", ... or a WSGI entry, common/launch.py) on a free loopback port with
    exactly the settings in `env` (common.launch.process_env); its output in `folder/<name>.log`, with an access
    line per request. With `tls` (common.tls.TlsFiles) it serves mTLS with those files and `url` is https;
    `client` (TlsFiles) is the certificate its readiness is checked with (default: `tls`'s own)."""

    def __init__(
        self,
        kind: str,
        folder,
        env: dict,
        workers: int = 2,
        threads: int = 4,
        name: str = "gunicorn",
        tls=None,
        client=None,
        hooks: bool = True,
        seconds: float = 30,
    ):
        from app import ROOT
        from common.launch import gunicorn_command, process_env

        self.port = free_port()
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{self.port}"
        self.log_path = folder / f"{name}.log"
        self.name = name
        log = open(self.log_path, "w+")  # noqa: SIM115 - read back by log()
        command = gunicorn_command(
            kind,
            f"127.0.0.1:{self.port}",
            workers=workers,
            threads=threads,
            graceful_timeout=3,
            tls=tls,
            hooks=hooks,
            options=["--access-logfile", "-", "--access-logformat", "access pid=%(p)s %(r)s %(s)s"],
        )
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=process_env(env), stdout=log, stderr=subprocess.STDOUT, text=True
        )
        self._log = log
        context = (client or tls).client_context() if tls else None
        try:
            wait_for(f"{self.url}/health", self.process, seconds=seconds, name=name, log=log, context=context)
        except Exception:
            self.stop()
            raise

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        terminate(self.process)
        self._log.close()


# --- the app under gunicorn on a database of its own ---------------------------------------------------------


def migrated(url: str) -> str:
    from app.db import close_database, open_database
    from app.migrations import migrate

    database = open_database(url)
    migrate(database)
    close_database(database)
    return url


@contextmanager
def factory_for(instance: Path, url: str):
    """A Factory on that database, with the signing keys of that instance folder (so that a process started
    on the same folder accepts its tokens); everything closed after."""
    from app import create_app
    from app.db import close_database, db
    from tests.conftest import CHEAP_ARGON2
    from tests.factories import Factory

    app = create_app({"TESTING": True, "INSTANCE_PATH": str(instance), "DATABASE_URL": url, **CHEAP_ARGON2})
    try:
        with app.app_context():
            db.connect(reuse_if_open=True)
            yield Factory(app)
            db.close()
    finally:
        close_database(app.extensions["database"])


def seed(instance: Path, url: str) -> dict:
    """An admin and a creator with live logins, an API key last used long ago, a festival."""
    from app.models import ApiKey
    from app.models.base import utcnow

    with factory_for(instance, url) as factory:
        admin, creator = factory.user("admin"), factory.user("creator")
        seeded = {
            "admin": factory.bearer(admin),
            "creator": factory.bearer(creator),
            "api_key": factory.api_key_headers(),
            "festival_id": factory.create("festival", creator)["festival_id"],
        }
        # its last use is over a minute old: a read with it wants to record a new one
        ApiKey.update(last_used=utcnow() - timedelta(minutes=5)).execute()
    return seeded


def app_env(instance: Path, url: str, **extra) -> dict:
    return {
        "FESTIVALS_DATABASE_URL": url,
        "FESTIVALS_INSTANCE_PATH": str(instance),
        "FESTIVALS_ARGON2_TIME_COST": "1",
        "FESTIVALS_ARGON2_MEMORY_COST": "1024",
        # nothing else: in-process state, straight to the app (process_env drops the suite's own settings)
        **extra,
    }


def timed(call):
    """(what `call()` answers, the seconds it took)."""
    started = time.monotonic()
    answer = call()
    return answer, time.monotonic() - started


def child_pids(pid: int) -> list[int]:
    """The live child processes of `pid` (e.g. gunicorn's workers), from /proc."""
    children = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:  # gone meanwhile
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            children.append(int(entry))
    return sorted(children)
