"""Heartbeats to the gateway's discovery registry: every FESTIVALS_HEARTBEAT_S seconds (default 5) a POST
`{"service","host","port","available"}` with the Service-Key to FESTIVALS_DISCOVERY_URL + `/loversear`.
`available` is whether the instance's own `/ready?scope=reads` answers 200. On a clean stop a last beat says
`"available": false`, so the gateway stops sending traffic at once instead of after the stale timeout.

Started once per gunicorn master (see common/gunicorn_hooks.py), not per worker: one instance, one beat."""

from __future__ import annotations

import logging
import os
import threading
import time
from urllib.parse import urlsplit, urlunsplit

import requests

from common.tls import TlsFiles

log = logging.getLogger("festivals.heartbeat")


def loopback_target(url: str) -> tuple[str, dict]:
    """`*.localhost` names are loopback (RFC 6761), but Python's resolver does not know that: connect to
    127.0.0.1 and send the name as the Host header."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if host == "localhost" or host.endswith(".localhost"):
        netloc = "127.0.0.1" + (f":{parts.port}" if parts.port else "")
        return urlunsplit(parts._replace(netloc=netloc)), {"Host": parts.netloc}
    return url, {}


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
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, name="heartbeat", daemon=True)

    def ready(self) -> bool:
        if not self.ready_url:
            return True
        try:
            return self.session.get(self.ready_url, timeout=max(1.0, self.interval / 2)).status_code == 200
        except requests.RequestException:
            return False

    def send(self, available: bool) -> bool:
        try:
            response = self.session.post(
                self.url,
                json={**self.body, "available": available},
                headers=self.headers,
                timeout=max(2.0, self.interval),
            )
        except requests.RequestException as exc:
            log.warning("heartbeat to %s failed: %s", self.url, exc)
            return False
        if response.status_code != 202:
            log.warning("heartbeat to %s refused: %s %s", self.url, response.status_code, response.text[:200])
        return response.status_code == 202

    def _run(self) -> None:
        # the master is ready before its workers: the first beat waits (30 s at most) until they answer
        deadline = time.monotonic() + 30
        while not self.ready() and time.monotonic() < deadline and not self.stopped.wait(0.2):
            pass
        while not self.stopped.is_set():
            self.send(self.ready())
            self.stopped.wait(self.interval)

    def start(self) -> HeartbeatSender:
        self.thread.start()
        return self

    def stop(self) -> None:
        """A last beat saying "not available": the gateway takes the instance out at once."""
        self.stopped.set()
        self.thread.join(timeout=self.interval + 1)
        self.send(False)


def from_env(service: str, port: int) -> HeartbeatSender | None:
    """A sender configured by FESTIVALS_DISCOVERY_URL and FESTIVALS_SERVICE_KEY; None when either is unset."""
    url, key = os.environ.get("FESTIVALS_DISCOVERY_URL", ""), os.environ.get("FESTIVALS_SERVICE_KEY", "")
    if not url or not key:
        return None
    host = os.environ.get("FESTIVALS_ADVERTISE_HOST", "127.0.0.1")
    interval = float(os.environ.get("FESTIVALS_HEARTBEAT_S", "") or 5)
    local = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    tls = TlsFiles.from_env()
    scheme = "https" if tls.enabled else "http"  # the instance serves TLS itself when it has a certificate
    return HeartbeatSender(
        url,
        key,
        os.environ.get("FESTIVALS_SERVICE_NAME", "") or service,
        host,
        port,
        interval,
        ready_url=f"{scheme}://{local}:{port}/ready?scope=reads",  # as the gateway's health checks
        tls=tls,
    )
