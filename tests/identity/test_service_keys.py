"""Service-Key: accepted on service routes only (the gateway's check of heartbeats), never on user routes."""

import pytest

from app.permissions import SYSTEM
from app.services import api_keys


@pytest.fixture
def service_key(factory):
    key, _ = api_keys.create_key("gateway", "service", SYSTEM)
    return key


def test_service_key_verify_accepts_a_valid_key(client, service_key):
    response = client.get("/identity/service-keys/verify", headers={"Service-Key": service_key})
    assert response.status_code == 200
    assert response.get_json()["data"][0]["key_comment"] == "gateway"


@pytest.mark.parametrize(
    "headers_of",
    [
        lambda factory, key: {},
        lambda factory, key: factory.api_key_headers(),
        lambda factory, key: factory.bearer(factory.user("admin")),
        lambda factory, key: {"Service-Key": "fs_00000000_forged"},
        lambda factory, key: {"Service-Key": factory.api_key_headers()["Api-Key"]},
    ],
)
def test_service_key_verify_needs_a_service_key(client, factory, service_key, headers_of):
    response = client.get("/identity/service-keys/verify", headers=headers_of(factory, service_key))
    assert response.status_code == 401
    assert "error" in response.get_json()


def test_revoked_service_key_is_refused(client, factory, service_key):
    admin = factory.user("admin")
    [row] = [row for row in api_keys.list_keys(factory.actor(admin), "service")]
    api_keys.revoke_key(row.id, kind="service")
    assert client.get("/identity/service-keys/verify", headers={"Service-Key": service_key}).status_code == 401


def test_service_key_refused_on_user_routes(client, service_key):
    for headers in ({"Service-Key": service_key}, {"Api-Key": service_key}, {"Authorization": f"Bearer {service_key}"}):
        assert client.get("/api/v1/festivals", headers=headers).status_code == 401
        assert client.get("/identity/users", headers=headers).status_code == 401
        assert client.get("/identity/users/me", headers=headers).status_code == 401


def test_users_me_names_the_caller(client, factory):
    creator = factory.user("creator")
    [me] = client.get("/identity/users/me", headers=factory.bearer(creator)).get_json()["data"]
    assert (me["user_id"], me["user_role"]) == (creator.id, "creator")
