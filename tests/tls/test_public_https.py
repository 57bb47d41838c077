"""The gateway's public side: which issuer signs the visitors' certificates, HSTS on real domains only, and a
real Caddy serving a real domain's name with the internal issuer under our CA (the routing suite in
tests/gateway runs everything else over HTTPS)."""

from __future__ import annotations

import http.client
import os
import shutil
import socket
import ssl
import subprocess
import time

import orjson
import pytest
import requests

from common.tls import TlsFiles
from gateway.caddy import CaddyAdmin, build_config
from gateway.settings import Settings, is_local_name, public_tls
from tests.processes import free_port, starts_process

CADDY = shutil.which("caddy") or "/usr/bin/caddy"


def test_local_names_get_the_internal_issuer_and_real_domains_acme():
    assert [
        public_tls("auto", d) for d in ("festivals.localhost", "fest.test", "10.0.0.5", "festivals.example.org")
    ] == ["internal", "internal", "internal", "acme"]
    assert public_tls("off", "festivals.example.org") == "off"
    with pytest.raises(ValueError, match="FESTIVALS_PUBLIC_TLS"):
        public_tls("letsencrypt", "festivals.example.org")
    assert is_local_name("localhost") and not is_local_name("localhost.example.org")


def test_acme_config_for_a_real_domain():
    settings = Settings(
        domain="festivals.example.org", port=80, https_port=443, public_tls="acme", acme_email="ops@example.org"
    )
    config = build_config(settings)
    [policy] = config["apps"]["tls"]["automation"]["policies"]
    assert policy["issuers"] == [{"module": "acme", "email": "ops@example.org"}]
    assert "api.festivals.example.org" in policy["subjects"] and "festivals.example.org" in policy["subjects"]
    assert "pki" not in config["apps"]  # Caddy holds no key of our CA for a public domain
    assert config["apps"]["http"]["servers"]["redirect"]["listen"] == [":80"]
    [redirect] = [
        handler
        for route in config["apps"]["http"]["servers"]["redirect"]["routes"]
        for handler in route["handle"]
        if handler.get("status_code") == 308
    ]
    assert redirect["headers"]["Location"] == ["https://{http.request.host}{http.request.uri}"]


def test_off_is_plain_http_without_tls_apps():
    config = build_config(Settings(public_tls="off"))
    assert set(config["apps"]) == {"http"} and list(config["apps"]["http"]["servers"]) == ["festivals"]


def get_by_name(name: str, port: int, path: str, ca: str) -> http.client.HTTPResponse:
    """GET https://<name>:<port><path>, connected to 127.0.0.1 (the name sent as SNI and Host, verified).
    Caddy obtains its certificates just after a config load (with its own CA, it first makes the CA's keys): a
    handshake before that fails, so retry for up to 30 s (CI's loaded run once needed more than 5)."""
    deadline = time.monotonic() + 30
    while True:
        try:
            return _get_by_name(name, port, path, ca)
        except ssl.SSLError as exc:
            if "INTERNAL_ERROR" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def _get_by_name(name: str, port: int, path: str, ca: str) -> http.client.HTTPResponse:
    context = ssl.create_default_context(cafile=ca)

    class Connection(http.client.HTTPSConnection):
        def connect(self):
            raw = socket.create_connection(("127.0.0.1", port), timeout=5)
            self.sock = context.wrap_socket(raw, server_hostname=name)

    connection = Connection(name, port, context=context, timeout=5)
    connection.request("GET", path)
    response = connection.getresponse()
    response.body = response.read()
    connection.close()
    return response


@pytest.fixture
@starts_process
def caddy(certs, tmp_path):
    """A Caddy with nothing behind it: only the gateway.<domain> host answers by itself."""
    admin = f"127.0.0.1:{free_port()}"
    boot = tmp_path / "boot.json"
    boot.write_bytes(orjson.dumps({"admin": {"listen": admin, "config": {"persist": False}}}))
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path)}
    process = subprocess.Popen(
        [CADDY, "run", "--config", str(boot)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    client = CaddyAdmin(admin)
    for _ in range(100):
        try:
            requests.get(f"http://{admin}/config/", timeout=1)
            break
        except requests.ConnectionError:
            if process.poll() is not None:
                raise RuntimeError(f"caddy exited with {process.returncode}") from None
            time.sleep(0.1)
    yield admin, client, tmp_path
    process.terminate()
    process.wait(timeout=10)


def test_real_domain_gets_hsts_and_a_certificate_our_ca_signed(caddy, certs):
    admin, client, folder = caddy
    gateway = certs.files("gateway")
    settings = Settings(
        domain="festivals.example.org",
        port=free_port(),
        https_port=free_port(),
        admin=admin,
        public_tls="internal",
        tls=gateway,
        ca_key=str(certs.folder / "ca.key"),
        storage=str(folder / "data"),
    )
    client.load(build_config(settings))
    response = get_by_name("gateway.festivals.example.org", settings.https_port, "/health", certs.ca)
    assert response.status == 200
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    redirect = requests.get(
        f"http://127.0.0.1:{settings.port}/info",
        allow_redirects=False,
        timeout=5,
        headers={"Host": "gateway.festivals.example.org"},
    )
    assert redirect.status_code == 308
    assert redirect.headers["Location"] == f"https://gateway.festivals.example.org:{settings.https_port}/info"
    with pytest.raises(ssl.SSLCertVerificationError):  # another CA does not vouch for it
        get_by_name("gateway.festivals.example.org", settings.https_port, "/health", str(certs.other / "ca.pem"))
    # nothing was installed into the system's trust store
    assert not any("Caddy" in name or "FestivalsApp" in name for name in os.listdir("/usr/local/share/ca-certificates"))


def test_local_name_without_hsts_and_without_our_ca_key_uses_caddys_own_ca(caddy, certs):
    admin, client, folder = caddy
    settings = Settings(
        domain="festivals.localhost",
        port=free_port(),
        https_port=free_port(),
        admin=admin,
        public_tls="internal",
        tls=TlsFiles(),
        storage=str(folder / "data"),
    )
    client.load(build_config(settings))
    root = folder / "data" / "pki" / "authorities" / "local" / "root.crt"
    response = get_by_name("gateway.festivals.localhost", settings.https_port, "/health", str(root))
    assert response.status == 200 and "Strict-Transport-Security" not in response.headers
    # a client connecting to the loopback address without a name gets a certificate for that address (Caddy
    # issues it in the background after the load: on a busy machine a first handshake may come before it)
    deadline = time.monotonic() + 30
    while True:
        try:
            answer = requests.get(
                f"https://127.0.0.1:{settings.https_port}/health",
                verify=str(root),
                timeout=5,
                headers={"Host": "gateway.festivals.localhost"},
            )
            break
        except requests.exceptions.SSLError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
    assert answer.status_code == 200
