"""Heartbeats to the gateway's discovery registry: every FESTIVALS_HEARTBEAT_S seconds (default 5) a POST
`{"service","host","port","available"}` with the Service-Key to FESTIVALS_DISCOVERY_URL + `/loversear`.
`available` is whether the instance's own `/ready?scope=reads` answers 200. On a clean stop a last beat says
`"available": false`, so the gateway stops sending traffic at once instead of after the stale timeout.

One per gunicorn master (see common/gunicorn_hooks.py), not per worker: one instance, one beat. The beats run
in a process of their own, started by exec (`python -m common.heartbeat`), never as a thread of the master: a
thread talking TLS while the master forks workers can hold an OpenSSL lock at the fork, and the new worker then
blocks forever on its first hash. The process dies with its master (PR_SET_PDEATHSIG, and it watches its parent
pid) and sends its last beat on SIGTERM."""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from urllib.parse import urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter

from common.logs import HEALTH_PATHS
from common.settings import InstanceSettings, load
from common.tls import TlsFiles

log = logging.getLogger("festivals.heartbeat")
# /ready checks in a row that got no answer in time before a beat says "not available": an instance too busy to
# answer its own check at once (a machine loaded far over its cores) is slow, not gone, and taking it out left
# its group without a live instance. A check that answers (503: database down, draining) counts at once; Caddy's
# own health checks keep requests away from a hung instance meanwhile.
UNANSWERED_CHECKS = 3


def loopback_target(url: str) -> tuple[str, dict]:
    """`*.localhost` names are loopback (RFC 6761), but Python's resolver does not know that: connect to
    127.0.0.1 and send the name as the Host header."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if host == "localhost" or host.endswith(".localhost"):
        netloc = "127.0.0.1" + (f":{parts.port}" if parts.port else "")
        return urlunsplit(parts._replace(netloc=netloc)), {"Host": parts.netloc}
    return url, {}


class ByName(HTTPAdapter):
    """Connections that name `name` in TLS (SNI, and the certificate checked for it) whatever address the URL
    has: loopback_target's 127.0.0.1 for a *.localhost name. Caddy's discovery host asks for our client
    certificate only when it is named."""

    def __init__(self, name: str):
        self.name = name
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, server_hostname=self.name, **kwargs)


class HeartbeatSender:
    def __init__(
        self,
        discovery_url: str,
        key: str,
        service: str,
        host: str,
        port: int,
        interval: float,
        ready_url: str | None = None,
        tls: TlsFiles | None = None,
    ):
        self.url, self.headers = loopback_target(discovery_url.rstrip("/") + "/loversear")
        self.headers = {**self.headers, "Service-Key": key}
        self.body = {"service": service, "host": host, "port": port}
        self.interval, self.ready_url = interval, ready_url
        self.session = requests.Session()
        if tls is not None and tls.enabled:  # the registry and our own port speak mTLS: our certificate, our CA
            self.session.verify, self.session.cert = tls.ca, (tls.cert, tls.key)
            self.session.trust_env = False  # REQUESTS_CA_BUNDLE must not replace our CA
        if "Host" in self.headers and self.url.startswith("https:"):
            self.session.mount("https://", ByName(urlsplit(discovery_url).hostname))
        self.stopped = threading.Event()  # set by a signal handler: the loop's waits end at once
        self.last_answer: dict = {"available": False}
        self.unanswered = 0

    def ready(self) -> bool:
        return self.readiness()["available"]

    def readiness(self) -> dict:
        """What a beat tells of the instance's `/ready`: available, and the checks that failed (the registry
        alerts "database down" from them) and the certificates close to expiry."""
        if not self.ready_url:
            return {"available": True}
        try:
            response = self.session.get(self.ready_url, timeout=max(1.0, self.interval / 2))
        except requests.RequestException:
            self.unanswered += 1
            return self.last_answer if self.unanswered < UNANSWERED_CHECKS else {"available": False}
        self.unanswered = 0
        try:
            body = response.json()
        except ValueError:
            body = {}
        body = body if isinstance(body, dict) else {}
        failing = {
            name: value
            for name, value in body.items()
            if name != "status" and isinstance(value, str) and value != "ok" and len(name) <= 64
        }
        certificates = body.get("certificates") if isinstance(body.get("certificates"), dict) else {}
        expiring = [e for e in certificates.get("expiring") or [] if isinstance(e, dict) and "name" in e][:32]
        self.last_answer = {
            "available": response.status_code == 200,
            **answered(),
            **({"checks": failing} if failing else {}),
            **(
                {"expiring": [{"name": e["name"], "days_left": e.get("days_left", 0)} for e in expiring]}
                if expiring
                else {}
            ),
        }
        return self.last_answer

    def send(self, available: bool | dict) -> bool:
        """One beat: `available`, or what readiness() found."""
        state = available if isinstance(available, dict) else {"available": available}
        try:
            response = self.session.post(
                self.url,
                json={**self.body, **state},
                headers={**self.headers, "X-Request-ID": uuid.uuid4().hex},  # the registry's log lines of it
                timeout=max(2.0, self.interval),
            )
        except requests.RequestException as exc:
            log.warning("heartbeat to %s failed: %s", self.url, exc)
            return False
        if response.status_code != 202:
            log.warning("heartbeat to %s refused: %s %s", self.url, response.status_code, response.text[:200])
        return response.status_code == 202

    def run(self, parent: int) -> None:
        """Beats until stopped or the parent (the gunicorn master) is gone, then a last beat saying "not
        available": the gateway takes the instance out at once."""
        # the master is ready before its workers: the first beat waits (30 s at most) until they answer
        deadline = time.monotonic() + 30
        while not self.ready() and time.monotonic() < deadline and not self.stopped.wait(0.2):
            pass
        while not self.stopped.is_set() and os.getppid() == parent:
            try:
                self.send(self.readiness())
            except Exception:  # noqa: BLE001 - nobody restarts this process: it must outlive any one failure
                log.exception("heartbeat")
            self.stopped.wait(self.interval)
        self.send(False)


def answered() -> dict:
    """`{"answers", "errors"}`: the requests this instance's workers answered since it started and how many
    were 5xx, summed from their metric files (PROMETHEUS_MULTIPROC_DIR, common/gunicorn_hooks.py); the
    registry alerts on the share of 5xx. Health checks do not count (they would outnumber the visitors'
    requests on a quiet day). Nothing without that folder."""
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not folder or not os.path.isdir(folder):
        return {}
    from prometheus_client import CollectorRegistry, multiprocess

    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, folder)
    answers = errors = 0
    for family in registry.collect():
        if family.name != "festivals_http_requests":
            continue
        for sample in family.samples:
            if sample.name.endswith("_total") and sample.labels.get("route") not in HEALTH_PATHS:
                answers += int(sample.value)
                errors += int(sample.value) if sample.labels.get("status", "").startswith("5") else 0
    return {"answers": answers, "errors": errors}


def configured(settings: InstanceSettings) -> bool:
    """Heartbeats need FESTIVALS_DISCOVERY_URL and FESTIVALS_SERVICE_KEY."""
    return bool(settings.discovery_url and settings.service_key)


def sender_of(settings: InstanceSettings, service: str, port: int) -> HeartbeatSender | None:
    """A sender configured by FESTIVALS_DISCOVERY_URL and FESTIVALS_SERVICE_KEY; None when either is unset."""
    if not configured(settings):
        return None
    host = settings.advertise_host
    local = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    tls = TlsFiles.of(settings)
    scheme = "https" if tls.enabled else "http"  # the instance serves TLS itself when it has a certificate
    return HeartbeatSender(
        settings.discovery_url,
        settings.service_key,
        settings.service_name or service,
        host,
        port,
        settings.heartbeat_s,
        ready_url=f"{scheme}://{local}:{port}/ready?scope=reads",  # as the gateway's health checks
        tls=tls,
    )


class HeartbeatProcess:
    """The beats of this process (a gunicorn master) from a child process started by exec: no thread of ours
    in the master, so nothing of ours holds a lock when it forks a worker."""

    def __init__(self, service: str, port: int, interval: float):
        self.service, self.port, self.interval = service, port, interval
        self.process: subprocess.Popen | None = None

    def start(self) -> HeartbeatProcess:
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        self.process = subprocess.Popen(
            [sys.executable, "-m", "common.heartbeat", self.service, str(self.port), str(os.getpid())], cwd=root
        )
        return self

    def stop(self) -> None:
        """SIGTERM: the child sends its last beat ("not available") and exits; killed when it takes too long."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=max(2.0, self.interval) + 5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)


def die_with_parent(signum: int = signal.SIGTERM) -> bool:
    """`signum` to this process when its parent dies (Linux; elsewhere the loop's parent pid check does it).
    False when the kernel could not be asked."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(1, signum, 0, 0, 0) == 0  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return False


def main(argv: list[str]) -> int:
    """`python -m common.heartbeat SERVICE PORT PARENT_PID` (started by HeartbeatProcess)."""
    if len(argv) != 3:
        print("usage: python -m common.heartbeat SERVICE PORT PARENT_PID", file=sys.stderr)
        return 2
    service, port, parent = argv[0], int(argv[1]), int(argv[2])
    die_with_parent()
    if os.getppid() != parent:  # the parent died before the line above
        return 0
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    sender = sender_of(load(InstanceSettings), service, port)
    if sender is None:
        return 0
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, lambda *_: sender.stopped.set())
    sender.run(parent)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
