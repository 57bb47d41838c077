"""The whole system behind a real Caddy, as real processes: Caddy, the discovery registry (gunicorn), the
identity service, the file server and two app instances (gunicorn, heartbeats from their masters), on a
database of their own (SQLite, or PostgreSQL when FESTIVALS_DATABASE_URL says so). Started once per module;
heartbeats every second so that staleness shows in seconds."""

from __future__ import annotations

import io
import os
import shutil
import signal
import ssl
import subprocess
import threading
import time
import uuid
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import orjson
import pytest
import requests
from PIL import Image
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from app import ROOT
from app.db import close_database, open_database
from app.migrations import migrate
from app.permissions import SYSTEM
from app.services import api_keys
from common import pki
from common.heartbeat import ByName
from common.launch import gunicorn_command, process_env
from common.tls import TlsFiles
from tests.conftest import CHEAP_ARGON2, USE_POSTGRES, _worker, create_postgres_database
from tests.processes import factory_for, free_port, starts_process
from tests.videos import TRAILER_METADATA, make_video

DOMAIN = "festivals.localhost"
BEAT_S = 1.0
GRACE_S = 1.0
STALE_AFTER_S = 2 * BEAT_S + GRACE_S
FORGET_S = 45.0  # stale instances are forgotten after this (600 s by default); longer than a restart takes
MAX_INSTANCES = 40  # per service (64 by default)
CADDY = shutil.which("caddy") or "/usr/bin/caddy"


class Webhook:
    """A test server receiving JSON POSTs (the registry's alerts; heartbeats with `status` 202 and `tls`, an
    mTLS port then). Each answer closes its connection."""

    def __init__(self, status: int = 204, tls: TlsFiles | None = None):
        self.alerts: list[dict] = []
        received = self.alerts

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                received.append(orjson.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        scheme = "http"
        if tls is not None:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=tls.ca)
            context.load_cert_chain(tls.cert, tls.key)
            context.verify_mode = ssl.CERT_REQUIRED
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
            scheme = "https"
        self.base = f"{scheme}://127.0.0.1:{self.server.server_address[1]}"
        self.url = f"{self.base}/alerts"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def of(self, port: int) -> list[str]:
        return [alert["alert"] for alert in self.alerts if alert.get("port") == port]


class Stack:
    """Everything over TLS as scripts/stack runs it: HTTPS for visitors (Caddy's internal issuer under the
    stack's own CA; plain HTTP on `port` redirects), mTLS between Caddy, the registry and every instance."""

    def __init__(self, folder: Path, database_url: str, webhook: Webhook, **settings: str):
        self.folder = folder
        self.database_url = database_url
        self.instance = folder / "instance"
        self.port, self.admin_port, self.registry_port = free_port(), free_port(), free_port()
        self.https_port = free_port()
        self.pki = make_pki(self.instance / "pki")
        self.ca = str(self.pki / "ca.pem")
        self.ports = {"app1": free_port(), "app2": free_port(), "identity": free_port(), "files": free_port()}
        self.hosts: dict[str, str] = {}  # instance -> the address it listens on (127.0.0.1 unless said)
        self.processes: dict[str, subprocess.Popen] = {}
        self.stopped: set[str] = set()  # stopped on purpose: not a failure when they are gone
        self.logs: dict[str, Path] = {}
        # this process's environment minus its FESTIVALS_* is added in start() (common.launch.process_env): the
        # registry's state in memory, no identity URL, public TLS auto, whatever the suite's environment says
        self.env = {
            **{f"FESTIVALS_{k}": str(v) for k, v in CHEAP_ARGON2.items()},
            "FESTIVALS_DATABASE_URL": database_url,
            "FESTIVALS_INSTANCE_PATH": str(self.instance),
            "FESTIVALS_DOMAIN": DOMAIN,
            "FESTIVALS_GATEWAY_PORT": str(self.port),
            "FESTIVALS_GATEWAY_ADMIN": f"127.0.0.1:{self.admin_port}",
            "FESTIVALS_REGISTRY_ADDRESS": f"127.0.0.1:{self.registry_port}",
            "FESTIVALS_HEARTBEAT_S": str(BEAT_S),
            "FESTIVALS_HEARTBEAT_GRACE_S": str(GRACE_S),
            "FESTIVALS_REGISTRY_FORGET_S": str(FORGET_S),
            "FESTIVALS_REGISTRY_MAX_INSTANCES": str(MAX_INSTANCES),
            "FESTIVALS_ALERT_WEBHOOK": webhook.url,
            "FESTIVALS_GATEWAY_ACCESS_LOG": str(folder / "access.log"),
            "FESTIVALS_GATEWAY_HTTPS_PORT": str(self.https_port),
            "FESTIVALS_TLS_CA": self.ca,
            # heartbeats straight to the registry's mTLS port
            "FESTIVALS_DISCOVERY_URL": f"https://127.0.0.1:{self.registry_port}",
            "FESTIVALS_FILES_URL": f"https://files.{DOMAIN}:{self.https_port}",
            "FESTIVALS_BEHIND_PROXY": "1",
            "FESTIVALS_LOG_FORMAT": "json",  # as in production: every line parsed by the tests
            "XDG_DATA_HOME": str(folder / "caddy"),
            "XDG_CONFIG_HOME": str(folder / "caddy"),
            **settings,  # e.g. the media store's
        }

    def tls(self, name: str, folder: Path | None = None) -> tuple[TlsFiles, dict]:
        """The files and settings of a process serving mTLS with the certificate `name` (of the stack's pki
        folder, or of `folder`, a host's own copies with its ca.pem)."""
        folder = folder or self.pki
        files = TlsFiles(str(folder / f"{name}.pem"), str(folder / f"{name}.key"), str(folder / "ca.pem"))
        return files, {
            "FESTIVALS_TLS_CERT": files.cert,
            "FESTIVALS_TLS_KEY": files.key,
            "FESTIVALS_TLS_CA": files.ca,
        }

    # --- processes ---------------------------------------------------------------------------------------
    def start(self, name: str, argv: list[str], **env) -> None:
        self.stopped.discard(name)
        self.logs[name] = self.folder / f"{name}.log"
        log = open(self.logs[name], "a")  # noqa: SIM115 - the process owns it
        self.processes[name] = subprocess.Popen(
            argv,
            cwd=ROOT,
            env=process_env({**self.env, **env}),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()

    def start_instance(
        self, name: str, host: str = "127.0.0.1", cert: str = "", pki: Path | None = None, **env
    ) -> None:
        """gunicorn of the instance `name` ("app1", "identity", ... or "<that>-<suffix>") on `host`, serving
        mTLS with the certificate `cert` (default: the name without its number or suffix)."""
        kind = name.split("-")[0].rstrip("12")
        entry = kind if kind in ("identity", "files") else "app"
        tls, tls_env = self.tls(cert or kind, pki)
        self.hosts[name] = host
        self.start(
            name,
            gunicorn_command(entry, f"{host}:{self.ports[name]}", graceful_timeout=3, tls=tls),
            FESTIVALS_SERVICE_KEY=self.seeded["instance_keys"][name],
            # the file server asks identity whether a login is live, as scripts/stack runs it
            **{"FESTIVALS_IDENTITY_URL": self.identity_url() if name == "files" else "", **tls_env, **env},
        )

    def identity_url(self) -> str:
        return f"https://127.0.0.1:{self.ports['identity']}/identity"

    def start_gateway(self, **registry_env) -> None:
        """Caddy (its admin API only, until the registry loads the routes) and the registry."""
        (self.folder / "caddy").mkdir()
        boot = self.folder / "caddy" / "boot.json"
        boot.write_bytes(
            orjson.dumps({"admin": {"listen": f"127.0.0.1:{self.admin_port}", "config": {"persist": False}}})
        )
        self.start("caddy", [CADDY, "run", "--config", str(boot)])
        tls, env = self.tls("gateway")  # the registry and Caddy (its client certificate) are the gateway
        self.start(
            "registry",
            gunicorn_command("registry", f"127.0.0.1:{self.registry_port}", workers=1, threads=8, tls=tls),
            **{**env, **registry_env},
        )

    def kill9(self, name: str) -> None:
        """kill -9 of the instance: its master and its workers, at once."""
        self.stopped.add(name)
        os.killpg(self.processes[name].pid, signal.SIGKILL)
        self.processes[name].wait(timeout=10)

    def terminate(self, name: str) -> None:
        process = self.processes[name]
        self.stopped.add(name)
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)

    def stop(self) -> None:
        for name in reversed(list(self.processes)):
            self.terminate(name)

    def log(self, name: str) -> str:
        return self.logs[name].read_text(errors="replace")

    # --- HTTP -----------------------------------------------------------------------------------------------
    def url(self, path: str) -> str:
        return f"https://127.0.0.1:{self.https_port}{path}"

    def get(self, host: str, path: str, session=None, **kwargs) -> requests.Response:
        """A GET through the gateway, by `session`, or else on a new connection that is sent again when nothing
        answered it because the gateway was loading a config just then (the registry loads one whenever upstreams
        come or go), as a client retries it: Caddy resets the connections still waiting on its old listener, and
        answers a TLS handshake with an internal error while the new config's certificates are not loaded yet
        (caddyserver/caddy#5589). Refused connections and every answer are returned as they are."""
        headers = {"Host": f"{host}.{DOMAIN}" if host else DOMAIN, **kwargs.pop("headers", {})}
        timeout = kwargs.pop("timeout", 10)
        if session is not None:
            return session.get(self.url(path), headers=headers, timeout=timeout, **kwargs)
        with keep_alive_session(handshakes=2) as client:
            return client.get(self.url(path), headers=headers, timeout=timeout, **kwargs)

    def post(self, host: str, path: str, **kwargs) -> requests.Response:
        headers = {"Host": f"{host}.{DOMAIN}", **kwargs.pop("headers", {})}
        return requests.post(self.url(path), headers=headers, timeout=10, **kwargs)

    def beat(self, body, key: str | None = "", cert: str = "app", headers=None) -> requests.Response:
        """A heartbeat straight to the registry's mTLS port with the certificate `cert` (the stack's service
        key unless `key` says otherwise; None: no Service-Key header)."""
        key = self.service_key if key == "" else key
        return requests.post(
            f"https://127.0.0.1:{self.registry_port}/loversear",
            json=body,
            headers={**({} if key is None else {"Service-Key": key}), **(headers or {})},
            cert=(str(self.pki / f"{cert}.pem"), str(self.pki / f"{cert}.key")),
            verify=self.ca,
            timeout=10,
        )

    def beat_through_gateway(self, body, key: str, cert: str | None = "app", headers=None) -> requests.Response:
        """A heartbeat to discovery.<domain>/loversear as a service resolving that name sends it (the name as
        SNI), with the certificate `cert` (None: without one)."""
        session = requests.Session()
        session.mount("https://", ByName(f"discovery.{DOMAIN}"))
        return session.post(
            self.url("/loversear"),
            json=body,
            headers={"Host": f"discovery.{DOMAIN}", "Service-Key": key, **(headers or {})},
            cert=None if cert is None else (str(self.pki / f"{cert}.pem"), str(self.pki / f"{cert}.key")),
            verify=self.ca,
            timeout=30,
        )

    def upstreams(self, group: str) -> list[str]:
        return caddy_upstreams(self.admin_port, group)

    def address(self, name: str) -> str:
        return f"{self.hosts.get(name, '127.0.0.1')}:{self.ports[name]}"

    def services(self) -> list[dict]:
        response = self.get("discovery", "/services", headers=self.admin_headers)
        assert response.status_code == 200, response.text
        return response.json()["data"]

    def wait_until(self, condition, seconds: float, what: str) -> float:
        """Seconds it took until condition() held; fails with `what` when it did not within `seconds`."""
        started = time.monotonic()
        while time.monotonic() - started < seconds:
            for name, process in self.processes.items():
                if process.poll() is not None and name not in self.stopped:
                    raise RuntimeError(f"{name} exited with {process.returncode}:\n{self.log(name)[-3000:]}")
            if condition():
                return time.monotonic() - started
            time.sleep(0.1)
        raise AssertionError(f"not within {seconds}s: {what}")


def caddy_upstreams(admin_port: int, group: str) -> list[str]:
    """What Caddy balances the group over now (nothing while Caddy or its config is not there)."""
    try:
        response = requests.get(f"http://127.0.0.1:{admin_port}/id/upstreams-{group}/upstreams", timeout=5)
    except requests.ConnectionError:
        return []
    return sorted(upstream["dial"] for upstream in response.json() or []) if response.ok else []


def keep_alive_session(methods=("GET",), handshakes: int = 0) -> requests.Session:
    """A keep-alive client as browsers and the mobile apps are: a request whose reused idle connection the
    server closed meanwhile (Caddy closes idle connections when its upstreams change) is sent again once
    (RFC 9112 9.3.1; for a POST only with an Idempotency-Key, which makes the second one a replay). With
    `handshakes`, also after up to that many failed TLS handshakes (nothing was sent), the second half a second
    after the first. Any answer is returned as it is: a status is never retried."""
    session = requests.Session()
    retry = Retry(
        total=1 + handshakes,
        connect=0,
        read=1,
        status=0,
        other=handshakes,
        backoff_factor=0.25,  # from the second resend on
        allowed_methods=list(methods),
        raise_on_status=False,
    )
    session.mount("https://", HTTPAdapter(max_retries=retry))
    return session


class Readers:
    """Threads reading through the gateway until the block ends (`read(session)` sends one GET), counting
    every failure: an answer that is not 200, an exception after keep_alive_session's one resend."""

    def __init__(self, read, threads: int = 2):
        self.read, self.stop = read, threading.Event()
        self.failures: list = []
        self.reads = [0]
        self.threads = [threading.Thread(target=self.read_loop) for _ in range(threads)]

    def read_loop(self) -> None:
        session = keep_alive_session()
        while not self.stop.is_set():
            try:
                response = self.read(session)
                if response.status_code != 200:
                    self.failures.append(("GET", response.status_code, response.text[:200]))
            except requests.RequestException as exc:
                self.failures.append(("GET", repr(exc)))
            self.reads[0] += 1

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=60)


def marker() -> str:
    return f"gw-{uuid.uuid4().hex}"


def lines_with(log: str, request_id: str) -> list[str]:
    return [line for line in log.splitlines() if request_id in line]


def creator_upload(stack: Stack, kind: str, name: str, data: bytes) -> requests.Response:
    """An upload to the file server through the gateway with the seeded creator's token."""
    token = stack.post(
        "identity", "/token", json={"email": stack.seeded["creator_email"], "password": "correct horse battery"}
    ).json()["access_token"]
    return requests.post(
        stack.url(f"/{kind}/upload"),
        files={kind.rstrip("s"): (name, data)},
        headers={"Host": f"files.{DOMAIN}", "Authorization": f"Bearer {token}"},
        timeout=60,
    )


def fetch_file(stack: Stack, path: str, **headers):
    """(answer, whether the file server saw the request): Caddy answers stored files by itself."""
    request_id = marker()
    response = stack.get("files", path, headers={"X-Request-ID": request_id, **headers})
    time.sleep(0.2)
    return response, bool(lines_with(stack.log("files"), request_id))


def assert_stored_images_come_from_the_gateway(stack: Stack) -> None:
    """Originals and thumbnails already made come from the media folder (Caddy reads it) or the bucket (Caddy
    proxies it) with the file server's headers, without reaching it; a thumbnail not made yet is made by it."""
    picture = io.BytesIO()
    Image.new("RGB", (900, 600), (200, 40, 90)).save(picture, "JPEG")
    uploaded = creator_upload(stack, "images", "a.jpg", picture.getvalue())
    assert uploaded.status_code == 201, uploaded.text
    [stored] = uploaded.json()["data"]
    assert stored["image_ref"].startswith(f"https://files.{DOMAIN}:{stack.https_port}/images/")
    path = f"/images/{stored['image_hash']}"

    def fetch(query="", **headers):
        return fetch_file(stack, path + query, **headers)

    original, reached = fetch()
    assert (original.status_code, original.headers["Content-Type"], reached) == (200, "image/jpeg", False)
    assert "immutable" in original.headers["Cache-Control"] and original.headers["ETag"]
    assert original.headers["X-Content-Type-Options"] == "nosniff"
    assert not [name for name in original.headers if name.lower().startswith("x-amz")]
    assert fetch(**{"If-None-Match": original.headers["ETag"]})[0].status_code == 304
    part = fetch(Range="bytes=0-9")[0]
    assert (part.status_code, part.content) == (206, original.content[:10])

    made, reached = fetch("?w=320&format=webp")
    assert (made.status_code, made.headers["Content-Type"], reached) == (200, "image/webp", True)
    again, reached = fetch("?w=320&format=webp")
    assert (again.content, reached) == (made.content, False)  # the second time from the store, by Caddy
    assert again.headers["Vary"] == "Accept" and "immutable" in again.headers["Cache-Control"]
    assert fetch("?w=320&format=webp", **{"If-None-Match": again.headers["ETag"]})[0].status_code == 304
    nearest, _ = fetch("?width=300&format=webp")  # any size from 30 to 3000: the nearest allowed one
    assert nearest.status_code == 200 and nearest.content == made.content
    assert fetch("?w=20")[0].status_code == 400
    missing = stack.get("files", f"/images/{'0' * 64}?w=320&format=webp")
    assert (missing.status_code, missing.json()) == (404, {"error": "not found"})


def assert_stored_videos_come_from_the_gateway(stack: Stack, folder: Path) -> None:
    """A stored video comes from the store by Caddy (Range, ETag/304), its poster from the file server."""
    trailer = make_video(folder / "trailer.mp4", metadata=TRAILER_METADATA)
    uploaded = creator_upload(stack, "videos", "trailer.mp4", trailer.read_bytes())
    assert uploaded.status_code == 201, uploaded.text
    [stored] = uploaded.json()["data"]
    path = f"/videos/{stored['video_hash']}"

    whole, reached = fetch_file(stack, path)
    assert (whole.status_code, whole.headers["Content-Type"], reached) == (200, "video/mp4", False)
    assert "immutable" in whole.headers["Cache-Control"] and whole.headers["ETag"]
    assert fetch_file(stack, path, **{"If-None-Match": whole.headers["ETag"]})[0].status_code == 304
    size = len(whole.content)
    for start, end in ((0, 1023), (size // 2, size // 2 + 999), (size - 100, size - 1)):
        part, reached = fetch_file(stack, path, Range=f"bytes={start}-{end}")
        assert (part.status_code, part.content, reached) == (206, whole.content[start : end + 1], False)
    poster, reached = fetch_file(stack, path + "/poster?w=320&format=jpeg")
    assert (poster.status_code, poster.headers["Content-Type"], reached) == (200, "image/jpeg", True)


# --- failures ---------------------------------------------------------------------------------------------


def seed(database_url: str, instance: Path) -> dict:
    """An admin, a creator, an API key, the instances' service key, a festival with two events."""
    with factory_for(instance, database_url) as factory:
        admin, creator = factory.user("admin", email="admin@gw.test"), factory.user("creator", email="c@gw.test")
        festival = factory.create("festival", creator, name="Gateway Fest")
        for n in (1, 2):
            event = factory.create("event", creator, name=f"Show {n}")
            factory.link("festival", festival["festival_id"], "events", event["event_id"], creator)
        service_key, _ = api_keys.create_key("gateway tests", "service", SYSTEM)
        # a key per instance, as scripts/stack makes them (beats are limited per key), and one for floods
        instance_keys = {
            name: api_keys.create_key(f"gateway tests {name}", "service", SYSTEM)[0]
            for name in ("app1", "app2", "identity", "files", "flood", "through-gateway")
        }
        return {
            "instance_keys": instance_keys,
            "admin_token": factory.token(admin),
            "api_key": factory.api_key_headers()["Api-Key"],
            "service_key": service_key,
            "festival_id": festival["festival_id"],
            "creator_email": creator.email,
            "admin_email": admin.email,
        }


@pytest.fixture(scope="module")
def webhook():
    hook = Webhook()
    yield hook
    hook.server.shutdown()


def new_gateway_database(tmp_path_factory, suffix: str = "") -> str:
    """A migrated database for one stack's processes alone (not emptied between tests)."""
    if USE_POSTGRES:
        from urllib.parse import urlparse

        from tests.conftest import BASE_URL

        base = urlparse(BASE_URL).path.lstrip("/") or "festivals_test"
        url = create_postgres_database(f"{base}_gw{suffix}_{_worker()}")
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('gateway-db') / 'festivals.sqlite3'}"
    database = open_database(url)
    migrate(database)
    close_database(database)
    return url


@pytest.fixture(scope="module")
def gateway_database(tmp_path_factory) -> str:
    """A database for this module's processes alone (not emptied between tests)."""
    return new_gateway_database(tmp_path_factory)


def make_pki(folder: Path) -> Path:
    """The CA and a certificate per process, as scripts/stack makes them on first start."""
    pki.init_ca(folder)
    for name in ("gateway", "app", "identity", "files"):
        pki.issue(folder, name, dns=["localhost"], ips=["127.0.0.1"])
    return folder


@contextmanager
def running(stack: Stack):
    """While the stack runs: requests (in this process) trusts the stack's CA (the gateway's certificates chain
    to it); a failure prints every process's log; every process is stopped after."""
    trusted = os.environ.get("REQUESTS_CA_BUNDLE")
    os.environ["REQUESTS_CA_BUNDLE"] = stack.ca
    try:
        yield stack
    except Exception:
        for name in stack.logs:
            print(f"--- {name} ---\n{stack.log(name)[-4000:]}")
        raise
    finally:
        stack.stop()
        if trusted is None:
            os.environ.pop("REQUESTS_CA_BUNDLE", None)
        else:
            os.environ["REQUESTS_CA_BUNDLE"] = trusted


@contextmanager
def started_stack(folder: Path, database_url: str, webhook: Webhook, **settings: str):
    """A seeded Stack with every process live in Caddy (`settings`: more FESTIVALS_* for all of them)."""
    stack = Stack(folder, database_url, webhook, **settings)
    seeded = seed(database_url, stack.instance)
    stack.service_key = seeded["service_key"]
    stack.seeded = seeded
    stack.admin_headers = {"Authorization": f"Bearer {seeded['admin_token']}"}
    stack.api_headers = {"Api-Key": seeded["api_key"]}
    with running(stack):
        stack.start_gateway(FESTIVALS_IDENTITY_URL=stack.identity_url())
        for name in stack.ports:
            stack.start_instance(name)
        stack.wait_until(
            lambda: (
                stack.upstreams("api") == sorted([stack.address("app1"), stack.address("app2")])
                and stack.upstreams("identity") == [stack.address("identity")]
                and stack.upstreams("files") == [stack.address("files")]
            ),
            60,
            "every instance in Caddy's upstreams",
        )
        yield stack


@pytest.fixture(scope="module")
@starts_process
def stack(tmp_path_factory, gateway_database, webhook):
    with started_stack(tmp_path_factory.mktemp("stack"), gateway_database, webhook) as started:
        yield started
