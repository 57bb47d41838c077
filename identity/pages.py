"""Login, logout, signup, password and reset pages of the portal (server-rendered; flask-login).

Every page works with JavaScript off (plain forms, 303 after a successful POST). The forms also post
through htmx: an htmx request gets the page's form fragment alone, a failed form answers 422 with the
fragment (static/js/app.js swaps it in), and a success answers `HX-Redirect` instead of a redirect."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, flash, g, jsonify, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf.csrf import CSRFError

from app.errors import Invalid, NotFound, RateLimited
from app.services import sessions, users
from identity.forms import LoginForm, LogoutForm, PasswordChangeForm, ResetForm, SignupForm
from web.extensions import limiter
from web.forms import safe_next, show_errors
from web.htmx import go, render, vary_on_htmx
from web.login_tokens import token_for_login
from web.requests import client_key
from web.session import PortalUser

bp = Blueprint("identity_pages", __name__)

WRONG_LOGIN = "The email or password is wrong."  # one message: unknown email, wrong password, suspended


# --- helpers ---------------------------------------------------------------------------------------


def _render(name: str, status: int = 200, **context):
    """The page identity/<name>.html, or for an htmx request the fragment it includes, identity/_<name>.html."""
    return render(f"identity/{name}.html", f"identity/_{name}.html", status, **context)


def _form_status(form) -> int:
    return 422 if form.is_submitted() else 200


def _fresh_session() -> None:
    """Drop everything the session held (no fixation: nothing from before a login carries over), and
    this request's CSRF token, which was derived from the old session."""
    session.clear()
    g.pop(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), None)


def _config(name: str):
    return current_app.config[name]


# Only the POSTs that create accounts count (the same setting as the JSON route); password checks are limited
# by app/services/throttle.py.
_signups = limiter.limit(lambda: _config("SIGNUP_RATE_LIMIT"), methods=["POST"])


@bp.after_request
def _headers(response: Response) -> Response:
    vary_on_htmx(response)
    response.cache_control.no_store = True  # forms with CSRF tokens and account data: never cached
    if request.endpoint == "identity_pages.reset":
        # The token is in the URL: no Referer to other sites. (Not "no-referrer": over HTTPS flask-wtf
        # wants a same-origin Referer on the form's POST.)
        response.headers["Referrer-Policy"] = "same-origin"
    return response


@bp.app_context_processor
def _navigation() -> dict:
    return {
        "has_endpoint": lambda endpoint: endpoint in current_app.view_functions,
        "signup_open": bool(current_app.config.get("SIGNUP")),
    }


@bp.errorhandler(CSRFError)
def _csrf_failed(exc: CSRFError):
    return _render(
        "problem",
        400,
        title="This form has expired",
        message="The page was open too long or was sent from elsewhere. Reload it and try again.",
    )


@bp.errorhandler(429)
def _too_many(exc):
    return _render(
        "problem", 429, title="Too many attempts", message="Please wait a minute, then reload the page and try again."
    )


def _too_many_attempts(exc: RateLimited):
    return (*_too_many(exc), {"Retry-After": str(exc.retry_after)})


# --- pages -----------------------------------------------------------------------------------------


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        try:
            user = users.authenticate(form.email.data, form.password.data, client_key())
        except RateLimited as exc:  # one budget per account and client for every password check
            return _too_many_attempts(exc)
        users.record_login(form.email.data, user, "portal")
        if user is not None:
            _fresh_session()
            sid = sessions.start_login(user, "portal", _config("REFRESH_TOKEN_TTL"))
            login_user(PortalUser(user, sid), remember=form.remember.data)
            return go(safe_next(form.next.data))
        form.form_errors.append(WRONG_LOGIN)
    return _render("login", _form_status(form), form=form)


@bp.route("/logout", methods=["GET", "POST"])
def logout():
    form = LogoutForm()
    if form.validate_on_submit():
        if current_user.is_authenticated:
            sessions.end_login(current_user.sid, current_user.actor)
        _fresh_session()
        logout_user()  # after the clear: it marks a remember-me cookie for deletion in the session
        flash("You are logged out.", "success")
        return go(url_for(".login"))
    if not current_user.is_authenticated:
        return go(url_for(".login"), 302)
    return _render("logout", form=form)


@bp.route("/signup", methods=["GET", "POST"])
@_signups
def signup():
    if not _config("SIGNUP"):
        return _render("signup_closed", 404)
    form = SignupForm()
    if form.validate_on_submit():
        try:
            users.signup(form.email.data, form.password.data, _config("SIGNUP_ROLE"))
        except Invalid as exc:
            show_errors(form, exc)
        else:  # the same answer whether or not the address had an account (no user enumeration)
            flash("Account created — you can log in now.", "success")
            return go(url_for(".login"))
    return _render("signup", _form_status(form), form=form)


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def password():
    form = PasswordChangeForm()
    if form.validate_on_submit():
        try:
            users.change_password(
                users.get_user(current_user.id),
                form.old_password.data,
                form.new_password.data,
                client_key(),
                keep_login=current_user.sid,
            )
        except RateLimited as exc:
            return _too_many_attempts(exc)
        except Invalid as exc:
            show_errors(form, exc, {"password": "new_password"})
        else:
            flash("Your password has been changed.", "success")
            return go(url_for(".password"))
    return _render("password", _form_status(form), form=form)


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset(token: str):
    try:
        users.reset_target(token)
        form = ResetForm()
        if form.validate_on_submit():
            try:
                users.reset_password(token, form.new_password.data)
            except Invalid as exc:
                show_errors(form, exc, {"password": "new_password"})
            else:
                flash("Your new password is set — you can log in now.", "success")
                return go(url_for(".login"))
    except NotFound:  # unknown, used or expired (also when used by a parallel request just now)
        return _render("reset_invalid", 404)
    return _render("reset", _form_status(form), form=form)


@bp.post("/account/upload-token")
@login_required
def upload_token():
    """A short-lived access token for the logged-in user, so the page can upload straight to the file
    server (which verifies it with the identity service's keys). CSRF-checked like every portal POST."""
    ttl = min(300, _config("ACCESS_TOKEN_TTL"))
    token = token_for_login(current_user, current_user.sid, ttl)
    return jsonify(access_token=token, token_type="Bearer", expires_in=ttl)
