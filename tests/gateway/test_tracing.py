"""What operators read behind the real gateway: one request id through every hop and every log, no secret
of a URL in any log, no health-check lines, URLs with the public port, one neutral Server header."""

from __future__ import annotations

import re
import socket
import time
import uuid

import orjson
import pytest
import requests

from common.launch import gunicorn_command
from tests.gateway.conftest import DOMAIN
from tests.processes import factory_for

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def access_entries(stack) -> list[dict]:
    return [orjson.loads(line) for line in (stack.folder / "access.log").read_text().splitlines() if line.strip()]


def json_lines(log: str) -> list[dict]:
    """The JSON lines of a process's output (gunicorn's own start-up lines are plain text)."""
    return [orjson.loads(line) for line in log.splitlines() if line.startswith("{")]


def fresh_admin_token(stack) -> str:
    """A token no process has seen yet: the registry must ask identity about it (no cached answer)."""
    with factory_for(stack.instance, stack.database_url) as factory:
        from app.models import User

        return factory.token(User.get(User.email == stack.seeded["admin_email"]))


def test_request_id_from_caddy_is_in_its_log_the_apps_log_and_the_answer(stack):
    answer = stack.get("api", "/festivals", headers=stack.api_headers)
    assert answer.status_code == 200
    rid = answer.headers["X-Request-ID"]
    assert UUID.match(rid), rid  # made by Caddy: the client sent none
    stack.wait_until(lambda: any(e.get("user_id") == rid for e in access_entries(stack)), 10, "Caddy's log line")
    [entry] = [e for e in access_entries(stack) if e.get("user_id") == rid]
    assert entry["request"]["uri"] == "/festivals" and entry["status"] == 200
    app_lines = [line for line in json_lines(stack.log("app1") + stack.log("app2")) if line["request_id"] == rid]
    assert [(line["method"], line["path"], line["status"]) for line in app_lines] == [("GET", "/api/v1/festivals", 200)]


def test_clients_well_formed_request_id_is_kept_and_a_bad_one_replaced(stack):
    mine = f"client-{uuid.uuid4().hex}"
    kept = stack.get("api", "/festivals", headers={**stack.api_headers, "X-Request-ID": mine})
    assert kept.headers["X-Request-ID"] == mine
    replaced = stack.get("api", "/festivals", headers={**stack.api_headers, "X-Request-ID": "bad id <script>"})
    assert UUID.match(replaced.headers["X-Request-ID"])
    not_found = stack.get("gateway", "/nothing-here", headers={"X-Request-ID": mine + "-2"})  # Caddy answers
    assert (not_found.status_code, not_found.headers["X-Request-ID"]) == (404, mine + "-2")


def test_request_id_passes_from_the_registry_to_identity(stack):
    rid = f"trace-{uuid.uuid4().hex}"
    headers = {"Authorization": f"Bearer {fresh_admin_token(stack)}", "X-Request-ID": rid}
    listed = stack.get("discovery", "/services", headers=headers)
    assert listed.status_code == 200, listed.text
    assert listed.headers["X-Request-ID"] == rid
    registry = [line for line in json_lines(stack.log("registry")) if line["request_id"] == rid]
    assert [(line["path"], line["status"]) for line in registry] == [("/services", 200)]
    identity = [line for line in json_lines(stack.log("identity")) if line["request_id"] == rid]
    assert [(line["path"], line["status"]) for line in identity] == [("/identity/users/me", 200)]


def test_registry_logs_json_lines_with_request_ids(stack):
    lines = json_lines(stack.log("registry"))
    assert any(line["logger"] == "festivals.gateway" for line in lines)  # its own events: joined, upstreams
    assert all({"time", "level", "logger", "request_id", "message"} <= set(line) for line in lines)
    plain = [line for line in stack.log("registry").splitlines() if " festivals." in line and not line.startswith("{")]
    assert plain == []


def test_health_checks_are_not_logged(stack):
    """Caddy asks each instance's /ready each second, and each heartbeat does too: none of it is logged."""
    rid = f"logged-{uuid.uuid4().hex}"
    assert stack.get("api", "/festivals", headers={**stack.api_headers, "X-Request-ID": rid}).status_code == 200
    time.sleep(3)
    for name in ("app1", "app2", "identity", "files", "registry"):
        paths = [line.get("path") for line in json_lines(stack.log(name))]
        assert "/ready" not in paths and "/health" not in paths, name
    logged = [line for line in json_lines(stack.log("app1") + stack.log("app2")) if line["request_id"] == rid]
    assert [line["path"] for line in logged] == ["/api/v1/festivals"]  # other requests are


def test_reset_link_behind_the_gateway_carries_the_https_port(stack):
    """A client that sends the Host without its port (HTTP/1.1 allows it on any port) still gets links with
    the port the gateway listens on; so do the exports' links."""
    me = stack.get("identity", "/users/me", headers=stack.admin_headers).json()["data"][0]
    link = stack.post("identity", f"/users/{me['user_id']}/reset-link", headers=stack.admin_headers)
    assert link.status_code == 201, link.text
    assert link.json()["data"][0]["reset_url"].startswith(f"https://identity.{DOMAIN}:{stack.https_port}/reset/")
    schedule = stack.get("api", f"/festivals/{stack.seeded['festival_id']}/schedule.json", headers=stack.admin_headers)
    assert schedule.status_code == 200, schedule.text
    assert schedule.json()["schedule"]["base_url"] == f"https://api.{DOMAIN}:{stack.https_port}/"


def test_password_reset_token_is_in_no_log(stack):
    me = stack.get("identity", "/users/me", headers=stack.admin_headers).json()["data"][0]
    link = stack.post("identity", f"/users/{me['user_id']}/reset-link", headers=stack.admin_headers)
    token = link.json()["data"][0]["reset_url"].rsplit("/reset/", 1)[1]
    rid = f"reset-{uuid.uuid4().hex}"
    page = stack.get("", f"/reset/{token}", headers={"X-Request-ID": rid})
    assert page.status_code == 200 and "password" in page.text.lower()
    bad = stack.get("identity", f"/reset/{token}x?next=1", headers={"X-Request-ID": rid + "-bad"})
    assert bad.status_code in (200, 400, 404)
    stack.wait_until(lambda: any(e.get("user_id") == rid for e in access_entries(stack)), 10, "Caddy's log line")
    [entry] = [e for e in access_entries(stack) if e.get("user_id") == rid]
    assert entry["request"]["uri"] == "/reset/REDACTED"
    logs = {name: stack.log(name) for name in stack.logs} | {"access": (stack.folder / "access.log").read_text()}
    assert [name for name, text in logs.items() if token in text] == []
    assert any(line.get("path") == "/reset/REDACTED" for line in json_lines(stack.log("app1") + stack.log("app2")))


def test_one_neutral_server_header_without_versions(stack):
    answers = [
        stack.get("api", "/festivals", headers=stack.api_headers),  # from gunicorn through Caddy
        stack.get("", "/login"),
        stack.get("gateway", "/nothing-here"),  # Caddy's own
        stack.get("gateway", "/info"),
    ]
    for answer in answers:
        assert answer.raw.headers.getlist("Server") == ["FestivalsApp"], answer.url
    info = stack.get("", "/info").json()
    assert not {"python", "pillow"} & set(info)


def own_address() -> str:
    """This machine's address on its network (not loopback): where a scraper on another host would connect."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # UDP: nothing is sent, the kernel picks the outgoing address
        except OSError as exc:
            pytest.fail(f"this machine has no network address besides loopback ({exc}); the test needs one")
        address = probe.getsockname()[0]
    if address.startswith("127."):
        pytest.fail("this machine has no network address besides loopback; the test needs one")
    return address


def test_metrics_scraped_with_a_metrics_certificate_and_not_with_another(stack):
    """A Prometheus server on another host scrapes with a client certificate of the role `metrics`; an `app`
    certificate needs an admin's token (X-Forwarded-For of a non-gateway peer is dropped, so a header cannot
    fake the loopback exception either); no certificate is refused in the handshake."""
    from common import pki

    address = own_address()
    pki.issue(stack.pki, "prometheus", role="metrics")
    pki.issue(stack.pki, "files-remote", role="files", ips=[address])
    port = free_port_on(address)
    tls, env = stack.tls("files-remote")
    stack.start(
        "files-remote",
        gunicorn_command("files", f"{address}:{port}", workers=1, threads=1, tls=tls),
        **env,
    )
    scraper = (str(stack.pki / "prometheus.pem"), str(stack.pki / "prometheus.key"))
    app = (str(stack.pki / "app.pem"), str(stack.pki / "app.key"))
    url = f"https://{address}:{port}/metrics"
    try:
        stack.wait_until(lambda: answers(url, scraper), 30, "the file server on the network address")
        scraped = requests.get(url, cert=scraper, timeout=30)
        assert scraped.status_code == 200 and "festivals_http_requests_total" in scraped.text
        refused = requests.get(url, cert=app, headers={"X-Forwarded-For": "127.0.0.1"}, timeout=30)
        assert refused.status_code == 401 and set(refused.json()) == {"error"}
        with pytest.raises(requests.exceptions.ConnectionError):
            requests.get(url, timeout=30)  # no certificate: the handshake fails
    finally:
        stack.terminate("files-remote")
    assert stack.get("api", "/metrics", cert=scraper).status_code == 404  # never through the gateway


def free_port_on(address: str) -> int:
    with socket.socket() as sock:
        sock.bind((address, 0))
        return sock.getsockname()[1]


def answers(url: str, cert) -> bool:
    try:
        return requests.get(url, cert=cert, timeout=5).status_code == 200
    except requests.RequestException:
        return False


def test_forwarded_headers_are_trusted_from_the_gateway_only(stack):
    """Straight to an instance's mTLS port: the gateway's certificate may say the public host (the links the
    app builds follow it); another certificate's X-Forwarded-* headers are dropped."""
    url = f"https://{stack.address('app1')}/api/v1/festivals/{stack.seeded['festival_id']}/schedule.json"
    forged = {**stack.admin_headers, "X-Forwarded-Host": "evil.example", "X-Forwarded-For": "203.0.113.9"}
    for name, trusted in (("gateway", True), ("app", False), ("files", False)):
        cert = (str(stack.pki / f"{name}.pem"), str(stack.pki / f"{name}.key"))
        answer = requests.get(url, cert=cert, headers=forged, timeout=30)
        assert answer.status_code == 200, answer.text
        base = answer.json()["schedule"]["base_url"]
        assert base.startswith("https://evil.example/") == trusted, (name, base)
