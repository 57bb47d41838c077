"""Identity core: password login for tokens, the Basic-auth login of old clients, published keys."""

import base64

import jwt
import pytest

from tests.factories import PASSWORD


def _basic(email, password):
    return {"Authorization": "Basic " + base64.b64encode(f"{email}:{password}".encode()).decode()}


def test_token_with_password_returns_working_bearer(client, factory):
    user = factory.user("creator")
    response = client.post("/identity/token", json={"email": user.email, "password": PASSWORD})
    assert response.status_code == 200
    body = response.get_json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 900
    created = client.post(
        "/api/v1/tags", json={"tag_name": "Jazz"}, headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert created.status_code == 201


def test_token_claims_and_header(client, factory, app):
    user = factory.user("admin")
    token = client.post("/identity/token", json={"email": user.email, "password": PASSWORD}).get_json()["access_token"]
    header = jwt.get_unverified_header(token)
    claims = jwt.decode(token, options={"verify_signature": False})
    assert header["alg"] == "EdDSA" and header["kid"]
    assert claims["sub"] == str(user.id) and claims["role"] == "admin"
    assert claims["iss"] == app.config["TOKEN_ISSUER"] and claims["aud"] == app.config["TOKEN_AUDIENCE"]
    assert claims["exp"] - claims["iat"] == 900 and claims["jti"]


@pytest.mark.parametrize(
    "email_of, password",
    [
        (lambda user: user.email, "wrong password!"),
        (lambda user: "nobody@example.org", PASSWORD),
    ],
)
def test_token_bad_credentials_same_401(client, factory, email_of, password):
    user = factory.user("creator")
    response = client.post("/identity/token", json={"email": email_of(user), "password": password})
    assert response.status_code == 401
    assert response.get_json() == {"error": "the email or password is wrong"}
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("body", [b"not json", b"[]", b'{"email": 1, "password": 2}', b"{}"])
def test_token_malformed_body_is_400(client, body):
    response = client.post("/identity/token", data=body, content_type="application/json")
    assert response.status_code == 400
    assert "error" in response.get_json()


def test_basic_login_answers_raw_jwt(client, factory):
    user = factory.user("creator")
    response = client.get("/identity/users/login", headers=_basic(user.email, PASSWORD))
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    token = response.get_data(as_text=True)
    assert client.get("/api/v1/festivals", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_basic_login_wrong_password_is_401(client, factory):
    user = factory.user("creator")
    response = client.get("/identity/users/login", headers=_basic(user.email, "nope nope nope"))
    assert response.status_code == 401
    assert "error" in response.get_json()


def test_basic_login_malformed_header_is_401(client):
    response = client.get("/identity/users/login", headers={"Authorization": "Basic !!!"})
    assert response.status_code == 401


def test_suspended_user_cannot_get_token(client, factory, app):
    from app.db import db
    from app.models import User

    user = factory.user("creator")
    with app.app_context(), db.connection_context():
        User.update(suspended=True).where(User.id == user.id).execute()
    response = client.post("/identity/token", json={"email": user.email, "password": PASSWORD})
    assert response.status_code == 401


def test_jwks_and_pem_verify_issued_tokens(client, factory):
    user = factory.user("creator")
    token = factory.token(user)
    jwks = client.get("/identity/.well-known/jwks.json").get_json()
    [key] = jwks["keys"]
    assert key["kty"] == "OKP" and key["crv"] == "Ed25519" and key["kid"] == jwt.get_unverified_header(token)["kid"]
    public = jwt.PyJWK(key).key
    assert jwt.decode(token, public, algorithms=["EdDSA"], audience="festivals")["sub"] == str(user.id)
    pem = client.get("/identity/validation-key").get_data()
    assert jwt.decode(token, pem, algorithms=["EdDSA"], audience="festivals")["sub"] == str(user.id)


def test_signing_key_survives_restart(make_app, factory):
    token = factory.token(factory.user("creator"))
    second = make_app()  # same instance folder: the key generated on first start is reused
    response = second.test_client().get("/api/v1/festivals", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200


def test_identity_unknown_path_uses_envelope(client):
    response = client.get("/identity/nope")
    assert response.status_code == 404
    assert response.get_json() == {"error": "not found"}


def test_token_with_nul_in_email_is_plain_401(client):
    response = client.post("/identity/token", json={"email": "a\x00b@example.org", "password": PASSWORD})
    assert response.status_code == 401
