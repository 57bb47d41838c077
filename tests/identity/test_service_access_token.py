"""POST /identity/service/access-token: an app instance (Service-Key) asks identity for a short token of a live
portal login, so that only identity signs (web/login_tokens.py token_for_login)."""

from __future__ import annotations

import pytest

from app.permissions import SYSTEM
from app.services import api_keys, sessions


@pytest.fixture
def service_key(app):
    with app.app_context():
        key, _ = api_keys.create_key("Festspielhaus Würzburg Instanz", "service", SYSTEM)
    return {"Service-Key": key}


@pytest.fixture
def live_login(app, factory):
    user = factory.user("creator", email="jürgen.müller@festspiele.example")
    return user, sessions.start_login(user, "portal", 3600)


def test_service_access_token_of_a_live_login_verifies(client, service_key, live_login):
    user, sid = live_login
    answer = client.post("/identity/service/access-token", json={"user_id": user.id, "sid": sid}, headers=service_key)
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["expires_in"] == 300
    me = client.get("/identity/users/me", headers={"Authorization": f"Bearer {answer.get_json()['access_token']}"})
    assert me.status_code == 200 and me.get_json()["data"][0]["user_email"] == user.email


@pytest.mark.parametrize("headers", [{}, {"Service-Key": "fa_nope"}])
def test_service_access_token_without_a_valid_service_key_is_401(client, live_login, headers):
    user, sid = live_login
    answer = client.post("/identity/service/access-token", json={"user_id": user.id, "sid": sid}, headers=headers)
    assert answer.status_code == 401 and "Service-Key" in answer.get_json()["error"]


def test_service_access_token_of_an_ended_login_is_401(client, factory, service_key, live_login):
    user, sid = live_login
    sessions.end_login(sid, factory.actor(user))
    answer = client.post("/identity/service/access-token", json={"user_id": user.id, "sid": sid}, headers=service_key)
    assert answer.status_code == 401


@pytest.mark.parametrize("ttl", [0, 301, "60", True])
def test_service_access_token_with_a_bad_ttl_is_400(client, service_key, live_login, ttl):
    user, sid = live_login
    body = {"user_id": user.id, "sid": sid, "ttl": ttl}
    answer = client.post("/identity/service/access-token", json=body, headers=service_key)
    assert answer.status_code == 400 and "ttl" in answer.get_json()["error"]
