"""The gateway as users and operators meet it: a real Caddy in front of real gunicorn processes."""

from __future__ import annotations

import base64
import io
import threading
import time
import uuid

import orjson
import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from PIL import Image
from requests.adapters import HTTPAdapter

from common.heartbeat import HeartbeatSender
from common.pki import FORWARDED_CERT_HEADER
from common.tls import TlsFiles
from fileserver.storage import LocalStore
from tests.gateway.conftest import (
    BEAT_S,
    DOMAIN,
    FORGET_S,
    STALE_AFTER_S,
    assert_stored_images_come_from_the_gateway,
    assert_stored_videos_come_from_the_gateway,
    keep_alive_session,
    lines_with,
    marker,
)
from tests.processes import free_port
from tests.takeover.conftest import pdf as pdf_bytes

# --- routing by host ------------------------------------------------------------------------------------


def test_every_host_reaches_its_service(stack):
    api = stack.get("api", "/festivals", headers=stack.api_headers)
    assert api.status_code == 200 and api.json()["data"][0]["festival_name"] == "Gateway Fest"
    jwks = stack.get("identity", "/.well-known/jwks.json")
    assert jwks.status_code == 200 and jwks.json()["keys"]
    assert stack.get("identity", "/identity/.well-known/jwks.json").json() == jwks.json()
    assert stack.get("files", "/health").json() == {"status": "ok"}
    portal = stack.get("", "/login")
    assert portal.status_code == 200 and "<form" in portal.text
    health = stack.get("gateway", "/health")
    assert (health.status_code, health.content) == (200, b"")
    assert stack.get("gateway", "/info").json()["domain"] == DOMAIN
    assert stack.get("discovery", "/services").status_code == 401
    listed = {(row["service"], row["port"], row["state"]) for row in stack.services()}
    assert {
        ("app", stack.ports["app1"], "live"),
        ("app", stack.ports["app2"], "live"),
        ("identity", stack.ports["identity"], "live"),
        ("files", stack.ports["files"], "live"),
    } <= listed


@pytest.mark.parametrize(
    "path",
    [
        "/festivals",
        "/festivals/{id}",
        "/festivals/{id}/events?include=artist,location",
        "/festivals?name=gateway&include=image,link,place,tag",
        "/events",
        "/festivals/9999",
    ],
)
def test_unprefixed_paths_answer_like_api_v1(stack, path):
    path = path.format(id=stack.seeded["festival_id"])
    old = stack.get("api", path, headers=stack.api_headers)
    new = stack.get("api", "/api/v1" + path, headers=stack.api_headers)
    assert old.status_code == new.status_code
    assert old.json() == new.json()
    assert old.headers["API-Version"] == "1"


def test_metrics_are_not_routed_publicly(stack):
    """Behind the gateway every request comes from a loopback peer: /metrics must never reach a service."""
    for host in ("api", "identity", "files", "discovery", "gateway", ""):
        for path in ("/metrics", "/METRICS", "//metrics", "/metrics/", "/%6detrics", "/metrics?format=text"):
            response = stack.get(host, path, allow_redirects=False)
            assert response.status_code == 404, (host, path, response.status_code)
            assert response.json() == {"error": "not found"}, (host, path)


def test_services_answer_metrics_on_their_own_ports_to_loopback_callers_and_admins(stack):
    """Straight to each process's mTLS port (with the gateway's certificate): a loopback caller reads the
    metrics; a request that came through a proxy (X-Forwarded-For) needs an admin's Bearer token."""
    cert = (str(stack.pki / "gateway.pem"), str(stack.pki / "gateway.key"))
    addresses = [stack.address(name) for name in ("app1", "identity", "files")] + [f"127.0.0.1:{stack.registry_port}"]
    forwarded = {"X-Forwarded-For": "203.0.113.0"}
    for address in addresses:
        url = f"https://{address}/metrics"
        direct = requests.get(url, cert=cert, timeout=30)
        assert direct.status_code == 200 and "festivals_http_requests_total" in direct.text, address
        refused = requests.get(url, cert=cert, headers=forwarded, timeout=30)
        assert refused.status_code == 401 and set(refused.json()) == {"error"}, address
        admin = requests.get(url, cert=cert, headers={**forwarded, **stack.admin_headers}, timeout=30)
        assert admin.status_code == 200, (address, admin.text)
    heartbeats = requests.get(f"https://127.0.0.1:{stack.registry_port}/metrics", cert=cert, timeout=30).text
    assert 'festivals_heartbeats_total{available="true",service="app"}' in heartbeats


def test_unknown_host_is_403_and_no_upstream_is_contacted(stack):
    request_id = marker()
    for host in (f"evil.{DOMAIN}", "example.org", "127.0.0.1"):
        response = requests.get(
            stack.url(f"/festivals/{request_id}"), timeout=5, headers={"Host": host, "X-Request-ID": request_id}
        )
        assert response.status_code == 403
        assert response.json() == {"error": "unknown host"}
    time.sleep(0.3)
    for name in ("app1", "app2", "identity", "files", "registry"):
        assert request_id not in stack.log(name)


# --- balancing and masking --------------------------------------------------------------------------------


def test_both_app_instances_get_traffic(stack):
    ids = [marker() for _ in range(30)]
    for request_id in ids:
        assert stack.get("api", "/festivals", headers={**stack.api_headers, "X-Request-ID": request_id}).ok
    time.sleep(0.3)
    served = {name: sum(1 for request_id in ids if request_id in stack.log(name)) for name in ("app1", "app2")}
    assert served["app1"] > 0 and served["app2"] > 0, served
    assert served["app1"] + served["app2"] == len(ids)


def test_backends_see_only_the_masked_address(stack):
    request_id = marker()
    spoofed = {"X-Forwarded-For": "203.0.113.77", "X-Request-ID": request_id}
    assert stack.get("api", f"/festivals?probe={request_id}", headers={**stack.api_headers, **spoofed}).ok
    assert stack.get("files", "/version", headers=spoofed).ok  # (health checks are not logged)
    ipv6_id = marker()  # ::1 truncated to its /48
    assert requests.get(
        f"https://[::1]:{stack.https_port}/festivals?probe={ipv6_id}",
        timeout=10,
        headers={**stack.api_headers, "Host": f"api.{DOMAIN}", "X-Request-ID": ipv6_id},
    ).ok
    time.sleep(0.3)
    seen = [line for name in ("app1", "app2", "files") for line in lines_with(stack.log(name), request_id)]
    assert len(seen) == 2, seen
    for line in seen:
        assert orjson.loads(line)["client"] == "127.0.0.0", line  # the client's /24, not 127.0.0.1, not spoofed
        assert "203.0.113" not in line
    [line] = [line for name in ("app1", "app2") for line in lines_with(stack.log(name), ipv6_id)]
    assert orjson.loads(line)["client"] == "::", line
    # Caddy's access log: the masked address only, no headers (no client-sent address, no credentials)
    access = [orjson.loads(line) for line in (stack.folder / "access.log").read_text().splitlines()]
    assert {entry["request"]["remote_ip"] for entry in access if request_id in entry["request"]["uri"]} == {"127.0.0.0"}
    assert {entry["request"]["remote_ip"] for entry in access if ipv6_id in entry["request"]["uri"]} == {"::"}
    assert all("headers" not in entry["request"] and "remote_port" not in entry["request"] for entry in access)
    text = (stack.folder / "access.log").read_text()
    assert "203.0.113" not in text and stack.api_headers["Api-Key"] not in text and stack.service_key not in text


# --- discovery --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("key", [None, "fs_00000000_forged", "api"])
def test_heartbeat_without_a_valid_service_key_is_refused(stack, key):
    beat = {"service": "app", "host": "127.0.0.1", "port": 1, "available": True}
    response = stack.beat(beat, key=stack.api_headers["Api-Key"] if key == "api" else key)
    assert response.status_code == 401
    assert response.json()["error"]
    assert all(row["port"] != 1 for row in stack.services())


@pytest.mark.parametrize(
    "body",
    [
        {"service": "app", "host": "127.0.0.1", "port": 0},
        {"service": "app", "host": "bad host/x", "port": 80},
        {"service": "app", "host": "ftp://x.example", "port": 21},
        {"service": "App!", "host": "127.0.0.1", "port": 80},
        {"service": "app", "host": "127.0.0.1", "port": 80, "available": "yes"},
        [1],
    ],
)
def test_bad_heartbeat_is_400(stack, body):
    response = stack.beat(body)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid heartbeat" or response.json()["fields"]


def test_go_format_heartbeat_is_accepted(stack):
    """The Go services sent `host` as a URL and their own service names: the file server's own address in
    that format is the same instance, not a second one."""
    go_beat = {
        "service": "festivals-fileserver",
        "host": "http://127.0.0.1",
        "port": stack.ports["files"],
        "available": True,
    }
    response = stack.beat(go_beat, key=stack.seeded["instance_keys"]["files"], cert="files")
    assert response.status_code == 202
    [instance] = response.json()["data"]
    assert (instance["service"], instance["host"], instance["port"], instance["state"]) == (
        "files",
        "127.0.0.1",
        stack.ports["files"],
        "live",
    )
    files = [row for row in stack.services() if row["service"] == "files"]
    assert len(files) == 1
    assert stack.upstreams("files") == [stack.address("files")]


def test_a_certificate_registers_only_its_own_role(stack):
    """A fake upstream holding the app's certificate and a valid Service-Key cannot become the file server
    (nor anything through Caddy without a certificate Caddy verified); each is a clear 403."""
    fake = free_port()
    before = stack.services()
    for service in ("files", "identity", "festivals-fileserver", "festivals-database"):
        response = stack.beat({"service": service, "host": "127.0.0.1", "port": fake, "available": True})
        assert response.status_code == 403, response.text
        assert "client certificate of the role" in response.json()["error"]
        assert "this one is app" in response.json()["error"]
    through_caddy = stack.post(
        "discovery",
        "/loversear",
        json={"service": "app", "host": "127.0.0.1", "port": fake, "available": True},
        headers={"Service-Key": stack.service_key},
    )
    assert through_caddy.status_code == 403 and "none was given" in through_caddy.json()["error"]
    assert all(row["port"] != fake for row in stack.services())
    assert len(stack.services()) == len(before)
    assert stack.upstreams("files") == [stack.address("files")]


def test_heartbeat_through_the_discovery_host_registers_the_certificates_role(stack):
    """Beats through Caddy (discovery.<domain>/loversear, as the contract says): Caddy verifies the service's
    client certificate and forwards it; the registry applies the same rules to it as to its own TLS peer's."""
    key, port = stack.seeded["instance_keys"]["through-gateway"], free_port()
    beat = {"service": "app", "host": "127.0.0.1", "port": port, "available": True}
    address = f"127.0.0.1:{port}"
    as_files = stack.beat_through_gateway({**beat, "service": "files"}, key)
    assert as_files.status_code == 403 and "this one is app" in as_files.json()["error"], as_files.text
    go_format = {"service": "festivals-server", "host": f"https://{address}", "available": True}
    # the services' own sender, configured with the gateway's discovery URL (a *.localhost name: 127.0.0.1)
    files = TlsFiles(str(stack.pki / "app.pem"), str(stack.pki / "app.key"), stack.ca)
    sender = HeartbeatSender(
        f"https://discovery.{DOMAIN}:{stack.https_port}", key, "app", "127.0.0.1", port, 5, tls=files
    )
    try:
        accepted = stack.beat_through_gateway(go_format, key)
        assert accepted.status_code == 202, accepted.text
        [instance] = accepted.json()["data"]
        assert (instance["service"], instance["port"], instance["state"]) == ("app", port, "live")
        assert sender.send(True)
        assert ("app", port, "live") in {(row["service"], row["port"], row["state"]) for row in stack.services()}
        stack.wait_until(lambda: address in stack.upstreams("api"), 30, "the instance in Caddy's upstreams")
    finally:  # a made-up instance: out of the upstreams again
        assert sender.send(False)
    stack.wait_until(lambda: address not in stack.upstreams("api"), 30, "the instance out of Caddy's upstreams")
    assert all(row["port"] != port for row in stack.services() if row["service"] == "files")


def test_heartbeat_without_a_certificate_caddy_verified_is_refused(stack):
    """No certificate: the discovery host refuses at TLS. The header that carries the verified certificate,
    forged by a client, is replaced by Caddy (by nothing on a connection that presented none) and ignored by
    the registry from any peer but the gateway."""
    key, port = stack.seeded["instance_keys"]["through-gateway"], free_port()
    beat = {"service": "app", "host": "127.0.0.1", "port": port, "available": True}
    with pytest.raises(requests.exceptions.ConnectionError):
        stack.beat_through_gateway(beat, key, cert=None)
    app_cert = x509.load_pem_x509_certificate((stack.pki / "app.pem").read_bytes())
    forged = {FORWARDED_CERT_HEADER: base64.b64encode(app_cert.public_bytes(serialization.Encoding.DER)).decode()}
    straight = stack.beat(beat, key=key, cert="files", headers=forged)  # a non-gateway peer
    assert straight.status_code == 403 and "this one is files" in straight.json()["error"], straight.text
    replaced = stack.beat_through_gateway(beat, key, cert="files", headers=forged)
    assert replaced.status_code == 403 and "this one is files" in replaced.json()["error"], replaced.text
    # without SNI no certificate is asked for: the forged header reaches the registry as nothing
    unnamed = stack.post("discovery", "/loversear", json=beat, headers={"Service-Key": key, **forged})
    assert unnamed.status_code == 403 and "none was given" in unnamed.json()["error"], unnamed.text
    assert all(row["port"] != port for row in stack.services())


def test_another_key_cannot_take_over_a_live_instance(stack):
    """One key per instance: a holder of another valid key (and the app's certificate) cannot say app1 is
    unavailable; 409, and app1 stays in Caddy's upstreams."""
    app1 = {"service": "app", "host": "127.0.0.1", "port": stack.ports["app1"], "available": False}
    response = stack.beat(app1)
    assert response.status_code == 409, response.text
    assert "another Service-Key" in response.json()["error"]
    assert stack.beat({**app1, "available": True}, key=stack.seeded["instance_keys"]["app1"]).status_code == 202
    assert stack.address("app1") in stack.upstreams("api")
    [row] = [row for row in stack.services() if row["port"] == stack.ports["app1"]]
    assert (row["state"], row["available"]) == ("live", True)


@pytest.mark.parametrize(
    "host, port",
    [
        ("169.254.169.254", 80),
        ("evil.example", 443),
        ("10.0.0.5", 8443),
        ("::ffff:a9fe:a9fe", 80),  # 169.254.169.254
        ("127.0.0.1", "registry"),
        ("localhost", "registry"),
        ("::ffff:7f00:1", "registry"),  # 127.0.0.1
        ("127.0.0.1", "admin"),
        ("127.0.0.1", "https"),
    ],
)
def test_heartbeat_for_a_foreign_address_is_refused(stack, host, port):
    port = {"registry": stack.registry_port, "admin": stack.admin_port, "https": stack.https_port}.get(port, port)
    response = stack.beat({"service": "app", "host": host, "port": port, "available": True})
    assert response.status_code == 403, response.text
    body = response.json()
    assert body["error"] == body["fields"]["host"]
    assert "FESTIVALS_REGISTRY_UPSTREAMS" in body["error"] or "gateway itself" in body["error"]
    assert all(row["port"] != port for row in stack.services())
    assert sorted(stack.upstreams("api")) == sorted([stack.address("app1"), stack.address("app2")])


def test_admin_services_page_lists_the_instances(stack):
    from app import create_app
    from tests.conftest import CHEAP_ARGON2
    from tests.identity.test_pages import client_for, log_in

    app = create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": str(stack.instance),
            **CHEAP_ARGON2,
            "DATABASE_URL": stack.env["FESTIVALS_DATABASE_URL"],
            "DISCOVERY_URL": stack.env["FESTIVALS_DISCOVERY_URL"],
            "TLS_CA": stack.ca,
            "TLS_CERT": str(stack.pki / "app.pem"),
            "TLS_KEY": str(stack.pki / "app.key"),
        }
    )
    try:
        client = client_for(app)
        assert log_in(client, stack.seeded["admin_email"]).status_code == 303
        page = client.get("/admin/services").get_data(as_text=True)
        for name in ("app1", "app2", "identity", "files"):
            assert f"127.0.0.1:{stack.ports[name]}" in page
        assert "live" in page
        creator = client_for(app)
        assert log_in(creator, stack.seeded["creator_email"]).status_code == 303
        assert creator.get("/admin/services").status_code == 403
    finally:
        from app.db import close_database

        close_database(app.extensions["database"])


# --- files ----------------------------------------------------------------------------------------------------


def test_go_file_names_answer_through_the_gateway(stack):
    """What `import-go` leaves in the store (an original by hash, its Go name as an alias) answers at the Go
    URLs, thumbnails included, through Caddy to the file server (an alias: the same bytes, no redirect)."""
    media = LocalStore(str(stack.instance / "media"))
    picture = io.BytesIO()
    Image.new("RGB", (640, 480), (30, 120, 200)).save(picture, "JPEG")
    digest, _ = media.store("images", picture.getvalue(), {"mimetype": "image/jpeg", "width": 640, "height": 480})
    media.write_alias("upload-1718000000.jpg", {"kind": "images", "hash": digest})
    document = pdf_bytes()
    pdf_digest, _ = media.store("pdf", document, {"mimetype": "application/pdf", "pages": 1})
    media.write_alias("upload-1718000001.jpg", {"kind": "pdf", "hash": pdf_digest})  # a PDF saved as .jpg

    original = stack.get("files", "/images/upload-1718000000.jpg", timeout=30)
    assert (original.status_code, original.headers["Content-Type"]) == (200, "image/jpeg")
    assert original.content == picture.getvalue()
    thumb = stack.get("files", "/images/upload-1718000000.jpg?width=300&format=webp", timeout=30)
    assert (thumb.status_code, thumb.headers["Content-Type"]) == (200, "image/webp")
    assert Image.open(io.BytesIO(thumb.content)).width == 320  # the nearest allowed size
    for path in ("/images/upload-1718000001.jpg", "/pdf/upload-1718000001.jpg"):
        answer = stack.get("files", path, timeout=30)
        assert (answer.status_code, answer.headers["Content-Type"]) == (200, "application/pdf")
        assert answer.content == document
    assert stack.get("files", "/images/upload-1.jpg", timeout=30).status_code == 404


def test_files_come_from_disk_with_the_file_servers_headers(stack):
    assert_stored_images_come_from_the_gateway(stack)


def test_videos_come_from_disk_with_range_and_posters_from_the_file_server(stack, tmp_path):
    assert_stored_videos_come_from_the_gateway(stack, tmp_path)


def test_kill_9_of_an_instance_during_reads_fails_no_request(stack, webhook):
    failures, count, stop = [], [0], threading.Event()

    def read_loop():
        session = keep_alive_session()  # any answer that is not 200, and any second failure, counts as a failure
        while not stop.is_set():
            try:
                response = stack.get("api", "/festivals", session=session, headers=stack.api_headers)
                if response.status_code != 200:
                    failures.append(response.status_code)
            except requests.RequestException as exc:
                failures.append(repr(exc))
            count[0] += 1

    reader = threading.Thread(target=read_loop)
    started = time.monotonic()
    reader.start()
    try:
        time.sleep(3)
        stack.kill9("app1")
        app1 = stack.address("app1")
        took = stack.wait_until(lambda: app1 not in stack.upstreams("api"), 10, "app1 out of the upstreams")
        assert took <= STALE_AFTER_S + 1.5  # two missed beats, the grace, and the push
        assert [row["state"] for row in stack.services() if row["port"] == stack.ports["app1"]] == ["stale"]
        time.sleep(2)
        stack.start_instance("app1")
        stack.wait_until(lambda: app1 in stack.upstreams("api"), 30, "app1 back in the upstreams")
        time.sleep(max(0.0, 20 - (time.monotonic() - started)))
    finally:
        stop.set()
        reader.join(timeout=30)
    assert failures == [], failures
    assert count[0] > 50
    stack.wait_until(lambda: len(webhook.of(stack.ports["app1"])) >= 2, 5, "two alerts")
    time.sleep(BEAT_S * 2)
    assert webhook.of(stack.ports["app1"]) == ["instance_stale", "instance_back"]
    [stale, back] = [alert for alert in webhook.alerts if alert["port"] == stack.ports["app1"]]
    assert (stale["service"], stale["state"], back["previous_state"]) == ("app", "stale", "stale")
    assert f"ALERT instance app 127.0.0.1:{stack.ports['app1']} is stale" in stack.log("registry")


def test_no_live_instance_is_503_with_the_envelope(stack):
    """A clean stop says so in a last heartbeat: the file server leaves the upstreams at once."""
    stack.terminate("files")
    stack.wait_until(lambda: stack.upstreams("files") == [], 3, "files out of the upstreams")
    response = stack.get("files", "/health")
    assert response.status_code == 503
    assert response.json()["error"].startswith("no live instance")
    stack.start_instance("files")
    stack.wait_until(lambda: stack.upstreams("files") == [stack.address("files")], 30, "files back")
    assert stack.get("files", "/health").status_code == 200


# --- transport security (every test above already runs over HTTPS and mTLS) ----------------------------------


def test_uploads_stop_after_logout_and_suspension(stack):
    """Issue 20, finding 9: through the gateway the file server asks identity whether a token's login is still
    live (cached a few seconds), so a logged-out or suspended creator's token no longer uploads."""
    from tests.factories import PASSWORD
    from tests.processes import factory_for

    with factory_for(stack.instance, stack.env["FESTIVALS_DATABASE_URL"]) as factory:
        creator = factory.user("creator", email=f"jürgen.größer-{uuid.uuid4().hex[:6]}@gw.test")
    picture = io.BytesIO()
    Image.new("RGB", (64, 48), (20, 140, 90)).save(picture, "JPEG")

    def login() -> dict:
        response = stack.post("identity", "/token", json={"email": creator.email, "password": PASSWORD})
        assert response.status_code == 200, response.text
        return response.json()

    def upload(tokens: dict) -> requests.Response:
        return requests.post(
            stack.url("/images/upload"),
            files={"image": ("plakat.jpg", picture.getvalue())},
            headers={"Host": f"files.{DOMAIN}", "Authorization": f"Bearer {tokens['access_token']}"},
            timeout=30,
        )

    def refused_soon(tokens: dict) -> requests.Response:
        refused = []
        stack.wait_until(lambda: refused.append(upload(tokens)) or refused[-1].status_code >= 300, 20, "refused")
        return refused[-1]

    tokens = login()
    assert upload(tokens).status_code in (200, 201)  # 200: stored before (by content hash)
    assert stack.post("identity", "/logout", json={"refresh_token": tokens["refresh_token"]}).status_code < 300
    after_logout = refused_soon(tokens)
    assert after_logout.status_code == 401 and "log in again" in after_logout.json()["error"]

    tokens = login()
    assert upload(tokens).status_code == 200
    suspended = stack.post("identity", f"/users/{creator.id}/suspend", headers=stack.admin_headers)
    assert suspended.status_code == 200, suspended.text
    after_suspension = refused_soon(tokens)
    assert after_suspension.status_code == 401 and after_suspension.json()["error"]


def test_plain_http_is_redirected_to_https(stack):
    response = requests.get(
        f"http://127.0.0.1:{stack.port}/festivals?x=1",
        allow_redirects=False,
        timeout=5,
        headers={"Host": f"api.{DOMAIN}:{stack.port}"},
    )
    assert response.status_code == 308
    assert response.headers["Location"] == f"https://api.{DOMAIN}:{stack.https_port}/festivals?x=1"
    unknown = requests.get(f"http://127.0.0.1:{stack.port}/", headers={"Host": "example.org"}, timeout=5)
    assert unknown.status_code == 403 and unknown.json() == {"error": "unknown host"}


def test_app_behind_https_builds_https_urls_and_secure_cookies(stack):
    """Caddy passes X-Forwarded-Proto; the app trusts that one hop (ProxyFix)."""
    login_page = stack.get("", "/login")
    assert login_page.status_code == 200
    assert "Strict-Transport-Security" not in login_page.headers  # not on a local name (see tests/tls)
    cookies = login_page.headers.get("Set-Cookie", "")
    assert "session=" in cookies and "Secure" in cookies
    me = stack.get("identity", "/users/me", headers=stack.admin_headers).json()["data"][0]
    link = stack.post(
        "identity",
        f"/users/{me['user_id']}/reset-link",  # the Host a browser sends
        headers={**stack.admin_headers, "Host": f"identity.{DOMAIN}:{stack.https_port}"},
    )
    assert link.status_code == 201, link.text
    assert link.json()["data"][0]["reset_url"].startswith(f"https://identity.{DOMAIN}:{stack.https_port}/reset/")


def test_upstream_ports_refuse_clients_without_a_certificate(stack):
    """What Caddy reaches with its client certificate (every test above) refuses anyone without one."""
    for name in ("app1", "identity", "files"):
        with pytest.raises(requests.exceptions.ConnectionError, match="certificate required"):
            requests.get(f"https://{stack.address(name)}/health", verify=stack.ca, timeout=30)
    with pytest.raises(requests.exceptions.ConnectionError, match="certificate required"):
        requests.get(f"https://127.0.0.1:{stack.registry_port}/health", verify=stack.ca, timeout=30)


# --- rate limits see whole addresses --------------------------------------------------------------------------


class FromAddress(HTTPAdapter):
    """Connections from a source address of our choice (loopback has the whole of 127.0.0.0/8)."""

    def __init__(self, address: str):
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, source_address=(self.address, 0), **kwargs)


def test_neighbours_behind_the_same_slash_24_keep_their_own_login_budget(stack):
    """The instances see X-Forwarded-For masked to 127.0.0.0 for both, but the gateway's X-Festivals-Client
    tells them apart: one client spending its budget of password checks does not lock out the other."""
    guesser, neighbour = requests.Session(), requests.Session()
    guesser.mount("https://", FromAddress("127.0.0.3"))
    neighbour.mount("https://", FromAddress("127.0.0.4"))

    def attempt(session, number: int) -> int:
        body = {"email": f"nachbarin.{number}.{uuid.uuid4().hex[:6]}@example.org", "password": "falsches Passwort"}
        # a client's own X-Festivals-Client (a new address each time, to escape its budget) is replaced by Caddy
        headers = {"Host": f"identity.{DOMAIN}", "X-Festivals-Client": f"10.{number}.0.1"}
        return session.post(stack.url("/token"), json=body, headers=headers, timeout=30).status_code

    statuses = []
    while len(statuses) < 100 and 429 not in statuses:  # 30 a minute per worker of the identity service
        statuses.append(attempt(guesser, len(statuses)))
    assert statuses[-1] == 429 and set(statuses[:-1]) == {401}, statuses
    assert [attempt(neighbour, number) for number in range(5)] == [401] * 5
    assert "127.0.0.3" not in stack.log("identity") and "127.0.0.4" not in stack.log("identity")


# --- a heartbeat flood ------------------------------------------------------------------------------------------


def identity_lookups(stack) -> float:
    """The registry's calls to identity so far (its /metrics, read over mTLS from loopback)."""
    response = requests.get(
        f"https://127.0.0.1:{stack.registry_port}/metrics",
        cert=(str(stack.pki / "app.pem"), str(stack.pki / "app.key")),
        verify=stack.ca,
        timeout=10,
    )
    assert response.status_code == 200, response.text
    [line] = [
        line for line in response.text.splitlines() if line.startswith("festivals_registry_identity_lookups_total")
    ]
    return float(line.split()[-1])


def test_a_heartbeat_flood_leaves_the_real_instances_live(stack):
    """Thousands of beats in seconds from a client with a real certificate: valid ones with a key of its own
    for made-up instances, and ones with random keys. They are limited and cost identity next to nothing; the
    real instances stay in Caddy's upstreams all along; the made-up ones are forgotten once stale."""
    from concurrent.futures import ThreadPoolExecutor

    valid, random_keys = 1500, 1500
    flood_key, first_port = stack.seeded["instance_keys"]["flood"], 30000
    beats = [({"service": "app", "host": "127.0.0.1", "port": first_port + n}, flood_key) for n in range(valid)]
    beats += [
        ({"service": "app", "host": "127.0.0.1", "port": stack.ports["app1"], "available": False}, uuid.uuid4().hex)
        for _ in range(random_keys)
    ]
    real = sorted([stack.address("app1"), stack.address("app2")])
    lookups_before = identity_lookups(stack)
    missing, stop = [], threading.Event()

    failed_reads = []

    def watch():
        """Caddy's upstreams (when its admin API answers: it may not while loading a new config), and a read
        through the gateway as a visitor makes it."""
        while not stop.is_set():
            try:
                admin = requests.get(f"http://127.0.0.1:{stack.admin_port}/id/upstreams-api/upstreams", timeout=5)
                upstreams = [upstream["dial"] for upstream in admin.json() or []] if admin.ok else real
            except requests.RequestException:
                upstreams = real
            if not set(real) <= set(upstreams):
                missing.append(upstreams)
            try:
                read = stack.get("api", "/festivals", headers=stack.api_headers)
                if read.status_code != 200:
                    failed_reads.append(read.status_code)
            except requests.RequestException as exc:
                failed_reads.append(repr(exc))
            time.sleep(0.2)

    local = threading.local()

    def send(beat):
        if not hasattr(local, "session"):
            local.session = requests.Session()
            local.session.cert = (str(stack.pki / "app.pem"), str(stack.pki / "app.key"))
            local.session.verify = stack.ca
        body, key = beat
        started = time.monotonic()
        try:
            response = local.session.post(
                f"https://127.0.0.1:{stack.registry_port}/loversear",
                json=body,
                headers={"Service-Key": key},
                timeout=10,
            )
        except requests.RequestException as exc:
            return repr(exc), time.monotonic() - started, key
        return response.status_code, time.monotonic() - started, key

    watcher = threading.Thread(target=watch)
    watcher.start()
    started = time.monotonic()
    try:
        with ThreadPoolExecutor(16) as pool:
            results = list(pool.map(send, beats))
        took = time.monotonic() - started
        time.sleep(2 * BEAT_S)  # the real instances' next beats
    finally:
        stop.set()
        watcher.join(timeout=10)
    lookups = identity_lookups(stack) - lookups_before
    of_flood = [status for status, _, key in results if key == flood_key]
    of_random = [status for status, _, key in results if key != flood_key]
    slowest = max(seconds for _, seconds, _ in results)
    print(
        f"{len(results)} beats in {took:.1f}s ({len(results) / took:.0f}/s), slowest {slowest:.2f}s; "
        f"flood key: {of_flood.count(202)} accepted, {of_flood.count(429)} limited; random keys: "
        f"{of_random.count(401)} refused, {of_random.count(429)} limited; {lookups:.0f} identity lookups"
    )
    assert set(of_flood) <= {202, 429}, sorted(set(of_flood), key=str)
    assert set(of_random) <= {401, 429}, sorted(set(of_random), key=str)
    assert of_flood.count(202) <= 5  # 5 new instances a minute per key (and 10 beats a second, at most 40)
    # 20 unknown keys a minute per certificate, the flood key, the real instances' renewals: not 1500
    assert lookups <= 40
    assert missing == [], f"the real instances left the upstreams {len(missing)} times: {missing[:3]}"
    assert failed_reads == [], failed_reads
    live = {(row["service"], row["port"]) for row in stack.services() if row["state"] == "live"}
    assert {("app", stack.ports["app1"]), ("app", stack.ports["app2"]), ("files", stack.ports["files"])} <= live
    forgotten = stack.wait_until(
        lambda: all(not first_port <= row["port"] < first_port + valid for row in stack.services()),
        STALE_AFTER_S + FORGET_S + 30,
        "the made-up instances forgotten",
    )
    print(f"made-up instances forgotten {forgotten:.0f}s after the flood")
    assert sorted(stack.upstreams("api")) == real
