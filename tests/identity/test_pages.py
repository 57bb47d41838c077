"""The portal's login pages through the Flask test client: forms posted like a browser posts them
(CSRF token from the page), answers as a user sees them (status, redirect, page text, cookies)."""

import contextvars
import json
import re

import pytest
from flask.testing import FlaskClient

from app import create_identity_app
from app.db import close_database, db
from app.models import AuditEntry, User
from app.permissions import SYSTEM
from app.services import users
from identity.pages import WRONG_LOGIN, safe_next
from tests.conftest import CHEAP_ARGON2
from tests.factories import PASSWORD

CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
NEW_PASSWORD = "a brand new passphrase"
HTMX = {"HX-Request": "true"}


class ServerLikeClient(FlaskClient):
    """Each request in a context of its own, as under a real server. (The `app` and `factory` fixtures
    keep an app context pushed for the whole test, and a request inside it would share `g` — the CSRF
    token, flask-login's loaded user — with every other request of the test.)"""

    def open(self, *args, **kwargs):
        return contextvars.Context().run(super().open, *args, **kwargs)


def client_for(app) -> FlaskClient:
    app.test_client_class = ServerLikeClient
    return app.test_client()


@pytest.fixture
def client(app):
    return client_for(app)


def csrf_token(client, page: str, **kwargs) -> str:
    response = client.get(page, **kwargs)
    assert response.status_code == 200, response.status_code
    return CSRF.search(response.get_data(as_text=True)).group(1)


def submit(client, path: str, data: dict, page: str | None = None, **kwargs):
    """GET the page for its CSRF token, then POST the form as a browser does."""
    token = csrf_token(client, page or path, **kwargs)
    return client.post(path, data={"csrf_token": token, **data}, **kwargs)


def log_in(client, email: str, password: str = PASSWORD, **data):
    return submit(client, "/login", {"email": email, "password": password, **data})


def text(response) -> str:
    """The page as a reader copies its text: the <wbr> break hints in long addresses are invisible."""
    return response.get_data(as_text=True).replace("<wbr>", "")


def logged_in_as(client) -> str | None:
    match = re.search(r'data-testid="account">([^<]+)<', text(client.get("/", follow_redirects=True)))
    return match.group(1) if match else None


def session_cookie(response) -> str:
    return next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))


def cookie_flags(cookie: str) -> set[str]:
    return {part.strip().split("=")[0].lower() for part in cookie.split(";")[1:]}


def audit(app, action: str) -> list[AuditEntry]:
    with app.app_context(), db.connection_context():
        return list(AuditEntry.select().where(AuditEntry.action == action))


# --- login ------------------------------------------------------------------------------------------


def test_login_page_has_labelled_fields_and_csrf_token(client):
    response = client.get("/login")
    assert response.status_code == 200
    body = text(response)
    assert '<label for="email">' in body and '<label for="password">' in body
    assert CSRF.search(body)
    assert 'name="remember"' in body and "checked" not in body  # remember-me is off by default
    assert "HX-Request" in response.headers["Vary"]


def test_login_with_right_password_logs_in(client, factory, app):
    user = factory.user("creator")
    response = log_in(client, user.email)
    assert response.status_code == 303
    assert response.headers["Location"] == "/"
    assert logged_in_as(client) == user.email
    assert [json.loads(entry.details) for entry in audit(app, "login")] == [{"via": "portal"}]


def test_login_email_is_case_insensitive(client, factory):
    user = factory.user("creator", email="mixed@example.org")
    assert log_in(client, "  Mixed@Example.ORG ").status_code == 303
    assert logged_in_as(client) == user.email


def test_login_wrong_password_shows_message_and_keeps_email(client, factory, app):
    user = factory.user("creator")
    response = log_in(client, user.email, "wrong password here")
    assert response.status_code == 422
    body = text(response)
    assert WRONG_LOGIN in body
    assert f'value="{user.email}"' in body
    assert "wrong password here" not in body
    assert 'aria-describedby="login-error"' in body
    assert logged_in_as(client) is None
    assert len(audit(app, "login_failed")) == 1


def test_login_unknown_email_gets_the_same_message(client, factory):
    factory.user("creator")
    response = log_in(client, "nobody@example.org")
    assert response.status_code == 422
    assert WRONG_LOGIN in text(response)


def test_login_suspended_user_gets_the_same_message(client, factory, app):
    user = factory.user("creator")
    with app.app_context(), db.connection_context():
        User.update(suspended=True).where(User.id == user.id).execute()
    response = log_in(client, user.email)
    assert response.status_code == 422
    assert WRONG_LOGIN in text(response)
    assert logged_in_as(client) is None


def test_login_empty_fields_show_messages_next_to_them(client):
    response = submit(client, "/login", {"email": "", "password": ""})
    assert response.status_code == 422
    body = text(response)
    assert 'id="email-error"' in body and 'id="password-error"' in body
    assert 'aria-describedby="email-error"' in body


def test_login_follows_a_local_next(client, factory):
    user = factory.user("creator")
    token = csrf_token(client, "/login?next=/account/password")
    response = client.post(
        "/login?next=/account/password", data={"csrf_token": token, "email": user.email, "password": PASSWORD}
    )
    assert response.headers["Location"] == "/account/password"


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "https://evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "/\t/evil.example",
        "http:/evil.example",
        "javascript:alert(1)",
        " //evil.example",
        "evil.example",
        "",
    ],
)
def test_login_next_elsewhere_lands_on_home(client, factory, target):
    user = factory.user("creator")
    response = log_in(client, user.email, next=target)
    assert response.status_code == 303
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize("target", ["/", "/account/password", "/festivals/7?tab=events#top", "/a//b"])
def test_safe_next_keeps_local_paths(target):
    assert safe_next(target) == target


def test_login_without_csrf_token_is_refused(client, factory, app):
    app.config["WTF_CSRF_ENABLED"] = True
    user = factory.user("creator")
    client.get("/login")  # a session exists, the form's token is missing
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 400
    assert "This form has expired" in text(response)
    assert logged_in_as(client) is None


def test_login_with_a_forged_csrf_token_is_refused(client, factory, app):
    app.config["WTF_CSRF_ENABLED"] = True
    user = factory.user("creator")
    client.get("/login")
    response = client.post("/login", data={"csrf_token": "forged", "email": user.email, "password": PASSWORD})
    assert response.status_code == 400


def test_login_starts_a_fresh_session(client, factory):
    user = factory.user("creator")
    client.get("/login")
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    log_in(client, user.email)
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session["_user_id"].partition(":")[0] == str(user.id)


def test_login_rate_limited_per_account(make_app, factory):
    client = client_for(make_app(LOGIN_RATE_LIMIT="2/minute", LOGIN_IP_RATE_LIMIT="100/minute"))
    user = factory.user("creator")
    statuses = [log_in(client, user.email, "wrong password here").status_code for _ in range(2)]
    limited = log_in(client, user.email)
    assert statuses == [422, 422]
    assert limited.status_code == 429
    assert "Too many attempts" in text(limited)
    assert int(limited.headers["Retry-After"]) > 0
    assert log_in(client, "someone.else@example.org", "whatever pw").status_code == 422


def test_page_behind_login_sends_to_login_and_back(client, factory):
    user = factory.user("creator")
    response = client.get("/account/password")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=%2Faccount%2Fpassword"
    page = client.get(response.headers["Location"])
    assert 'name="next" type="hidden" value="/account/password"' in text(page)
    assert "Please log in" in text(page)
    token = CSRF.search(text(page)).group(1)
    done = client.post(
        "/login", data={"csrf_token": token, "email": user.email, "password": PASSWORD, "next": "/account/password"}
    )
    assert done.headers["Location"] == "/account/password"


# --- htmx -------------------------------------------------------------------------------------------


def test_htmx_login_gets_hx_redirect(client, factory):
    user = factory.user("creator")
    token = csrf_token(client, "/login")
    response = client.post(
        "/login", data={"email": user.email, "password": PASSWORD}, headers={**HTMX, "X-CSRFToken": token}
    )
    assert response.status_code == 200
    assert response.headers["HX-Redirect"] == "/"
    assert "Location" not in response.headers
    assert "HX-Request" in response.headers["Vary"]
    assert logged_in_as(client) == user.email


def test_htmx_failed_login_gets_the_form_fragment(client, factory):
    user = factory.user("creator")
    token = csrf_token(client, "/login")
    response = client.post(
        "/login", data={"email": user.email, "password": "wrong password here"}, headers={**HTMX, "X-CSRFToken": token}
    )
    assert response.status_code == 422
    body = text(response).strip()
    assert body.startswith('<form id="login-form"') and "<html" not in body
    assert WRONG_LOGIN in body and f'value="{user.email}"' in body


def test_htmx_request_behind_login_gets_hx_redirect_to_login(client):
    token = csrf_token(client, "/login")
    response = client.post(
        "/account/password",
        data={"csrf_token": token},
        headers={**HTMX, "HX-Current-URL": "http://localhost/account/password"},
    )
    assert response.status_code == 200
    assert response.headers["HX-Redirect"] == "/login?next=%2Faccount%2Fpassword"


# --- logout -----------------------------------------------------------------------------------------


def test_logout_get_shows_a_confirm_form(client, factory):
    user = factory.user("creator")
    log_in(client, user.email)
    response = client.get("/logout")
    assert response.status_code == 200
    assert 'action="/logout"' in text(response)
    assert logged_in_as(client) == user.email  # a GET never logs out


def test_logout_logs_out_and_says_so(client, factory):
    user = factory.user("creator")
    log_in(client, user.email)
    response = submit(client, "/logout", {})
    assert response.status_code == 303
    assert response.headers["Location"] == "/login"
    assert "You are logged out." in text(client.get("/login"))
    assert logged_in_as(client) is None
    assert client.get("/account/password").status_code == 302


def test_logout_without_csrf_token_is_refused(client, factory, app):
    app.config["WTF_CSRF_ENABLED"] = True
    user = factory.user("creator")
    log_in(client, user.email)
    assert client.post("/logout").status_code == 400
    assert logged_in_as(client) == user.email


def test_logout_clears_remember_me(client, factory):
    user = factory.user("creator")
    response = log_in(client, user.email, remember="y")
    assert any(c.startswith("remember_token=") for c in response.headers.getlist("Set-Cookie"))
    out = submit(client, "/logout", {})
    assert any(c.startswith("remember_token=;") for c in out.headers.getlist("Set-Cookie"))
    assert logged_in_as(client) is None


def test_logout_page_when_logged_out_goes_to_login(client):
    response = client.get("/logout")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login"


# --- signup -----------------------------------------------------------------------------------------


def signup(client, email: str, password: str = NEW_PASSWORD, repeat: str | None = None):
    return submit(
        client, "/signup", {"email": email, "password": password, "repeat": password if repeat is None else repeat}
    )


def test_signup_creates_an_account_that_can_log_in(client, app):
    response = signup(client, "new.creator@example.org")
    assert response.status_code == 303
    assert response.headers["Location"] == "/login"
    assert "Account created — you can log in now." in text(client.get("/login"))
    assert log_in(client, "new.creator@example.org", NEW_PASSWORD).status_code == 303
    with app.app_context(), db.connection_context():
        assert User.get(User.email == "new.creator@example.org").role == app.config["SIGNUP_ROLE"]


def test_signup_with_a_registered_email_answers_like_a_new_one(client, factory):
    user = factory.user("creator")
    fresh = signup(client, "fresh@example.org")
    fresh_page = text(client.get("/login"))
    again = signup(client, user.email.upper())
    again_page = text(client.get("/login"))
    assert (again.status_code, again.headers["Location"]) == (fresh.status_code, fresh.headers["Location"])
    created = "Account created — you can log in now."
    assert created in fresh_page and created in again_page
    assert log_in(client, user.email, NEW_PASSWORD).status_code == 422  # the old account is untouched
    assert log_in(client, user.email, PASSWORD).status_code == 303


def test_signup_short_password_shows_message_next_to_it(client):
    response = signup(client, "short@example.org", "too short")
    assert response.status_code == 422
    body = text(response)
    assert re.search(r'id="password-error"[^>]*>Must have at least 10 characters', body)
    assert 'aria-describedby="password-hint password-error"' in body
    assert 'value="short@example.org"' in body and "too short" not in body


def test_signup_bad_email_shows_message_next_to_it(client):
    response = signup(client, "not-an-email")
    assert response.status_code == 422
    assert re.search(r'id="email-error"[^>]*>Must be an email address', text(response))


def test_signup_repeat_mismatch_shows_message_on_the_repeat_field(client, app):
    response = signup(client, "typo@example.org", NEW_PASSWORD, "a brand new passphrasE")
    assert response.status_code == 422
    assert re.search(r'id="repeat-error"[^>]*>Does not match', text(response))
    with app.app_context(), db.connection_context():
        assert not User.select().where(User.email == "typo@example.org").exists()


def test_signup_switched_off_is_not_found(make_app):
    client = client_for(make_app(SIGNUP=False))
    response = client.get("/signup")
    assert response.status_code == 404
    assert "Signing up is closed" in text(response)
    token = csrf_token(client, "/login")
    post = client.post(
        "/signup",
        data={"csrf_token": token, "email": "x@example.org", "password": NEW_PASSWORD, "repeat": NEW_PASSWORD},
    )
    assert post.status_code == 404
    assert 'href="/signup"' not in text(client.get("/login"))


# --- password change --------------------------------------------------------------------------------


def change(client, old: str, new: str = NEW_PASSWORD, repeat: str | None = None):
    return submit(
        client,
        "/account/password",
        {"old_password": old, "new_password": new, "repeat": new if repeat is None else repeat},
    )


def test_password_change_needs_a_login(client):
    response = client.get("/account/password")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_password_change_works(client, factory):
    user = factory.user("creator")
    log_in(client, user.email)
    response = change(client, PASSWORD)
    assert response.status_code == 303
    assert response.headers["Location"] == "/account/password"
    assert "Your password has been changed." in text(client.get("/account/password"))
    submit(client, "/logout", {})
    assert log_in(client, user.email, PASSWORD).status_code == 422
    assert log_in(client, user.email, NEW_PASSWORD).status_code == 303


def test_password_change_wrong_old_password(client, factory):
    user = factory.user("creator")
    log_in(client, user.email)
    response = change(client, "not my password")
    assert response.status_code == 422
    assert re.search(r'id="old_password-error"[^>]*>Is wrong', text(response))


def test_password_change_repeat_mismatch(client, factory):
    user = factory.user("creator")
    log_in(client, user.email)
    response = change(client, PASSWORD, NEW_PASSWORD, "something else entirely")
    assert response.status_code == 422
    assert re.search(r'id="repeat-error"[^>]*>Does not match', text(response))
    submit(client, "/logout", {})
    assert log_in(client, user.email, PASSWORD).status_code == 303  # unchanged


def test_password_change_too_short(client, factory):
    user = factory.user("creator")
    log_in(client, user.email)
    response = change(client, PASSWORD, "short")
    assert response.status_code == 422
    assert re.search(r'id="new_password-error"[^>]*>Must have at least 10 characters', text(response))


# --- reset links ------------------------------------------------------------------------------------


def reset_link(app, user) -> str:
    with app.app_context(), db.connection_context():
        return "/reset/" + users.create_reset(SYSTEM, user.id)


def test_reset_link_sets_a_new_password_once(client, factory, app):
    user = factory.user("creator")
    link = reset_link(app, user)
    page = client.get(link)
    assert page.status_code == 200
    assert page.headers["Referrer-Policy"] == "same-origin"
    response = submit(client, link, {"new_password": NEW_PASSWORD, "repeat": NEW_PASSWORD})
    assert response.status_code == 303
    assert response.headers["Location"] == "/login"
    assert "Your new password is set" in text(client.get("/login"))
    assert log_in(client, user.email, PASSWORD).status_code == 422
    assert log_in(client, user.email, NEW_PASSWORD).status_code == 303
    used = client.get(link)
    assert used.status_code == 404
    assert "This link is invalid or has expired" in text(used)


def test_reset_link_unknown_is_not_found(client):
    response = client.get("/reset/not-a-real-token")
    assert response.status_code == 404
    assert "This link is invalid or has expired" in text(response)


def test_reset_link_short_password_shows_message(client, factory, app):
    user = factory.user("creator")
    link = reset_link(app, user)
    response = submit(client, link, {"new_password": "short", "repeat": "short"})
    assert response.status_code == 422
    assert re.search(r'id="new_password-error"[^>]*>Must have at least 10 characters', text(response))
    assert client.get(link).status_code == 200  # the link still works


def test_reset_link_repeat_mismatch(client, factory, app):
    user = factory.user("creator")
    link = reset_link(app, user)
    response = submit(client, link, {"new_password": NEW_PASSWORD, "repeat": "different passphrase"})
    assert response.status_code == 422
    assert re.search(r'id="repeat-error"[^>]*>Does not match', text(response))


# --- cookies ----------------------------------------------------------------------------------------


def test_session_cookie_is_httponly_and_lax_over_http(client, factory):
    user = factory.user("creator")
    cookie = session_cookie(log_in(client, user.email))
    flags = cookie_flags(cookie)
    assert "httponly" in flags and "samesite=lax" in cookie.lower()
    assert "secure" not in flags


def test_session_cookie_is_secure_over_https(client, factory):
    user = factory.user("creator")
    https = {"base_url": "https://localhost"}
    token = csrf_token(client, "/login", **https)
    response = client.post(
        "/login",
        data={"csrf_token": token, "email": user.email, "password": PASSWORD, "remember": "y"},
        headers={"Referer": "https://localhost/login"},
        **https,
    )
    assert response.status_code == 303
    cookies = response.headers.getlist("Set-Cookie")
    assert {"secure", "httponly"} <= cookie_flags(session_cookie(response))
    assert "samesite=lax" in session_cookie(response).lower()
    remember = next(c for c in cookies if c.startswith("remember_token="))
    assert {"secure", "httponly"} <= cookie_flags(remember) and "samesite=lax" in remember.lower()


def test_remember_me_off_sets_no_remember_cookie(client, factory):
    user = factory.user("creator")
    response = log_in(client, user.email)
    assert not any(
        c.startswith("remember_token=") and "Max-Age=0" not in c for c in response.headers.getlist("Set-Cookie")
    )


# --- the identity service on its own ---------------------------------------------------------------


def test_login_page_renders_in_the_identity_only_app(database_url, tmp_path):
    app = create_identity_app(
        {"TESTING": True, "INSTANCE_PATH": str(tmp_path / "identity"), "DATABASE_URL": database_url, **CHEAP_ARGON2}
    )
    try:
        response = client_for(app).get("/login")
        assert response.status_code == 200
        assert 'action="/login"' in text(response) and "API docs" not in text(response)
    finally:
        close_database(app.extensions["database"])
