"""Login, logout, signup, password and reset pages of the portal (server-rendered; flask-login).

Every page works with JavaScript off (plain forms, 303 after a successful POST). The forms also post
through htmx: an htmx request gets the page's form fragment alone, a failed form answers 422 with the
fragment (static/js/app.js swaps it in), and a success answers `HX-Redirect` instead of a redirect."""
from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, Response, current_app, flash, g, has_request_context, jsonify, request, session, url_for
from flask.sessions import SecureCookieSessionInterface
from flask_login import UserMixin, current_user, login_required, login_url, login_user, logout_user
from flask_wtf.csrf import CSRFError

from app.errors import DomainError, Invalid, NotFound
from app.extensions import limiter, login_manager
from app.permissions import Actor
from app.services import users
from identity.forms import LoginForm, LogoutForm, PasswordChangeForm, ResetForm, SignupForm
from identity.tokens import issue_access_token
from portal.htmx import go, is_htmx, render, safe_next, vary_on_htmx

bp = Blueprint("identity_pages", __name__)

WRONG_LOGIN = "The email or password is wrong."  # one message: unknown email, wrong password, suspended


class PortalUser(UserMixin):
    """The logged-in user of a portal session, loaded from the database on every request, so a
    suspension or role change takes effect at once."""

    def __init__(self, user):
        self.id = user.id
        self.email = user.email
        self.role = user.role

    def get_id(self) -> str:
        return str(self.id)

    @property
    def actor(self) -> Actor:
        """This user as the services see a caller."""
        return Actor("user", user_id=self.id, role=self.role)


@login_manager.user_loader
def load_user(user_id: str):
    user = users.active_user(user_id)
    return PortalUser(user) if user is not None else None


@login_manager.unauthorized_handler
def _unauthorized():
    """A page that needs a login, without one: to the login page and back here afterwards (for an htmx
    request, back to the page the user was on)."""
    flash(login_manager.login_message, login_manager.login_message_category)
    here = request.headers.get("HX-Current-URL", request.url) if is_htmx() else request.url
    return go(login_url(login_manager.login_view, next_url=here), 302)


# --- session cookie -------------------------------------------------------------------------------

class PortalSessionInterface(SecureCookieSessionInterface):
    """The signed-cookie session, `Secure` whenever the request came over HTTPS (always, with
    SESSION_COOKIE_SECURE). flask-login's remember-me cookie gets the same flag."""

    def get_cookie_secure(self, app) -> bool:
        return bool((has_request_context() and request.is_secure) or app.config["SESSION_COOKIE_SECURE"])

    def save_session(self, app, session, response) -> None:
        super().save_session(app, session, response)
        if self.get_cookie_secure(app):
            _mark_secure(response, app.config.get("REMEMBER_COOKIE_NAME", "remember_token"))


def _mark_secure(response: Response, name: str) -> None:
    cookies = response.headers.getlist("Set-Cookie")
    fixed = [cookie + "; Secure" if cookie.startswith(name + "=")
             and "secure" not in (part.strip().lower() for part in cookie.split(";")) else cookie
             for cookie in cookies]
    if fixed != cookies:
        response.headers.setlist("Set-Cookie", fixed)


def init_pages(app) -> None:
    """Called by create_app: the session interface above, and remember-me cookies as strict as the session's."""
    app.session_interface = PortalSessionInterface()
    app.config.setdefault("REMEMBER_COOKIE_HTTPONLY", True)
    app.config.setdefault("REMEMBER_COOKIE_SAMESITE", "Lax")
    app.config.setdefault("REMEMBER_COOKIE_DURATION", timedelta(seconds=app.config.get("REFRESH_TOKEN_TTL", 2592000)))


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


def _sentence(message: str) -> str:
    message = message.strip()
    return message[:1].upper() + message[1:] + ("" if message.endswith(".") else ".")


def _show_errors(form, exc: DomainError, aliases: dict[str, str] | None = None) -> None:
    """The service's field messages next to the matching fields; the whole message above the form
    when no field matches."""
    placed = False
    for name, message in exc.fields.items():
        field = form._fields.get((aliases or {}).get(name, name))
        if field is not None:
            field.errors = [*field.errors, _sentence(message)]
            placed = True
    if not placed:
        form.form_errors.append(_sentence(exc.message))


def _config(name: str):
    return current_app.config[name]


def _form_account() -> str:
    return "account:" + users.normalize_email(request.form.get("email", ""))[:254]


# Only the POSTs that check secrets or create accounts count (the same settings as the JSON routes).
_per_address = limiter.limit(lambda: _config("LOGIN_IP_RATE_LIMIT"), methods=["POST"])
_per_account = limiter.limit(lambda: _config("LOGIN_RATE_LIMIT"), key_func=_form_account, methods=["POST"])
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
    return {"has_endpoint": lambda endpoint: endpoint in current_app.view_functions,
            "signup_open": bool(current_app.config.get("SIGNUP"))}


@bp.errorhandler(CSRFError)
def _csrf_failed(exc: CSRFError):
    return _render("problem", 400, title="This form has expired",
                   message="The page was open too long or was sent from elsewhere. Reload it and try again.")


@bp.errorhandler(429)
def _too_many(exc):
    return _render("problem", 429, title="Too many attempts",
                   message="Please wait a minute, then reload the page and try again.")


# --- pages -----------------------------------------------------------------------------------------

@bp.route("/login", methods=["GET", "POST"])
@_per_address
@_per_account
def login():
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        user = users.authenticate(form.email.data, form.password.data)
        users.record_login(form.email.data, user, "portal")
        if user is not None:
            _fresh_session()
            login_user(PortalUser(user), remember=form.remember.data)
            return go(safe_next(form.next.data))
        form.form_errors.append(WRONG_LOGIN)
    return _render("login", _form_status(form), form=form)


@bp.route("/logout", methods=["GET", "POST"])
def logout():
    form = LogoutForm()
    if form.validate_on_submit():
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
            _show_errors(form, exc)
        else:  # the same answer whether or not the address had an account (no user enumeration)
            flash("Account created — you can log in now.", "success")
            return go(url_for(".login"))
    return _render("signup", _form_status(form), form=form)


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
@_per_address
def password():
    form = PasswordChangeForm()
    if form.validate_on_submit():
        try:
            users.change_password(users.get_user(current_user.id), form.old_password.data, form.new_password.data)
        except Invalid as exc:
            _show_errors(form, exc, {"password": "new_password"})
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
                _show_errors(form, exc, {"password": "new_password"})
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
    server (which verifies it with the identity public key). CSRF-checked like every portal POST."""
    ttl = min(300, _config("ACCESS_TOKEN_TTL"))
    token = issue_access_token(current_user, current_app.extensions["identity_keys"], issuer=_config("TOKEN_ISSUER"),
                               audience=_config("TOKEN_AUDIENCE"), ttl=ttl)
    return jsonify(access_token=token, token_type="Bearer", expires_in=ttl)
