"""Heartbeats never leave a lock held across a fork: a real gunicorn beating over mTLS (every beat a new TLS
handshake) to a TLS endpoint, while its worker is killed and forked again hundreds of times under CPU load; each
new worker must answer a request that hashes. With the beats in a thread of the master, a worker forked while
that thread held an OpenSSL lock blocked forever in its first sha256."""

from __future__ import annotations

import http.server
import os
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest
import requests

from common import pki
from common.heartbeat import UNANSWERED_CHECKS, HeartbeatSender
from common.tls import TlsFiles
from tests.gateway.conftest import Webhook
from tests.processes import Gunicorn, child_pids

pytestmark = pytest.mark.processes  # every test starts a process itself

FORKS = 300
ANSWER_S = 20  # a new worker that does not answer within this is hung
BUDGET_S = 420  # the whole fork loop, on a loaded CI machine


@pytest.fixture
def certificates(tmp_path) -> dict[str, TlsFiles]:
    folder = tmp_path / "pki"
    pki.init_ca(folder)
    files = {}
    for name in ("gateway", "app"):
        cert, key = pki.issue(folder, name, dns=["localhost"], ips=["127.0.0.1"])
        files[name] = TlsFiles(str(cert), str(key), str(folder / "ca.pem"))
    return files


@pytest.fixture
def endpoint(certificates):
    """A registry stand-in on an mTLS port: records every beat (in `alerts`), answers 202 and closes the
    connection (so the sender makes a TLS handshake for each beat)."""
    beats = Webhook(status=202, tls=certificates["gateway"])
    yield beats
    beats.server.shutdown()


@pytest.fixture
def cpu_load():
    """Another process keeping a core busy: a thread holding a lock gets preempted as on a loaded machine."""
    burner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    yield
    burner.kill()
    burner.wait(timeout=10)


def beating_gunicorn(tmp_path, certificates, endpoint, workers: int = 1) -> Gunicorn:
    app = certificates["app"]
    env = {
        "FESTIVALS_INSTANCE_PATH": str(tmp_path / "instance"),
        "FESTIVALS_DISCOVERY_URL": endpoint.base,
        "FESTIVALS_SERVICE_KEY": "fork-test-key",
        "FESTIVALS_HEARTBEAT_S": "0.05",  # beats (and their handshakes) all the time
        "FESTIVALS_TLS_CERT": app.cert,
        "FESTIVALS_TLS_KEY": app.key,
        "FESTIVALS_TLS_CA": app.ca,
    }
    # threads=1: gunicorn's sync worker closes each connection, so every ready check is a handshake too
    return Gunicorn("tests.fork_app:app", tmp_path, env, workers=workers, threads=1, name="forking", tls=app)


def is_heartbeat(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
            return b"common.heartbeat" in cmdline.read()
    except OSError:  # gone meanwhile
        return False


def running(pid: int) -> bool:
    """Alive and not a zombie (an orphan may wait a while to be reaped)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def kill_and_wait(pids: list[int], server: Gunicorn) -> None:
    for pid in pids:
        os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while set(pids) & set(child_pids(server.process.pid)) and time.monotonic() < deadline:
        time.sleep(0.005)


def worker_of(server: Gunicorn, session: requests.Session) -> int:
    response = session.get(f"{server.url}/hash", timeout=ANSWER_S)
    assert response.status_code == 200
    pid, digest = response.text.split()
    assert len(digest) == 64
    return int(pid)


def test_workers_forked_while_beating_over_tls_never_hang(tmp_path, certificates, endpoint, cpu_load):
    server = beating_gunicorn(tmp_path, certificates, endpoint)
    app = certificates["app"]
    session = requests.Session()
    session.verify, session.cert, session.trust_env = app.ca, (app.cert, app.key), False
    forks, hangs = 0, []
    started = time.monotonic()
    try:
        endpoint_deadline = time.monotonic() + 30
        while not endpoint.alerts and time.monotonic() < endpoint_deadline:
            time.sleep(0.1)
        assert endpoint.alerts, f"no heartbeat arrived:\n{server.log()[-3000:]}"
        worker = worker_of(server, session)
        while forks < FORKS and time.monotonic() - started < BUDGET_S and len(hangs) < 3:
            if worker is not None:
                kill_and_wait([worker], server)
            forks += 1
            try:
                new = worker_of(server, session)
            except requests.Timeout:  # hung: count it, kill it, go on with the next new worker
                hung = [pid for pid in child_pids(server.process.pid) if not is_heartbeat(pid)]
                hangs.append(hung)
                kill_and_wait(hung, server)
                worker = None
                continue
            assert new != worker
            worker = new
        beats_during = len(endpoint.alerts)
    finally:
        server.stop()
    took = time.monotonic() - started
    print(f"{forks} forks in {took:.0f}s, {len(hangs)} hung, {beats_during} beats meanwhile")
    assert hangs == [], f"{len(hangs)} of {forks} new workers hung (pids {hangs})"
    assert forks >= 200, f"only {forks} forks in {took:.0f}s"
    assert beats_during > forks / 10  # the beats really ran all along
    assert endpoint.alerts[-1]["available"] is False  # the last beat on the clean stop


def test_heartbeat_process_dies_with_its_master(tmp_path, certificates, endpoint):
    """kill -9 of the master alone: its heartbeat process notices, says "not available" and exits."""
    server = beating_gunicorn(tmp_path, certificates, endpoint)
    try:
        deadline = time.monotonic() + 30
        while not endpoint.alerts and time.monotonic() < deadline:
            time.sleep(0.1)
        [beats] = [pid for pid in child_pids(server.process.pid) if is_heartbeat(pid)]
        os.kill(server.process.pid, signal.SIGKILL)
        server.process.wait(timeout=10)
        deadline = time.monotonic() + 15
        while running(beats) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not running(beats), "the heartbeat process outlived its master"
        assert endpoint.alerts[-1]["available"] is False
    finally:
        server.stop()


def test_workers_of_a_killed_master_finish_what_they_began_and_a_hung_one_ends(tmp_path):
    """kill -9 of the master: a response a worker had begun is finished (nothing cut), and a worker with a thread
    stuck for good is ended soon after the graceful timeout (3 s here), so none outlives its master holding the
    port."""
    server = Gunicorn("tests.fork_app:app", tmp_path, {}, workers=2, threads=2, name="orphaned")
    answers: dict[str, object] = {}

    def get(path: str) -> None:
        try:
            answers[path] = requests.get(f"{server.url}{path}", timeout=30)
        except requests.RequestException as exc:
            answers[path] = exc

    try:
        deadline = time.monotonic() + 30  # the second worker may still be booting after the first answered
        while len(workers := child_pids(server.process.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(workers) == 2
        clients = [threading.Thread(target=get, args=(path,)) for path in ("/slow", "/hang")]
        for client in clients:
            client.start()
        time.sleep(0.5)  # both requests are in the workers' hands
        os.kill(server.process.pid, signal.SIGKILL)
        killed = time.monotonic()
        server.process.wait(timeout=10)
        while any(running(pid) for pid in workers) and time.monotonic() - killed < 15:
            time.sleep(0.1)
        gone = time.monotonic() - killed
        for client in clients:
            client.join(timeout=30)
    finally:
        server.stop()
    slow = answers["/slow"]
    assert isinstance(slow, requests.Response) and slow.status_code == 200, slow
    assert len(slow.text.split()) == 2  # the whole body: pid and hash
    assert not any(running(pid) for pid in workers), f"a worker outlived its master by {gone:.1f} s"
    assert gone < 3 + 2 + 3  # the graceful timeout, the alarm's 2 s, and slack for a loaded machine
    with socket.socket() as probe:  # the port is free for the restarted master
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(("127.0.0.1", server.port))


def test_a_slow_ready_check_keeps_the_instance_a_unanswered_one_ends_it(tmp_path):
    """A /ready that answers 503 makes the next beat say "not available" at once; one that does not answer in time
    (a machine loaded far over its cores) keeps the last answer, until UNANSWERED_CHECKS in a row have not."""
    answers = ["200", "stall", "stall", "stall", "200", "503"]

    class Ready(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            answer = answers.pop(0)
            if answer == "stall":
                time.sleep(1.5)  # past the check's 1 s
                return
            self.send_response(int(answer))
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Ready)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        ready = f"http://127.0.0.1:{server.server_port}/ready?scope=reads"
        sender = HeartbeatSender("http://127.0.0.1:9", "key", "app", "127.0.0.1", 5000, 1, ready_url=ready)
        seen = [sender.ready() for _ in range(6)]
    finally:
        server.shutdown()
    assert UNANSWERED_CHECKS == 3
    assert seen == [True, True, True, False, True, False]
