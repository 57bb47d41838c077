"""Internal ports speak mTLS: gunicorn of the app, the identity service and the file server refuse a
connection without a client certificate of our CA during the handshake, before any handler runs."""

from __future__ import annotations

import itertools

import pytest
import requests

from app.services import sessions
from common.access_tokens import issue_access_token
from identity.keys import KeyStore
from tests.fileserver.conftest import image_bytes

pytestmark = pytest.mark.processes  # one test asks for its server by name (getfixturevalue)

_attempts = itertools.count()


@pytest.fixture(scope="module")
def identity(serve):
    return serve("wsgi:identity_app", "identity")


@pytest.fixture(scope="module")
def files(serve, identity):
    """The file server verifies tokens with the identity process's JWKS, fetched over mTLS."""
    return serve("wsgi:files", "files", FESTIVALS_IDENTITY_URL=f"{identity.url}/identity")


@pytest.fixture(scope="module")
def app_server(serve):
    return serve("wsgi:app", "app")


def identity_token(identity, user, sid: str) -> str:
    """A token signed with the identity process's own key (from its instance folder), of the login `sid`."""
    keys = KeyStore(str(identity.instance / "identity-keys"))
    return issue_access_token(user, keys, issuer="festivals-identity", audience="festivals", ttl=300, sid=sid)


@pytest.mark.parametrize("service", ["app_server", "identity", "files"])
def test_internal_port_refuses_clients_without_a_valid_certificate(service, request, certs):
    server = request.getfixturevalue(service)
    run = next(_attempts)
    refused = {
        "no-certificate": (None, "certificate required"),
        "other-ca": (certs.intruder, "unknown ca"),
        "expired": (certs.client("old"), "certificate expired"),
    }
    for attempt, (client_cert, alert) in refused.items():
        with pytest.raises(requests.exceptions.ConnectionError, match=alert):
            requests.get(f"{server.url}/ready?attempt={attempt}-{run}", verify=certs.ca, cert=client_cert, timeout=5)
    served = requests.get(
        f"{server.url}/ready?attempt=gateway-{run}", verify=certs.ca, cert=certs.client("gateway"), timeout=5
    )
    assert served.status_code == 200 and served.json()["status"] == "ready"
    log = server.output(waiting_for=f"/ready?attempt=gateway-{run}")
    assert f"/ready?attempt=gateway-{run}" in log  # the access log has the served request ...
    for attempt in refused:
        assert f"attempt={attempt}-{run}" not in log  # ... and none of the refused ones reached a handler


def test_plain_http_to_internal_port_is_refused(identity):
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(identity.url.replace("https:", "http:") + "/health", timeout=5)


def test_token_verified_through_jwks_over_mtls(identity, files, certs):
    """The file server fetches the identity process's JWKS with its own client certificate and accepts the
    token signed with the identity process's key."""
    account = {"email": f"mtls{next(_attempts)}@example.org", "password": "a long enough password"}
    tls = {"verify": certs.ca, "cert": certs.client("gateway"), "timeout": 30}
    assert requests.post(f"{identity.url}/identity/users/signup", json=account, **tls).status_code == 201
    token = requests.post(f"{identity.url}/identity/token", json=account, **tls).json()["access_token"]
    response = requests.post(
        f"{files.url}/images/upload",
        files={"image": ("a.jpg", image_bytes(), "image/jpeg")},
        headers={"Authorization": f"Bearer {token}"},
        verify=certs.ca,
        cert=certs.client("gateway"),
        timeout=30,
    )
    assert response.status_code == 201, response.text
    assert "/identity/.well-known/jwks.json" in identity.output(waiting_for="jwks.json")


def test_jwks_fetch_needs_the_client_certificate(identity, certs, factory, make_app, tmp_path):
    """The API verifying through the identity process: with its certificate the token is accepted; without
    one the JWKS fetch is refused, so the same token is not."""
    user = factory.user("creator")
    bearer = {"Authorization": f"Bearer {identity_token(identity, user, sessions.start_login(user, 'test', 300))}"}
    app_tls = certs.files("app")
    with_cert = make_app(
        INSTANCE_PATH=str(tmp_path / "with"),
        IDENTITY_URL=f"{identity.url}/identity",
        TLS_CERT=app_tls.cert,
        TLS_KEY=app_tls.key,
        TLS_CA=app_tls.ca,
    )
    assert with_cert.test_client().get("/api/v1/tags", headers=bearer).status_code == 200
    without = make_app(INSTANCE_PATH=str(tmp_path / "without"), IDENTITY_URL=f"{identity.url}/identity")
    assert without.test_client().get("/api/v1/tags", headers=bearer).status_code == 401
