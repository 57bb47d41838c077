"""The file server beside the rest: the app's own identity keys (embedded default, shared instance folder),
a separate identity service's JWKS, and the app recording an image the file server stored."""

import hashlib
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import orjson
import pytest
import requests

from app.services import users
from common.jwks import JwksKeys
from identity.keys import KeyStore
from tests.factories import PASSWORD
from tests.fileserver.conftest import FileServer, image_bytes, server_env
from tests.identity.test_separate_identity import identity_process as identity_process  # noqa: PLC0414 (fixture)


@pytest.fixture
def jwks_server(tmp_path):
    """A stand-in identity service publishing a KeyStore's JWKS at /identity/.well-known/jwks.json."""
    keys = KeyStore(str(tmp_path / "remote-identity-keys"))
    fetches = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            if self.path == "/identity/users/me":  # every token of these tests belongs to a live creator
                body = orjson.dumps({"data": [{"user_id": 1, "user_role": "creator", "user_suspended": False}]})
            elif self.path == "/identity/.well-known/jwks.json":
                fetches.append(self.path)
                body = orjson.dumps(keys.jwks())
            else:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/identity", keys, fetches
    server.shutdown()
    server.server_close()


@pytest.mark.processes
def test_upload_verified_through_identity_jwks(jwks_server, tmp_path):
    identity_url, remote_keys, fetches = jwks_server
    instance = tmp_path / "files-instance"
    instance.mkdir()
    local_keys = KeyStore(str(instance / "identity-keys"))  # present, but not used when the URL is set
    files = FileServer(instance, remote_keys, server_env(instance, FESTIVALS_IDENTITY_URL=identity_url))
    try:
        assert files.upload(image_bytes(size=(80, 60))).status_code == 201
        assert fetches
        assert files.upload(image_bytes(size=(80, 60)), headers=files.bearer(keys=local_keys)).status_code == 401
        assert requests.get(f"{files.url}/info", timeout=5).json()["token_keys"] == "jwks"
    finally:
        files.stop()


def test_jwks_keys_are_fetched_again_for_an_unknown_key_id(jwks_server):
    identity_url, remote_keys, fetches = jwks_server
    source = JwksKeys(identity_url, min_interval=0)
    first = remote_keys.current
    assert source.public_key(first.kid) is not None
    rotated = remote_keys.generate()
    assert rotated.kid != first.kid
    assert source.public_key(rotated.kid) is not None  # the new key id triggered a fetch
    assert len(fetches) == 2
    assert source.public_key("never-issued") is None


@pytest.mark.processes
def test_image_from_file_server_is_recorded_by_the_app(app, client, factory):
    """The embedded default: the file server finds the app's identity keys in the shared instance folder,
    so the app's own tokens work on both; the app then records the file server's hash and URL."""
    instance = Path(app.instance_path)
    creator = factory.user("creator")
    headers = factory.bearer(creator)
    files = FileServer(instance, None, server_env(instance, FESTIVALS_FILES_URL="http://files.example.test"))
    try:
        uploaded = files.upload(image_bytes(size=(640, 480)), headers=headers)
        assert uploaded.status_code == 201, uploaded.text
        [stored] = uploaded.json()["data"]
        assert stored["image_ref"] == f"http://files.example.test/images/{stored['image_hash']}"

        created = client.post(
            "/api/v1/images",
            headers=headers,
            json={"image_hash": stored["image_hash"], "image_ref": stored["image_ref"], "image_comment": "poster"},
        )
        assert created.status_code == 201, created.get_data(as_text=True)
        image_id = created.get_json()["data"][0]["image_id"]

        [read] = client.get(f"/api/v1/images/{image_id}", headers=headers).get_json()["data"]
        assert (read["image_hash"], read["image_ref"], read["image_comment"]) == (
            stored["image_hash"],
            stored["image_ref"],
            "poster",
        )
        fetched = requests.get(f"{files.url}/images/{read['image_hash']}", timeout=5)
        assert hashlib.sha256(fetched.content).hexdigest() == read["image_hash"]
        user_token = factory.bearer(factory.user("user"))
        assert files.upload(image_bytes(size=(64, 64)), headers=user_token).status_code == 403
    finally:
        files.stop()


def test_an_ended_login_or_a_lost_role_stops_uploads_and_deletes(identity_process, factory, tmp_path):
    """Issue 13, findings 4 and 12: the file server asks the identity process (real HTTP) whether the
    token's login is live and what the role is now; suspension, logout and demotion apply within
    FESTIVALS_ACCOUNT_CHECK_SECONDS (0.5 here), not at token expiry."""
    base, _, _ = identity_process
    instance = tmp_path / "files-instance"
    instance.mkdir()
    files = FileServer(
        instance,
        None,
        server_env(instance, FESTIVALS_IDENTITY_URL=f"{base}/identity", FESTIVALS_ACCOUNT_CHECK_SECONDS="0.5"),
    )
    creator = factory.user("creator")
    admin = factory.actor(factory.user("admin"))

    def login() -> dict:
        body = requests.post(
            f"{base}/identity/token", json={"email": creator.email, "password": PASSWORD}, timeout=10
        ).json()
        return {"Authorization": f"Bearer {body['access_token']}", "refresh": body["refresh_token"]}

    def upload(headers: dict) -> requests.Response:
        return files.upload(image_bytes(size=(64, 64)), headers={"Authorization": headers["Authorization"]})

    try:
        headers = login()
        first = upload(headers)
        assert first.status_code == 201, first.text
        digest = first.json()["data"][0]["image_hash"]

        users.set_role(admin, creator.id, "user")  # demoted: the token still says "creator"
        time.sleep(0.6)
        assert upload(headers).status_code == 403
        users.set_role(admin, creator.id, "creator")
        time.sleep(0.6)
        assert upload(headers).status_code == 201

        requests.post(f"{base}/identity/logout", json={"refresh_token": headers["refresh"]}, timeout=10)
        time.sleep(0.6)
        assert upload(headers).status_code == 401

        headers = login()
        assert upload(headers).status_code == 201
        users.set_suspended(admin, creator.id, True)
        time.sleep(0.6)
        assert upload(headers).status_code == 401
        deleted = requests.delete(
            f"{files.url}/images/{digest}", headers={"Authorization": headers["Authorization"]}, timeout=10
        )
        assert deleted.status_code == 401
        assert requests.get(f"{files.url}/images/{digest}", timeout=10).status_code == 200
    finally:
        files.stop()
