"""Accounts and sessions: refresh-token rotation, logout, signup, passwords, suspension, roles."""

import pytest

from app.db import db
from app.models import AuditEntry, User
from tests.factories import PASSWORD


def login(client, email, password=PASSWORD):
    return client.post("/identity/token", json={"email": email, "password": password})


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def audit_actions(app, entity="user"):
    with app.app_context(), db.connection_context():
        return [e.action for e in AuditEntry.select().where(AuditEntry.entity == entity).order_by(AuditEntry.id)]


def test_refresh_token_rotates(client, factory):
    user = factory.user("creator")
    first = login(client, user.email).get_json()
    second = client.post("/identity/token", json={"refresh_token": first["refresh_token"]})
    assert second.status_code == 200
    body = second.get_json()
    assert body["refresh_token"] != first["refresh_token"]
    assert client.get("/api/v1/festivals", headers=bearer(body["access_token"])).status_code == 200
    third = client.post("/identity/token", json={"refresh_token": body["refresh_token"]})
    assert third.status_code == 200


def test_refresh_token_reuse_revokes_family(client, factory, app):
    user = factory.user("creator")
    first = login(client, user.email).get_json()["refresh_token"]
    second = client.post("/identity/token", json={"refresh_token": first}).get_json()["refresh_token"]
    reuse = client.post("/identity/token", json={"refresh_token": first})  # stolen copy used again
    assert reuse.status_code == 401
    # the legitimate holder's newer token is dead too: the whole login is revoked
    assert client.post("/identity/token", json={"refresh_token": second}).status_code == 401
    assert "refresh_revoked" in audit_actions(app)


def test_other_logins_survive_a_reuse(client, factory):
    user = factory.user("creator")
    stolen = login(client, user.email).get_json()["refresh_token"]
    other = login(client, user.email).get_json()["refresh_token"]
    client.post("/identity/token", json={"refresh_token": stolen})
    client.post("/identity/token", json={"refresh_token": stolen})
    assert client.post("/identity/token", json={"refresh_token": other}).status_code == 200


@pytest.mark.parametrize("token", ["nonsense", "", 42, None])
def test_refresh_token_invalid_is_401(client, token):
    response = client.post("/identity/token", json={"refresh_token": token})
    assert response.status_code == 401
    assert "error" in response.get_json()


def test_refresh_token_expired_is_401(make_app, factory):
    short = make_app(REFRESH_TOKEN_TTL=-1)
    client = short.test_client()
    user = factory.user("creator")
    tokens = client.post("/identity/token", json={"email": user.email, "password": PASSWORD}).get_json()
    refresh = tokens["refresh_token"]
    assert client.post("/identity/token", json={"refresh_token": refresh}).status_code == 401


def test_logout_revokes_refresh_token(client, factory):
    user = factory.user("creator")
    tokens = login(client, user.email).get_json()
    response = client.post(
        "/identity/logout", json={"refresh_token": tokens["refresh_token"]}, headers=bearer(tokens["access_token"])
    )
    assert response.get_json() == {"data": []}
    assert client.post("/identity/token", json={"refresh_token": tokens["refresh_token"]}).status_code == 401


def test_compatible_refresh_gives_fresh_access_token(client, factory):
    user = factory.user("creator")
    access = login(client, user.email).get_json()["access_token"]
    response = client.get("/identity/users/refresh", headers=bearer(access))
    assert response.status_code == 200 and response.mimetype == "text/plain"
    fresh = response.get_data(as_text=True)
    assert fresh != access
    assert client.get("/api/v1/festivals", headers=bearer(fresh)).status_code == 200
    assert client.get("/identity/users/refresh").status_code == 401


def test_signup_creates_creator_who_can_create(client):
    response = client.post("/identity/users/signup", json={"email": "New@Example.org", "password": "a long password"})
    assert response.status_code == 201
    assert response.get_json() == {"data": [{"user_email": "new@example.org"}]}
    token = login(client, "new@example.org", "a long password").get_json()["access_token"]
    assert client.post("/api/v1/tags", json={"tag_name": "Jazz"}, headers=bearer(token)).status_code == 201


def test_signup_role_is_configurable(make_app):
    client = make_app(SIGNUP_ROLE="user").test_client()
    client.post("/identity/users/signup", json={"email": "u@example.org", "password": "a long password"})
    token = login(client, "u@example.org", "a long password").get_json()["access_token"]
    assert client.post("/api/v1/tags", json={"tag_name": "Jazz"}, headers=bearer(token)).status_code == 403


def test_signup_switched_off(make_app):
    client = make_app(SIGNUP=False).test_client()
    response = client.post("/identity/users/signup", json={"email": "x@example.org", "password": "a long password"})
    assert response.status_code == 403
    assert login(client, "x@example.org", "a long password").status_code == 401


def test_signup_existing_email_answers_the_same_and_changes_nothing(client, factory):
    user = factory.user("creator")
    response = client.post("/identity/users/signup", json={"email": user.email, "password": "another password"})
    assert response.status_code == 201
    assert response.get_json() == {"data": [{"user_email": user.email}]}
    assert login(client, user.email).status_code == 200  # the old password still works
    assert login(client, user.email, "another password").status_code == 401


@pytest.mark.parametrize(
    "body, field",
    [
        ({"email": "a@example.org", "password": "short"}, "password"),
        ({"email": "longpassword@example.org", "password": "longpassword@example.org"}, "password"),
        ({"email": "not an email", "password": "a long password"}, "email"),
        ({"email": "a@example.org"}, "password"),
    ],
)
def test_signup_rules_have_clear_messages(client, body, field):
    response = client.post("/identity/users/signup", json=body)
    assert response.status_code == 400
    assert field in response.get_json()["fields"]


def test_password_change(client, factory):
    user = factory.user("creator")
    headers = factory.bearer(user)
    change = {"old_password": "nope nope nope", "new_password": "brand new password"}
    wrong = client.post("/identity/users/password", json=change, headers=headers)
    assert wrong.status_code == 400 and "old_password" in wrong.get_json()["fields"]
    ok = client.post(
        "/identity/users/password",
        json={"old_password": PASSWORD, "new_password": "brand new password"},
        headers=headers,
    )
    assert ok.status_code == 200
    assert login(client, user.email).status_code == 401
    assert login(client, user.email, "brand new password").status_code == 200


def test_suspended_user_token_refused_and_refresh_dead(client, factory):
    admin, user = factory.user("admin"), factory.user("creator")
    tokens = login(client, user.email).get_json()
    assert client.post(f"/identity/users/{user.id}/suspend", headers=factory.bearer(admin)).status_code == 200
    # the access token has not expired, yet the API refuses it
    assert client.get("/api/v1/festivals", headers=bearer(tokens["access_token"])).status_code == 401
    assert client.post("/identity/token", json={"refresh_token": tokens["refresh_token"]}).status_code == 401
    assert login(client, user.email).status_code == 401
    client.post(f"/identity/users/{user.id}/unsuspend", headers=factory.bearer(admin))
    assert login(client, user.email).status_code == 200


def test_role_change_takes_effect_on_existing_token(client, factory, app):
    admin, user = factory.user("admin"), factory.user("user")
    token = factory.bearer(user)
    assert client.post("/api/v1/tags", json={"tag_name": "A"}, headers=token).status_code == 403
    response = client.post(f"/identity/users/{user.id}/role/creator", headers=factory.bearer(admin))
    assert response.get_json()["data"][0]["user_role"] == "creator"
    assert client.post("/api/v1/tags", json={"tag_name": "A"}, headers=token).status_code == 201
    assert "role" in audit_actions(app)


def test_user_admin_is_admin_only(client, factory):
    creator, other = factory.user("creator"), factory.user("creator")
    headers = factory.bearer(creator)
    assert client.get("/identity/users", headers=headers).status_code == 403
    assert client.post(f"/identity/users/{other.id}/role/admin", headers=headers).status_code == 403
    assert client.post(f"/identity/users/{other.id}/suspend", headers=headers).status_code == 403
    assert client.get("/identity/users").status_code == 401
    assert client.get("/identity/users", headers=factory.api_key_headers()).status_code == 401


def test_user_list_search_and_paging(client, factory):
    admin = factory.user("admin", email="boss@example.org")
    for n in range(3):
        factory.user("creator", email=f"team{n}@festival.example")
    response = client.get("/identity/users?search=festival.example&limit=2", headers=factory.bearer(admin))
    emails = [u["user_email"] for u in response.get_json()["data"]]
    assert emails == ["team0@festival.example", "team1@festival.example"]
    assert response.headers["X-Total-Count"] == "3"
    assert "password" not in str(response.get_json())


@pytest.mark.parametrize(
    "query, field", [("limit=0", "limit"), ("limit=5000", "limit"), ("offset=-1", "offset"), ("limit=x", "limit")]
)
def test_user_list_paging_out_of_range_is_400_like_the_api(client, factory, query, field):
    """limit/offset are read as the API reads them (web/params.py): a 400 naming the parameter, never a clamp."""
    admin = factory.user("admin")
    response = client.get(f"/identity/users?{query}", headers=factory.bearer(admin))
    api = client.get(f"/api/v1/festivals?{query}", headers=factory.bearer(admin))
    assert (response.status_code, api.status_code) == (400, 400)
    assert field in response.get_json()["fields"] and response.get_json()["fields"] == api.get_json()["fields"]


def test_unknown_role_and_user(client, factory):
    admin = factory.user("admin")
    assert client.post(f"/identity/users/{admin.id}/role/king", headers=factory.bearer(admin)).status_code == 400
    assert client.post("/identity/users/9999/suspend", headers=factory.bearer(admin)).status_code == 404


def test_reset_link_sets_new_password_once(client, factory, app):
    admin, user = factory.user("admin"), factory.user("creator")
    old_refresh = login(client, user.email).get_json()["refresh_token"]
    response = client.post(f"/identity/users/{user.id}/reset-link", headers=factory.bearer(admin))
    assert response.status_code == 201
    url = response.get_json()["data"][0]["reset_url"]
    assert url.startswith("http://localhost/reset/")
    from app.errors import NotFound
    from app.services import users

    with app.app_context(), db.connection_context():
        users.reset_password(url.rsplit("/", 1)[1], "a fresh password")
        with pytest.raises(NotFound):
            users.reset_password(url.rsplit("/", 1)[1], "another fresh password")
    assert login(client, user.email, "a fresh password").status_code == 200
    assert client.post("/identity/token", json={"refresh_token": old_refresh}).status_code == 401


def test_festival_ownership_transfer(client, factory):
    admin, old, new = factory.user("admin"), factory.user("creator"), factory.user("creator")
    festival = factory.create("festival", old)["festival_id"]
    transfer = f"/identity/festivals/{festival}/owner/{new.id}"
    assert client.post(transfer, headers=factory.bearer(old)).status_code == 403
    assert client.post(transfer, headers=factory.bearer(admin)).status_code == 200
    patch = {"festival_price": "1 Euro"}
    assert client.patch(f"/api/v1/festivals/{festival}", json=patch, headers=factory.bearer(new)).status_code == 200
    assert client.patch(f"/api/v1/festivals/{festival}", json=patch, headers=factory.bearer(old)).status_code == 403


def test_logins_and_failures_are_audited(client, factory, app):
    user = factory.user("creator")
    login(client, user.email)
    login(client, user.email, "wrong password!")
    login(client, "nobody@example.org")
    actions = audit_actions(app)
    assert actions.count("login") == 1 and actions.count("login_failed") == 2


def test_user_row_keeps_no_plain_password(app, factory):
    user = factory.user("creator")
    with app.app_context(), db.connection_context():
        stored = User.get_by_id(user.id).password_hash
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
