"""Logins end for real (issue 13, finding 2): after a logout, a password change or reset and a suspension,
the portal session cookie, the remember-me cookie, access tokens (also through GET /users/refresh) and
refresh tokens stop working from any client, while other logins of the user are left alone by a logout."""

from __future__ import annotations

import base64
import re

import pytest

from app.errors import Conflict
from app.permissions import SYSTEM
from app.services import users
from tests.factories import PASSWORD
from tests.identity.test_pages import NEW_PASSWORD, client_for, log_in, submit

API_READ = "/api/v1/festivals"


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def token_login(client, email: str) -> dict:
    response = client.post("/identity/token", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200
    return response.get_json()


def basic_login(client, email: str) -> str:
    credentials = base64.b64encode(f"{email}:{PASSWORD}".encode()).decode()
    response = client.get("/identity/users/login", headers={"Authorization": f"Basic {credentials}"})
    assert response.status_code == 200
    return response.get_data(as_text=True)


def portal_cookies(app, email: str) -> tuple:
    """A browser logged in with remember-me, and copies of its session and remember-me cookies."""
    browser = client_for(app)
    log_in(browser, email, remember="y")
    session = browser.get_cookie("session").value
    remember = browser.get_cookie("remember_token").value
    return browser, session, remember


def opens_portal(app, session: str | None = None, remember: str | None = None) -> bool:
    """Whether another client holding only these cookie values gets the logged-in dashboard."""
    thief = client_for(app)
    if session:
        thief.set_cookie("session", session)
    if remember:
        thief.set_cookie("remember_token", remember)
    return thief.get("/festivals").status_code == 200


def test_copied_portal_cookies_work_until_logout_then_never(app, factory):
    user = factory.user("creator")
    browser, session, remember = portal_cookies(app, user.email)
    assert opens_portal(app, session=session) and opens_portal(app, remember=remember)

    submit(browser, "/logout", {}, page="/logout")

    assert not opens_portal(app, session=session)
    assert not opens_portal(app, remember=remember)


def test_each_login_gets_its_own_remember_cookie_and_logout_ends_only_that_one(app, factory):
    user = factory.user("creator")
    first, _, first_remember = portal_cookies(app, user.email)
    _, second_session, second_remember = portal_cookies(app, user.email)
    assert first_remember != second_remember

    submit(first, "/logout", {}, page="/logout")

    assert not opens_portal(app, remember=first_remember)
    assert opens_portal(app, session=second_session) and opens_portal(app, remember=second_remember)


def test_a_password_change_in_the_portal_ends_every_other_login(app, client, factory):
    user = factory.user("creator")
    browser, _, _ = portal_cookies(app, user.email)
    _, other_session, other_remember = portal_cookies(app, user.email)
    tokens = token_login(client, user.email)
    old_client_token = basic_login(client, user.email)

    changed = submit(
        browser, "/account/password", {"old_password": PASSWORD, "new_password": NEW_PASSWORD, "repeat": NEW_PASSWORD}
    )

    assert changed.status_code == 303
    assert browser.get("/festivals").status_code == 200  # the login that changed it stays
    assert not opens_portal(app, session=other_session) and not opens_portal(app, remember=other_remember)
    assert client.get(API_READ, headers=bearer(tokens["access_token"])).status_code == 401
    assert client.post("/identity/token", json={"refresh_token": tokens["refresh_token"]}).status_code == 401
    assert client.get("/identity/users/refresh", headers=bearer(old_client_token)).status_code == 401


def test_api_logout_ends_the_access_token_and_its_renewal(client, factory):
    user = factory.user("creator")
    tokens = token_login(client, user.email)
    other = token_login(client, user.email)
    assert client.get("/identity/users/refresh", headers=bearer(tokens["access_token"])).status_code == 200

    out = client.post("/identity/logout", json={"refresh_token": tokens["refresh_token"]})

    assert out.status_code == 200
    assert client.get(API_READ, headers=bearer(tokens["access_token"])).status_code == 401
    assert client.get("/identity/users/refresh", headers=bearer(tokens["access_token"])).status_code == 401
    assert client.post("/identity/token", json={"refresh_token": tokens["refresh_token"]}).status_code == 401
    assert client.get(API_READ, headers=bearer(other["access_token"])).status_code == 200


def test_an_old_client_token_renewed_through_refresh_dies_with_a_logout_by_bearer(client, factory):
    user = factory.user("creator")
    token = basic_login(client, user.email)
    renewed = client.get("/identity/users/refresh", headers=bearer(token))
    assert renewed.status_code == 200
    fresh = renewed.get_data(as_text=True)
    assert client.get(API_READ, headers=bearer(fresh)).status_code == 200

    assert client.post("/identity/logout", headers=bearer(fresh)).status_code == 200

    for old in (token, fresh):
        assert client.get(API_READ, headers=bearer(old)).status_code == 401
        assert client.get("/identity/users/refresh", headers=bearer(old)).status_code == 401


def test_api_password_change_keeps_the_caller_and_ends_the_rest(app, client, factory):
    user = factory.user("creator")
    caller = token_login(client, user.email)
    other = token_login(client, user.email)
    _, session, remember = portal_cookies(app, user.email)

    response = client.post(
        "/identity/users/password",
        headers=bearer(caller["access_token"]),
        json={"old_password": PASSWORD, "new_password": NEW_PASSWORD},
    )

    assert response.status_code == 200
    assert client.get(API_READ, headers=bearer(caller["access_token"])).status_code == 200
    assert client.get(API_READ, headers=bearer(other["access_token"])).status_code == 401
    assert not opens_portal(app, session=session) and not opens_portal(app, remember=remember)


@pytest.mark.parametrize("how", ["suspend", "reset"])
def test_suspension_and_password_reset_end_every_login(app, client, factory, how):
    user = factory.user("creator")
    admin = factory.user("admin")
    _, session, remember = portal_cookies(app, user.email)
    tokens = token_login(client, user.email)
    if how == "suspend":
        users.set_suspended(factory.actor(admin), user.id, True)
    else:
        users.reset_password(users.create_reset(factory.actor(admin), user.id), "a brand new secret")

    assert not opens_portal(app, session=session) and not opens_portal(app, remember=remember)
    assert client.get(API_READ, headers=bearer(tokens["access_token"])).status_code == 401
    assert client.get("/identity/users/refresh", headers=bearer(tokens["access_token"])).status_code == 401
    assert client.post("/identity/token", json={"refresh_token": tokens["refresh_token"]}).status_code == 401


def test_users_me_answers_the_live_role_and_refuses_an_ended_login(client, factory):
    user = factory.user("creator")
    tokens = token_login(client, user.email)
    me = client.get("/identity/users/me", headers=bearer(tokens["access_token"]))
    assert me.status_code == 200 and me.get_json()["data"][0]["user_role"] == "creator"

    users.set_role(SYSTEM, user.id, "user")

    assert (
        client.get("/identity/users/me", headers=bearer(tokens["access_token"])).get_json()["data"][0]["user_role"]
        == "user"
    )
    client.post("/identity/logout", json={"refresh_token": tokens["refresh_token"]})
    assert client.get("/identity/users/me", headers=bearer(tokens["access_token"])).status_code == 401


# --- the last admin (finding 12) ---------------------------------------------------------------------


def test_the_last_admin_cannot_demote_itself(client, factory):
    admin = factory.user("admin")

    response = client.post(f"/identity/users/{admin.id}/role/creator", headers=factory.bearer(admin))

    assert response.status_code == 409
    assert "last admin" in response.get_json()["error"]
    assert users.get_user(admin.id).role == "admin"


def test_an_admin_can_step_down_while_another_remains_but_the_other_then_cannot(client, factory):
    first, second = factory.user("admin"), factory.user("admin")

    assert client.post(f"/identity/users/{first.id}/role/creator", headers=factory.bearer(first)).status_code == 200
    refused = client.post(f"/identity/users/{second.id}/role/user", headers=factory.bearer(second))

    assert refused.status_code == 409
    assert users.get_user(second.id).role == "admin"


def test_an_admin_cannot_suspend_the_last_other_admin_when_it_is_suspended_itself(factory):
    """Suspension of an admin by another is fine while an active admin is left."""
    first, second = factory.user("admin"), factory.user("admin")
    users.set_suspended(factory.actor(first), second.id, True)

    with pytest.raises(Conflict):
        users.set_role(SYSTEM, first.id, "creator")
    with pytest.raises(Conflict):
        users.set_suspended(SYSTEM, first.id, True)
    assert users.get_user(first.id).role == "admin" and not users.get_user(first.id).suspended


def test_the_last_admin_page_shows_why_it_stays_admin(app, factory):
    admin = factory.user("admin")
    browser = client_for(app)
    log_in(browser, admin.email)
    page = browser.get("/admin/users").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)

    response = browser.post(
        f"/admin/users/{admin.id}/role", data={"role": "creator"}, headers={"HX-Request": "true", "X-CSRFToken": token}
    )

    assert response.status_code == 422
    assert "last admin" in response.get_data(as_text=True)
