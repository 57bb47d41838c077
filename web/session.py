"""The portal session's user (flask-login), shared by the portal's and the identity pages' handlers:
who is logged in, how a page that needs a login answers without one, and the session cookie."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask, Response, flash, has_request_context, request
from flask.sessions import SecureCookieSessionInterface
from flask_login import UserMixin, login_url

from app.permissions import Actor
from app.services import sessions
from web.extensions import login_manager
from web.htmx import go, here


class PortalUser(UserMixin):
    """The logged-in user of a portal session, loaded from the database on every request together with
    its login (app/services/sessions.py), so a suspension, role change, logout or password change takes
    effect at once."""

    def __init__(self, user, sid: str):
        self.id = user.id
        self.email = user.email
        self.role = user.role
        self.sid = sid

    def get_id(self) -> str:
        # In the session and (signed) in the remember-me cookie: the login id makes each login's cookie
        # different and lets it be revoked (flask-login's "alternative token").
        return f"{self.id}:{self.sid}"

    @property
    def actor(self) -> Actor:
        """This user as the services see a caller."""
        return Actor("user", user_id=self.id, role=self.role)


@login_manager.user_loader
def load_user(value: str):
    user_id, _, sid = value.partition(":")
    user = sessions.session_user(user_id, sid)
    return PortalUser(user, sid) if user is not None else None


@login_manager.unauthorized_handler
def _unauthorized():
    """A page that needs a login, without one: to the login page and back here afterwards (for an htmx
    request, back to the page the user was on)."""
    flash(login_manager.login_message, login_manager.login_message_category)
    return go(login_url(login_manager.login_view, next_url=here()), 302)


API_PREFIX = "/api/v1/"  # JSON only: no page, no form, no flashed message


class PortalSessionInterface(SecureCookieSessionInterface):
    """The signed-cookie session, `Secure` whenever the request came over HTTPS (always, with
    SESSION_COOKIE_SECURE). flask-login's remember-me cookie gets the same flag."""

    def get_cookie_secure(self, app) -> bool:
        return bool((has_request_context() and request.is_secure) or app.config["SESSION_COOKIE_SECURE"])

    def open_session(self, app, request):
        """None (Flask's null session, never saved) for an API request without cookies: the API authenticates
        with tokens and keys only, and making, signing and saving an empty session cost an uncached read a
        tenth of its time."""
        if request.path.startswith(API_PREFIX) and not request.cookies:
            return None
        return super().open_session(app, request)

    def save_session(self, app, session, response) -> None:
        super().save_session(app, session, response)
        if self.get_cookie_secure(app):
            _mark_secure(response, app.config.get("REMEMBER_COOKIE_NAME", "remember_token"))


def _mark_secure(response: Response, name: str) -> None:
    cookies = response.headers.getlist("Set-Cookie")
    fixed = [
        cookie + "; Secure"
        if cookie.startswith(name + "=") and "secure" not in (part.strip().lower() for part in cookie.split(";"))
        else cookie
        for cookie in cookies
    ]
    if fixed != cookies:
        response.headers.setlist("Set-Cookie", fixed)


def init_session(app: Flask) -> None:
    """Called by create_app: the session interface above, and remember-me cookies as strict as the session's."""
    app.session_interface = PortalSessionInterface()
    app.config.setdefault("REMEMBER_COOKIE_HTTPONLY", True)
    app.config.setdefault("REMEMBER_COOKIE_SAMESITE", "Lax")
    app.config.setdefault("REMEMBER_COOKIE_DURATION", timedelta(seconds=app.config.get("REFRESH_TOKEN_TTL", 2592000)))
