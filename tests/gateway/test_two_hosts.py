"""Two hosts behind one gateway, sharing nothing but the engines: host A on 127.0.0.2 and host B on 127.0.0.3,
each with its own app instance, identity service and file server, its own instance folder (its certificates,
its copy of the session secret and of the identity signing keys) and media folder; one PostgreSQL database,
one Redis, one S3 server (moto), one gateway (real Caddy and the registry, its state in Redis).

PostgreSQL on both runs of the suite (on the SQLite run the server of FESTIVALS_TEST_POSTGRES_URL, which
scripts/test starts): two hosts cannot share a SQLite file."""

from __future__ import annotations

import io
import os
import re
import shutil
import signal
import time
import uuid

import pytest
import requests
from PIL import Image

from app.permissions import SYSTEM
from app.services import api_keys
from common import pki
from identity.keys import KeyStore
from tests.conftest import SUITE, create_postgres_database, worker_database_name
from tests.factories import PASSWORD
from tests.gateway.conftest import Readers, Stack, running, seed
from tests.identity.test_pages import CSRF
from tests.processes import factory_for, free_port, migrated, starts_process
from tests.s3 import MotoServer

HOSTS = {"a": "127.0.0.2", "b": "127.0.0.3"}
KINDS = ("app", "identity", "files")
SECRET = "Sitzungsschlüssel-der-Festspiele-" + "7" * 40


class TwoHosts(Stack):
    def host_folder(self, host: str):
        return self.folder / f"host-{host}"

    def direct_url(self, name: str, path: str) -> str:
        """An instance's own port (mTLS: the test presents the gateway's certificate)."""
        return f"https://{self.address(name)}{path}"

    def direct(self, method: str, name: str, path: str, **kwargs) -> requests.Response:
        cert = (str(self.pki / "gateway.pem"), str(self.pki / "gateway.key"))
        return requests.request(method, self.direct_url(name, path), cert=cert, verify=self.ca, timeout=30, **kwargs)

    def kill_host(self, host: str) -> None:
        for kind in KINDS:
            name = f"{kind}-{host}"
            self.stopped.add(name)
            os.killpg(self.processes[name].pid, signal.SIGKILL)
            self.processes[name].wait(timeout=10)


def make_host(stack: TwoHosts, host: str, keys_from) -> None:
    """The host's own folder: certificates for its address (role = service), the CA certificate, a copy of the
    session secret and of the identity signing keys, as an operator hands them to each host."""
    folder = stack.host_folder(host)
    (folder / "pki").mkdir(parents=True)
    for kind in KINDS:
        pki.issue(stack.pki, f"{kind}-{host}", ips=[HOSTS[host]], role=kind)
        for suffix in ("pem", "key"):
            shutil.copy(stack.pki / f"{kind}-{host}.{suffix}", folder / "pki" / f"{kind}.{suffix}")
    shutil.copy(stack.pki / "ca.pem", folder / "pki" / "ca.pem")
    (folder / "secret_key").write_text(SECRET)
    shutil.copytree(keys_from, folder / "identity-keys")


def start_host(stack: TwoHosts, host: str) -> None:
    """The host's identity, app and file server: its folder, its address, its identity service's JWKS."""
    address, home = HOSTS[host], stack.host_folder(host)
    identity = f"https://{address}:{stack.ports[f'identity-{host}']}/identity"
    own = {
        "host": address,
        "pki": home / "pki",
        "FESTIVALS_INSTANCE_PATH": str(home),
        "FESTIVALS_ADVERTISE_HOST": address,
        "FESTIVALS_SECRET_KEY_FILE": str(home / "secret_key"),
    }
    stack.start_instance(f"identity-{host}", **own)
    # the app has a folder of its own: no copy of identity's signing keys (tokens come from identity)
    stack.start_instance(
        f"app-{host}", FESTIVALS_IDENTITY_URL=identity, **{**own, "FESTIVALS_INSTANCE_PATH": str(home / "app")}
    )
    media = {"FESTIVALS_MEDIA_DIR": str(stack.folder / f"media-{host}"), **stack.s3.settings(stack.bucket)}
    stack.start_instance(f"files-{host}", FESTIVALS_IDENTITY_URL=identity, **media, **own)


def every_instance_live(stack: TwoHosts) -> bool:
    return all(
        stack.upstreams(group) == sorted(stack.address(f"{kind}-{host}") for host in HOSTS)
        for group, kind in (("api", "app"), ("identity", "identity"), ("files", "files"))
    )


@pytest.fixture(scope="module")
@starts_process
def hosts(tmp_path_factory, webhook):
    redis_url = SUITE.test_redis_url
    folder = tmp_path_factory.mktemp("two-hosts")
    database = migrated(create_postgres_database(worker_database_name("hosts")))
    s3 = MotoServer(folder)
    stack = TwoHosts(folder, database, webhook)
    run = uuid.uuid4().hex[:8]  # this run's keys in the shared Redis
    stack.env.update(
        FESTIVALS_REDIS_URL=redis_url,
        FESTIVALS_REGISTRY_PREFIX=f"festivals:hosts-{run}:registry:",
        FESTIVALS_READ_CACHE_PREFIX=f"festivals:hosts-{run}:read:",
        FESTIVALS_REGISTRY_UPSTREAMS="127.0.0.0/8",
    )
    stack.s3, stack.bucket = s3, s3.new_bucket()
    # the identity signing keys: made once, then a copy on each host (identity signs, everyone verifies by JWKS)
    keys = folder / "operator-identity-keys"
    KeyStore(str(keys))
    seeded = seed(database, stack.instance)  # admin, creator, keys and a festival, straight into the database
    with factory_for(stack.instance, database):  # a Service-Key per instance, as scripts/stack makes them
        for host in HOSTS:
            for kind in KINDS:
                key, _ = api_keys.create_key(f"two hosts {kind}-{host}", "service", SYSTEM)
                seeded["instance_keys"][f"{kind}-{host}"] = key
    stack.service_key, stack.seeded = seeded["service_key"], seeded
    stack.api_headers = {"Api-Key": seeded["api_key"]}
    with running(stack):
        for host in HOSTS:
            make_host(stack, host, keys)
            for kind in KINDS:
                stack.ports[f"{kind}-{host}"] = free_port()
        # the registry asks an identity service whether a Service-Key is known: host B's, which stays up here
        stack.start_gateway(FESTIVALS_IDENTITY_URL=f"https://{HOSTS['b']}:{stack.ports['identity-b']}/identity")
        for host in HOSTS:
            start_host(stack, host)
        stack.wait_until(lambda: every_instance_live(stack), 120, "both hosts' instances in Caddy's upstreams")
        try:
            yield stack
        finally:
            s3.stop()


def portal_login(stack: TwoHosts, name: str) -> dict:
    """The portal's login form on one instance, as a browser sends it; the cookies it holds after."""
    page = stack.direct("GET", name, "/login")
    assert page.status_code == 200, page.text
    token = CSRF.search(page.text).group(1)
    done = stack.direct(
        "POST",
        name,
        "/login",
        data={"csrf_token": token, "email": stack.seeded["creator_email"], "password": PASSWORD},
        cookies=page.cookies,
        headers={"Referer": stack.direct_url(name, "/login")},  # a CSRF check over HTTPS compares it
        allow_redirects=False,
    )
    assert done.status_code in (302, 303), done.text
    return {**page.cookies.get_dict(), **done.cookies.get_dict()}


def token_from(stack: TwoHosts, name: str) -> str:
    response = stack.direct(
        "POST", name, "/identity/token", json={"email": stack.seeded["creator_email"], "password": PASSWORD}
    )
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def test_two_hosts_portal_login_on_a_continues_on_b(hosts):
    cookies = portal_login(hosts, "app-a")
    on_b = hosts.direct("GET", "app-b", "/festivals", cookies=cookies, allow_redirects=False)
    assert on_b.status_code == 200, (on_b.status_code, on_b.headers.get("Location"))
    # the page names the signed-in account; <wbr> break hints in a long address are invisible to a reader
    assert hosts.seeded["creator_email"] in on_b.text.replace("<wbr>", "")


def test_two_hosts_token_of_either_identity_verifies_on_both_apps(hosts):
    for issuer in ("identity-a", "identity-b"):
        bearer = {"Authorization": f"Bearer {token_from(hosts, issuer)}"}
        for app in ("app-a", "app-b"):
            name = f"Zweihostfestival {issuer} über {app} {uuid.uuid4().hex[:6]}"
            created = hosts.direct("POST", app, "/api/v1/festivals", json={"festival_name": name}, headers=bearer)
            assert created.status_code == 201, (issuer, app, created.text)


def test_two_hosts_write_on_a_invalidates_the_cached_read_on_b(hosts):
    festival = hosts.seeded["festival_id"]
    path = f"/api/v1/festivals/{festival}"
    bearer = {"Authorization": f"Bearer {token_from(hosts, 'identity-a')}"}
    first = hosts.direct("GET", "app-b", path, headers=hosts.api_headers)
    again = hosts.direct("GET", "app-b", path, headers=hosts.api_headers)  # from the shared read cache
    assert first.status_code == again.status_code == 200 and first.headers["ETag"] == again.headers["ETag"]
    name = f"Umbenannt auf Host A {uuid.uuid4().hex[:6]}"
    changed = hosts.direct("PATCH", "app-a", path, json={"festival_name": name}, headers=bearer)
    assert changed.status_code == 200, changed.text
    after = hosts.direct("GET", "app-b", path, headers=hosts.api_headers)
    assert after.status_code == 200 and after.json()["data"][0]["festival_name"] == name
    assert after.headers["ETag"] != first.headers["ETag"]


def upload(hosts: TwoHosts, name: str, token: str, filename: str) -> requests.Response:
    """A new JPEG uploaded to the file server `name` with a Bearer token; it must be stored (201)."""
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, len(filename) * 5)).save(buffer, "JPEG")
    image = {"image": (filename, buffer.getvalue(), "image/jpeg")}
    uploaded = hosts.direct("POST", name, "/images/upload", files=image, headers={"Authorization": f"Bearer {token}"})
    assert uploaded.status_code == 201, uploaded.text
    return uploaded


def test_two_hosts_upload_through_a_downloads_through_b(hosts):
    uploaded = upload(hosts, "files-a", token_from(hosts, "identity-b"), "bühne.jpg")
    digest = uploaded.json()["data"][0]["image_hash"]
    from_a = hosts.direct("GET", "files-a", f"/images/{digest}")
    from_b = hosts.direct("GET", "files-b", f"/images/{digest}")
    assert from_a.status_code == from_b.status_code == 200
    assert from_b.content == from_a.content and from_b.headers["ETag"] == from_a.headers["ETag"]
    assert not any((hosts.folder / "media-b").rglob("*.jpg"))  # B had it from the bucket, not from a disk


def test_two_hosts_portal_upload_token_of_a_is_accepted_by_the_file_server_of_b(hosts):
    """Only identity signs: the portal on A asks its identity service for the token."""
    cookies = portal_login(hosts, "app-a")
    page = hosts.direct("GET", "app-a", "/festivals", cookies=cookies)
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', page.text).group(1)  # as htmx sends it
    csrf = {"X-CSRFToken": token, "Referer": hosts.direct_url("app-a", "/festivals")}
    cookies.update(page.cookies.get_dict())  # the session now holds the CSRF token's secret
    minted = hosts.direct("POST", "app-a", "/account/upload-token", cookies=cookies, headers=csrf)
    assert minted.status_code == 200, minted.text
    upload(hosts, "files-b", minted.json()["access_token"], "lageplan.jpg")


def test_two_hosts_an_app_told_the_identity_url_signs_no_token(hosts):
    """Only identity signs: A's app holds no signing key, and what would sign or publish keys is refused with the
    envelope (what a client gets when the gateway sends identity.<domain> to the apps, no identity being live)."""
    email = hosts.seeded["creator_email"]
    attempts = {
        "token": hosts.direct("POST", "app-a", "/identity/token", json={"email": email, "password": PASSWORD}),
        "basic": hosts.direct("GET", "app-a", "/identity/users/login", auth=(email, PASSWORD)),
        "keys": hosts.direct("GET", "app-a", "/identity/.well-known/jwks.json"),
    }
    for name, answer in attempts.items():
        assert answer.status_code == 503, (name, answer.status_code, answer.text)
        assert (
            answer.json()["error"]
            == "tokens are signed by the identity service alone, which does not answer now; try again"
        )
    assert not (hosts.host_folder("a") / "app" / "identity-keys").exists()
    # the app still verifies identity's tokens and answers everything else of identity's routes
    me = hosts.direct(
        "GET", "app-a", "/identity/users/me", headers={"Authorization": f"Bearer {token_from(hosts, 'identity-a')}"}
    )
    assert me.status_code == 200 and me.json()["data"][0]["user_email"] == email, me.text


def test_two_hosts_killing_host_a_costs_readers_nothing(hosts):
    with Readers(lambda session: hosts.get("api", "/festivals", session=session, headers=hosts.api_headers)) as readers:
        try:
            time.sleep(2)
            hosts.kill_host("a")
            app_a = hosts.address("app-a")
            hosts.wait_until(lambda: app_a not in hosts.upstreams("api"), 30, "host A out of the upstreams")
            time.sleep(3)
            assert hosts.upstreams("api") == [hosts.address("app-b")]
        finally:
            readers.stop.set()
            start_host(hosts, "a")  # host A comes back for the tests after this one
            hosts.wait_until(lambda: every_instance_live(hosts), 120, "host A back in the upstreams")
    assert readers.failures == [], readers.failures
    assert readers.reads[0] > 30
