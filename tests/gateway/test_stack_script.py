"""scripts/stack as an operator runs it: every process under supervisord, a master killed with SIGKILL comes back
with no failed read, scripts/rolling-restart replaces the app instances with no failed read or write, Ctrl-C
stops every process. One stack per module (its start-up, with migrations and demo data, takes up to a minute on
a loaded machine), on SQLite or on a PostgreSQL database of its own; heartbeats every 2 s (a restarted instance
beats as soon as it is ready; stale after 5 s, so a beat late on a machine loaded far over its cores does not
take a healthy instance out)."""

from __future__ import annotations

import calendar
import os
import signal
import subprocess
import threading
import time
import uuid
from pathlib import Path

import pytest
import requests

from app import ROOT as APP_ROOT
from tests.conftest import USE_POSTGRES, create_postgres_database, worker_database_name
from tests.gateway.conftest import DOMAIN, Readers, caddy_upstreams, keep_alive_session
from tests.gateway.test_heartbeat_process import is_heartbeat, running
from tests.processes import child_pids, free_block, free_port, nobody_listens, starts_process

ROOT = Path(APP_ROOT)
BANNER = "FestivalsApp is running behind the gateway"


def workers_of(master: int) -> list[int]:
    """gunicorn's workers among the master's children (not its heartbeat process)."""
    return [pid for pid in child_pids(master) if not is_heartbeat(pid)]


class StackScript:
    def __init__(self, folder: Path):
        self.folder = folder
        self.instance = folder / "instance"
        self.base = free_block(5)
        self.https_port, self.http_port, self.admin_port = free_port(), free_port(), free_port()
        self.env = {
            **os.environ,
            "FESTIVALS_INSTANCE_PATH": str(self.instance),
            "FESTIVALS_STACK_PORT": str(self.base),
            "FESTIVALS_GATEWAY_PORT": str(self.http_port),
            "FESTIVALS_GATEWAY_HTTPS_PORT": str(self.https_port),
            "FESTIVALS_GATEWAY_ADMIN": f"127.0.0.1:{self.admin_port}",
            "FESTIVALS_HEARTBEAT_S": "2",
            "FESTIVALS_REDIS_URL": "",  # in-process state: one machine
            "FESTIVALS_ARGON2_TIME_COST": "1",
            "FESTIVALS_ARGON2_MEMORY_COST": "1024",
        }
        for name in ("FESTIVALS_IDENTITY_URL", "FESTIVALS_PUBLIC_TLS", "FESTIVALS_DOMAIN", "FESTIVALS_DATABASE_URL"):
            self.env.pop(name, None)
        if USE_POSTGRES:
            self.env["FESTIVALS_DATABASE_URL"] = create_postgres_database(worker_database_name("stack"))
        self.process: subprocess.Popen | None = None
        self.log_path = folder / "stack.log"
        self.conf = self.instance / "supervisor" / "supervisord.conf"

    # --- the script -------------------------------------------------------------------------------------------
    def start(self) -> None:
        log = open(self.log_path, "a")  # noqa: SIM115 - the process owns it
        self.process = subprocess.Popen(
            [str(ROOT / "scripts" / "stack")],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, as a terminal's foreground job
        )
        log.close()
        deadline = time.monotonic() + 300
        while BANNER not in self.log():
            if self.process.poll() is not None:
                raise RuntimeError(f"scripts/stack exited with {self.process.returncode}:\n{self.log()[-5000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"scripts/stack did not start within 300 s:\n{self.log()[-5000:]}")
            time.sleep(0.5)
        email, password, api_key = (self.instance / "dev-credentials").read_text().split()[:3]
        self.api_headers = {"Api-Key": api_key}
        token = self.post("identity", "/token", json={"email": email, "password": password})
        assert token.status_code == 200, token.text
        self.admin_headers = {"Authorization": f"Bearer {token.json()['access_token']}"}

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def interrupt(self) -> None:
        """Ctrl-C: SIGINT to the foreground process group (the script and supervisord)."""
        os.killpg(self.process.pid, signal.SIGINT)
        self.process.wait(timeout=120)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def ctl(self, *args: str) -> str:
        done = subprocess.run(
            [str(ROOT / ".venv" / "bin" / "supervisorctl"), "-c", str(self.conf), *args],
            capture_output=True,
            text=True,
            timeout=60,
        )
        return done.stdout.strip()

    def pid(self, program: str) -> int:
        return int(self.ctl("pid", program) or 0)

    def pids(self) -> list[int]:
        """supervisord, every program and every program's children (gunicorn's workers)."""
        masters = [int(pid) for pid in self.ctl("pid", "all").split() if pid.isdigit() and pid != "0"]
        supervisord = int((self.conf.parent / "supervisord.pid").read_text())
        return [supervisord, *masters, *(child for pid in masters for child in child_pids(pid))]

    def rolling_restart(self, *programs: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(ROOT / "scripts" / "rolling-restart"), *programs],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
        )

    # --- HTTP through the gateway, and what it balances over ------------------------------------------------
    @property
    def ca(self) -> str:
        return str(self.instance / "pki" / "ca.pem")

    def request(self, method: str, host: str, path: str, session=None, **kwargs) -> requests.Response:
        headers = {"Host": f"{host}.{DOMAIN}" if host else DOMAIN, **kwargs.pop("headers", {})}
        return (session or requests).request(
            method,
            f"https://127.0.0.1:{self.https_port}{path}",
            headers=headers,
            verify=self.ca,
            timeout=30,
            **kwargs,
        )

    def get(self, host: str, path: str, **kwargs) -> requests.Response:
        return self.request("GET", host, path, **kwargs)

    def post(self, host: str, path: str, **kwargs) -> requests.Response:
        return self.request("POST", host, path, **kwargs)

    def address(self, program: str) -> str:
        return f"127.0.0.1:{self.base + ['app1', 'app2', 'identity', 'files', 'registry'].index(program)}"

    def upstreams(self, group: str) -> list[str]:
        return caddy_upstreams(self.admin_port, group)

    def beat_of(self, program: str) -> dict:
        response = self.get("discovery", "/services", headers=self.admin_headers)
        assert response.status_code == 200, response.text
        port = int(self.address(program).rpartition(":")[2])
        return next(row for row in response.json()["data"] if row["port"] == port)


@pytest.fixture(scope="module")
@starts_process
def started(tmp_path_factory):
    script = StackScript(tmp_path_factory.mktemp("stack-script"))
    yield script
    if script.running():
        script.interrupt()


@pytest.fixture
def stack_script(started):
    """The module's stack, started again when a test before stopped it."""
    if not started.running():
        try:
            started.start()
        except Exception:
            if started.running():
                started.interrupt()
            raise
    return started


class Clients(Readers):
    """Readers of the festivals through the gateway and, with `write`, a writer of new ones (a keyed POST
    resent once on a dropped keep-alive connection: the key makes it a replay), counting every failure."""

    def __init__(self, stack: StackScript, write: bool = False):
        super().__init__(lambda session: stack.get("api", "/festivals", session=session, headers=stack.api_headers))
        self.stack, self.created = stack, []
        if write:
            self.threads.append(threading.Thread(target=self.write))

    def write(self) -> None:
        session = keep_alive_session(methods=("GET", "POST"))
        n = 0
        while not self.stop.is_set():
            n += 1
            name = f"Größtes Sommerfestival Östliches Allgäu Nr. {n} {uuid.uuid4().hex[:6]}"
            headers = {**self.stack.admin_headers, "Idempotency-Key": uuid.uuid4().hex}
            try:
                response = self.stack.post(
                    "api", "/festivals", session=session, headers=headers, json={"festival_name": name}
                )
                if response.status_code != 201:
                    self.failures.append(("POST", response.status_code, response.text[:200]))
                else:
                    self.created.append(response.json()["data"][0]["festival_id"])
            except requests.RequestException as exc:
                self.failures.append(("POST", repr(exc)))
            time.sleep(0.2)


def wait_until(condition, seconds: float, what: str) -> float:
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if condition():
            return time.monotonic() - started
        time.sleep(0.2)
    raise AssertionError(f"not within {seconds} s: {what}")


def test_stack_runs_every_process_under_supervisord(stack_script):
    status = stack_script.ctl("status")
    for program in ("caddy", "registry", "festivals:identity", "festivals:files", "festivals:app1", "festivals:app2"):
        assert f"{program} " in status and "RUNNING" in status.split(f"{program} ")[1].splitlines()[0], status
    assert sorted(stack_script.upstreams("api")) == sorted([stack_script.address("app1"), stack_script.address("app2")])
    assert oct(stack_script.conf.stat().st_mode & 0o777) == "0o600"  # it holds the service key
    # only identity signs: an app instance asked straight for a token refuses
    email, password = (stack_script.instance / "dev-credentials").read_text().split()[:2]
    pki = stack_script.instance / "pki"
    asked = requests.post(
        f"https://{stack_script.address('app1')}/identity/token",
        json={"email": email, "password": password},
        cert=(str(pki / "gateway.pem"), str(pki / "gateway.key")),
        verify=stack_script.ca,
        timeout=30,
    )
    assert asked.status_code == 503 and "signed by the identity service alone" in asked.json()["error"], asked.text


def test_stack_kill_9_of_an_app_master_is_live_again_and_no_read_fails(stack_script):
    """The target is 15 s: 5.9-7.5 s in 5 runs on a shared 2-core machine, 10.1-19.3 s in 6 runs with two busy
    loops beside it (load average 20-29: a new master alone took 7 s to start); the test allows 45 s so a loaded
    CI machine does not fail it, and says the figure in its output (speed is the bench's to judge)."""
    master, other = stack_script.pid("festivals:app1"), stack_script.pid("festivals:app2")
    children = child_pids(master)  # its two workers and its heartbeat process
    assert len(workers_of(master)) == 2
    with Clients(stack_script) as clients:
        time.sleep(2)
        os.kill(master, signal.SIGKILL)
        killed = time.time()

        def serving_again() -> bool:
            pid = stack_script.pid("festivals:app1")
            if pid in (0, master) or len(workers_of(pid)) < 2:
                return False
            beat = stack_script.beat_of("app1")
            beat_at = calendar.timegm(time.strptime(beat["last_beat"], "%Y-%m-%dT%H:%M:%SZ"))
            return (
                beat["state"] == "live"
                and beat_at >= int(killed) + 1
                and stack_script.address("app1") in (stack_script.upstreams("api"))
            )

        took = wait_until(serving_again, 45, "app1 restarted and live in the gateway")
        # the old master's workers went with it (the kernel told them to stop: PR_SET_PDEATHSIG), having
        # finished the responses they had begun (nothing is cut), within the graceful timeout (5 s) and 2 s
        wait_until(lambda: not any(running(pid) for pid in children), 10, "the dead master's workers gone")
        time.sleep(3)
    print(f"app1 was live again {took:.1f} s after the kill -9 of its master (target 15 s)")
    assert clients.failures == [], clients.failures
    assert clients.reads[0] > 30
    assert stack_script.pid("festivals:app2") == other  # the other instance was never touched


def test_rolling_restart_replaces_the_app_instances_with_no_failed_read_or_write(stack_script):
    before = {program: stack_script.pid(f"festivals:{program}") for program in ("app1", "app2", "identity", "files")}
    with Clients(stack_script, write=True) as clients:
        time.sleep(2)
        done = stack_script.rolling_restart()
        time.sleep(2)
    assert done.returncode == 0, done.stdout + done.stderr
    for program in ("app1", "app2"):
        assert f"{program}: live again" in done.stdout
        assert stack_script.pid(f"festivals:{program}") not in (0, before[program])
    # identity and files run alone: left out (restarting one is a gap), with a message
    assert "identity left out" in done.stdout and "files left out" in done.stdout
    assert stack_script.pid("festivals:files") == before["files"]
    assert clients.failures == [], clients.failures
    assert clients.reads[0] > 30 and len(clients.created) > 5
    for festival_id in clients.created:  # every acknowledged write is there (a draft: its creator sees it)
        response = stack_script.get("api", f"/festivals/{festival_id}", headers=stack_script.admin_headers)
        assert response.status_code == 200, response.text


def test_rolling_restart_of_an_unknown_program_says_so(stack_script):
    done = stack_script.rolling_restart("app9")
    assert done.returncode == 1
    assert "not an instance of this stack: app9" in done.stderr


def test_stack_ctrl_c_stops_every_process(stack_script):
    pids = stack_script.pids()
    assert len(pids) >= 1 + 6 + 7  # supervisord, six programs, the gunicorn workers
    stack_script.interrupt()
    wait_until(lambda: not any(running(pid) for pid in pids), 30, "every process of the stack gone")
    ports = [stack_script.base + n for n in range(5)] + [stack_script.https_port, stack_script.admin_port]
    assert [port for port in ports if not nobody_listens(port)] == []
