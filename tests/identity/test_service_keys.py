"""Service-Key: accepted on service routes (heartbeats) only, never on user routes."""
import pytest

from app.permissions import SYSTEM
from app.services import api_keys


@pytest.fixture
def service_key(factory):
    key, _ = api_keys.create_key("gateway", "service", SYSTEM)
    return key


BEAT = {"service": "festivals-app", "host": "10.1.0.7", "port": 8080, "available": True}


def test_heartbeat_with_service_key_is_recorded(client, factory, service_key):
    response = client.post("/loversear", json=BEAT, headers={"Service-Key": service_key})
    assert response.status_code == 200
    assert response.get_json()["data"][0]["service"] == "festivals-app"
    client.post("/loversear", json={**BEAT, "available": False}, headers={"Service-Key": service_key})
    live = client.get("/loversear", headers=factory.bearer(factory.user("admin"))).get_json()["data"]
    assert [(s["host"], s["port"], s["available"]) for s in live] == [("10.1.0.7", 8080, False)]


@pytest.mark.parametrize("headers_of", [
    lambda factory, key: {},
    lambda factory, key: factory.api_key_headers(),
    lambda factory, key: factory.bearer(factory.user("admin")),
    lambda factory, key: {"Service-Key": "fs_00000000_forged"},
    lambda factory, key: {"Service-Key": factory.api_key_headers()["Api-Key"]},
])
def test_heartbeat_needs_a_service_key(client, factory, service_key, headers_of):
    response = client.post("/loversear", json=BEAT, headers=headers_of(factory, service_key))
    assert response.status_code == 401
    assert "error" in response.get_json()


def test_service_key_refused_on_user_routes(client, service_key):
    for headers in ({"Service-Key": service_key}, {"Api-Key": service_key},
                    {"Authorization": f"Bearer {service_key}"}):
        assert client.get("/api/v1/festivals", headers=headers).status_code == 401
        assert client.get("/identity/users", headers=headers).status_code == 401


@pytest.mark.parametrize("body", [{**BEAT, "port": 0}, {**BEAT, "host": "bad host/x"}, {**BEAT, "extra": 1},
                                  {"service": "x"}, [1]])
def test_bad_heartbeat_is_400(client, service_key, body):
    response = client.post("/loversear", json=body, headers={"Service-Key": service_key})
    assert response.status_code == 400


def test_live_services_admin_only(client, factory):
    assert client.get("/loversear", headers=factory.bearer(factory.user("creator"))).status_code == 403
