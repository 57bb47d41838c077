"""The API verifying tokens of an identity service running as its own process (real HTTP, JWKS)."""

import os
import subprocess
import sys
import time
import urllib.request

import jwt
import orjson
import pytest

from app import ROOT
from common.launch import process_env
from tests.factories import PASSWORD
from tests.processes import Gunicorn, app_env, starts_process


@pytest.fixture
@starts_process
def identity_process(database_url, tmp_path):
    """`gunicorn wsgi:identity_app` with its own instance folder (its own signing keys)."""
    instance = tmp_path / "identity-instance"
    env = app_env(instance, database_url)
    server = Gunicorn("identity", tmp_path, env, workers=1, threads=1, name="identity", hooks=False, seconds=20)
    try:
        yield server.url, instance, env
    finally:
        server.stop()


def post_json(url: str, body: dict) -> dict:
    request = urllib.request.Request(url, data=orjson.dumps(body), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=5) as response:
        return orjson.loads(response.read())


def test_api_accepts_tokens_of_separate_identity_process(identity_process, make_app, factory, tmp_path):
    base, _, _ = identity_process
    user = factory.user("creator")
    token = post_json(f"{base}/identity/token", {"email": user.email, "password": PASSWORD})["access_token"]
    api = make_app(INSTANCE_PATH=str(tmp_path / "api-instance"), IDENTITY_URL=f"{base}/identity")
    client = api.test_client()
    assert (
        client.post(
            "/api/v1/tags", json={"tag_name": "Remote"}, headers={"Authorization": f"Bearer {token}"}
        ).status_code
        == 201
    )
    # a token signed with the API process's own key is not one the identity service issued
    local = factory.token(user)
    assert jwt.get_unverified_header(local)["kid"] != jwt.get_unverified_header(token)["kid"]
    assert client.get("/api/v1/tags", headers={"Authorization": f"Bearer {local}"}).status_code == 401


def _jwks_kids(base: str) -> list[str]:
    with urllib.request.urlopen(f"{base}/identity/.well-known/jwks.json", timeout=5) as response:
        return [key["kid"] for key in orjson.loads(response.read())["keys"]]


def test_api_refetches_keys_after_identity_rotation(identity_process, make_app, factory, tmp_path):
    base, instance, env = identity_process
    user = factory.user("creator")
    api = make_app(INSTANCE_PATH=str(tmp_path / "api-instance"), IDENTITY_URL=f"{base}/identity")
    client = api.test_client()
    before = post_json(f"{base}/identity/token", {"email": user.email, "password": PASSWORD})["access_token"]
    assert client.get("/api/v1/tags", headers={"Authorization": f"Bearer {before}"}).status_code == 200
    rotated = subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), "flask"), "--app", "wsgi:identity_app", "rotate-keys"],
        cwd=ROOT,
        env=process_env(env),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert rotated.returncode == 0, rotated.stderr
    api.extensions["token_verifier"].min_interval = 0  # allow the refetch at once (default: at most every 10 s)
    # The identity process looks at its key folder every five seconds: wait until its published keys lead with
    # a new one (JWKS, not the rate-limited token route) instead of sleeping a fixed time that a busy machine
    # may overrun.
    old_kid = jwt.get_unverified_header(before)["kid"]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and _jwks_kids(base)[0] == old_kid:
        time.sleep(0.25)
    after = post_json(f"{base}/identity/token", {"email": user.email, "password": PASSWORD})["access_token"]
    assert jwt.get_unverified_header(after)["kid"] != jwt.get_unverified_header(before)["kid"]
    for token in (before, after):
        assert client.get("/api/v1/tags", headers={"Authorization": f"Bearer {token}"}).status_code == 200


@pytest.mark.processes
def test_identity_app_alone_loads_no_api_or_portal_module(tmp_path):
    """The identity service runs as its own process without the API or the portal: a fresh interpreter
    building create_identity_app() has imported none of their modules."""
    script = (
        "import sys\nfrom app import create_identity_app\napp = create_identity_app()\n"
        "print(app.url_map.converters['id'].__module__)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('api', 'portal', 'fileserver')))"
    )
    env = process_env(
        {
            "FESTIVALS_INSTANCE_PATH": str(tmp_path / "instance"),
            "FESTIVALS_DATABASE_URL": f"sqlite:///{tmp_path}/identity.sqlite3",
        }
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:2] == ["web.converters", "[]"]
