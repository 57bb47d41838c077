"""The Go services' identity calls that old clients still send (issue 22)."""

from app.db import db
from app.models import User
from tests.factories import PASSWORD


def bearer(client, email, password=PASSWORD) -> dict:
    token = client.post("/identity/token", json={"email": email, "password": password}).get_json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


def role_of(app, user_id) -> str:
    with app.app_context(), db.connection_context():
        return User.get_by_id(user_id).role


def test_go_role_codes_set_admin_and_creator(client, factory, app):
    admin, user = factory.user("admin"), factory.user("user")
    headers = bearer(client, admin.email)
    made_admin = client.post(f"/identity/users/{user.id}/role/42", headers=headers)
    assert made_admin.status_code == 200 and made_admin.get_json()["data"][0]["user_role"] == "admin"
    assert client.post(f"/identity/users/{user.id}/role/1", headers=headers).status_code == 200
    assert role_of(app, user.id) == "creator"


def test_go_role_code_unknown_or_by_a_creator_is_refused(client, factory, app):
    creator, user = factory.user("creator"), factory.user("user")
    assert client.post(f"/identity/users/{user.id}/role/42", headers=bearer(client, creator.email)).status_code == 403
    admin = factory.user("admin")
    refused = client.post(f"/identity/users/{user.id}/role/2", headers=bearer(client, admin.email))
    assert refused.status_code == 400 and "role must be one of" in refused.get_json()["error"]
    assert role_of(app, user.id) == "user"


def test_go_change_password_with_the_old_body(client, factory):
    user = factory.user("creator", email="jörg.schäfer@ueberschall.example")
    headers = bearer(client, user.email)
    path = f"/identity/users/{user.id}/change-password"
    new = "Neues-Passwort-2026"
    short = client.post(path, headers=headers, json={"old-password": PASSWORD, "new-password": "kurz"})
    assert short.status_code == 400 and "at least 10 characters" in short.get_json()["error"]
    wrong = client.post(path, headers=headers, json={"old-password": "falsch-falsch", "new-password": new})
    assert wrong.status_code == 400 and "current password is wrong" in wrong.get_json()["error"]
    missing = client.post(path, headers=headers, json={"old_password": PASSWORD, "new_password": new})
    assert missing.status_code == 400 and "old-password and new-password are required" in missing.get_json()["error"]
    changed = client.post(path, headers=headers, json={"old-password": PASSWORD, "new-password": new})
    assert changed.status_code == 200
    assert client.post("/identity/token", json={"email": user.email, "password": PASSWORD}).status_code == 401
    assert client.post("/identity/token", json={"email": user.email, "password": new}).status_code == 200


def test_go_change_password_of_another_user_is_forbidden(client, factory):
    user, other = factory.user("creator"), factory.user("creator")
    answer = client.post(
        f"/identity/users/{other.id}/change-password",
        headers=bearer(client, user.email),
        json={"old-password": PASSWORD, "new-password": "Neues-Passwort-2026"},
    )
    assert answer.status_code == 403
    assert client.post(f"/identity/users/{other.id}/change-password", json={}).status_code == 401
