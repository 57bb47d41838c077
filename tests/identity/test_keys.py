"""API keys and service keys administration; signing key rotation."""

import time

import jwt
import pytest

from app.db import db
from app.models import ApiKey, AuditEntry
from app.services.api_keys import KEY_USE


@pytest.mark.parametrize("path, kind", [("api-keys", "api"), ("service-keys", "service")])
def test_admin_creates_lists_and_revokes_keys(client, factory, app, path, kind):
    admin = factory.user("admin")
    headers = factory.bearer(admin)
    created = client.post(f"/identity/{path}", json={"comment": "ios app"}, headers=headers)
    assert created.status_code == 201
    entry = created.get_json()["data"][0]
    key = entry["key"]
    assert key.startswith(entry["key_prefix"] + "_")
    listed = client.get(f"/identity/{path}", headers=headers).get_json()["data"]
    assert [k["key_prefix"] for k in listed] == [entry["key_prefix"]]
    assert "key" not in listed[0]  # shown once, at creation
    with app.app_context(), db.connection_context():
        stored = ApiKey.get_by_id(entry["key_id"])
        assert stored.kind == kind and key not in stored.key_hash
    assert client.delete(f"/identity/{path}/{entry['key_id']}", headers=headers).get_json() == {"data": []}
    assert client.get(f"/identity/{path}", headers=headers).get_json()["data"][0]["key_revoked"] is not None
    with app.app_context(), db.connection_context():
        actions = [e.action for e in AuditEntry.select().where(AuditEntry.entity == f"{kind}_key")]
    assert actions == ["create", "revoke"]


def test_api_key_works_until_revoked_and_records_last_use(client, factory):
    admin = factory.user("admin")
    headers = factory.bearer(admin)
    entry = client.post("/identity/api-keys", json={"comment": "app"}, headers=headers).get_json()["data"][0]
    assert entry["key_last_used"] is None
    assert client.get("/api/v1/festivals", headers={"Api-Key": entry["key"]}).status_code == 200
    assert KEY_USE.flush() == 1  # written off the request path (app/services/api_keys.py)
    assert client.get("/identity/api-keys", headers=headers).get_json()["data"][0]["key_last_used"] is not None
    client.delete(f"/identity/api-keys/{entry['key_id']}", headers=headers)
    assert client.get("/api/v1/festivals", headers={"Api-Key": entry["key"]}).status_code == 401


def test_service_key_is_not_an_api_key(client, factory):
    admin = factory.user("admin")
    key = client.post("/identity/service-keys", json={"comment": "gateway"}, headers=factory.bearer(admin)).get_json()[
        "data"
    ][0]["key"]
    assert client.get("/api/v1/festivals", headers={"Api-Key": key}).status_code == 401
    assert client.get("/api/v1/festivals", headers={"Service-Key": key}).status_code == 401


def test_key_administration_is_admin_only(client, factory):
    creator = factory.user("creator")
    assert client.post("/identity/api-keys", json={"comment": "x"}, headers=factory.bearer(creator)).status_code == 403
    assert client.get("/identity/service-keys", headers=factory.bearer(creator)).status_code == 403
    assert client.delete("/identity/api-keys/1", headers=factory.bearer(creator)).status_code == 403


def test_revoking_unknown_or_wrong_kind_key_is_404(client, factory):
    admin = factory.user("admin")
    headers = factory.bearer(admin)
    service = client.post("/identity/service-keys", json={"comment": "s"}, headers=headers).get_json()["data"][0]
    assert client.delete(f"/identity/api-keys/{service['key_id']}", headers=headers).status_code == 404
    assert client.delete("/identity/api-keys/9999", headers=headers).status_code == 404


def test_rotated_key_signs_and_old_key_still_verifies(app, client, factory):
    user = factory.user("creator")
    old_token = factory.token(user)
    result = app.test_cli_runner().invoke(args=["rotate-keys"])
    assert result.exit_code == 0, result.output
    new_token = factory.token(user)
    assert jwt.get_unverified_header(new_token)["kid"] != jwt.get_unverified_header(old_token)["kid"]
    for token in (old_token, new_token):
        assert client.get("/api/v1/festivals", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    kids = [k["kid"] for k in client.get("/identity/.well-known/jwks.json").get_json()["keys"]]
    assert kids == [jwt.get_unverified_header(new_token)["kid"], jwt.get_unverified_header(old_token)["kid"]]


def test_an_app_told_the_identity_url_holds_no_key_to_rotate(make_app, tmp_path):
    """Only identity signs: the app verifies that service's tokens and says where the keys are rotated."""
    told = make_app(INSTANCE_PATH=str(tmp_path / "told"), IDENTITY_URL="https://identity.festivals.example/identity")
    result = told.test_cli_runner().invoke(args=["rotate-keys"])
    assert result.exit_code == 1
    assert "the identity service at https://identity.festivals.example/identity signs" in result.output
    assert "flask --app wsgi:identity_app rotate-keys" in result.output
    assert not (tmp_path / "told" / "identity-keys").exists()


def test_retired_key_leaves_the_published_keys(make_app):
    short = make_app(ACCESS_TOKEN_TTL=1)  # tokens live one second, so a replaced key retires after one
    old_kid = short.extensions["identity_keys"].current.kid
    short.extensions["identity_keys"].rotate()
    still = [k["kid"] for k in short.test_client().get("/identity/.well-known/jwks.json").get_json()["keys"]]
    assert old_kid in still
    time.sleep(1.2)
    restarted = make_app(ACCESS_TOKEN_TTL=1)
    published = [k["kid"] for k in restarted.test_client().get("/identity/.well-known/jwks.json").get_json()["keys"]]
    assert old_kid not in published and len(published) == 1
    assert restarted.extensions["identity_keys"].public_key(old_kid) is None


def test_rotation_seen_by_a_running_process(make_app, factory):
    first, second = make_app(), make_app()  # two processes sharing the instance folder
    first.extensions["identity_keys"].rotate()
    config = first.config
    from app.services import sessions
    from common.access_tokens import issue_access_token

    user = factory.user("creator")
    token = issue_access_token(
        user,
        first.extensions["identity_keys"],
        issuer=config["TOKEN_ISSUER"],
        audience=config["TOKEN_AUDIENCE"],
        ttl=60,
        sid=sessions.start_login(user, "test", 60),
    )
    response = second.test_client().get("/api/v1/festivals", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
