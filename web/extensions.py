"""Extension singletons, bound to an app in create_app with init_app."""

from flask import current_app, request, session
from flask_limiter import Limiter
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect
from htmx_flask import Htmx

from app.services.throttle import init_throttle
from web.requests import client_key


class SessionLoginManager(LoginManager):
    """flask-login, whose remember-me cookie hook has nothing to do without a session (an API request without
    cookies gets Flask's null session: web/session.py)."""

    def _update_remember_cookie(self, response):
        if current_app.session_interface.is_null_session(session):
            return response
        return super()._update_remember_cookie(response)


csrf = CSRFProtect()
login_manager = SessionLoginManager()
htmx = Htmx()  # request.htmx (HX-* request headers) for web/htmx.py
# No default limits: only signups are limited here (identity/views.py, identity/pages.py); password checks by
# app/services/throttle.py. Keyed on the whole client address, behind the gateway too.
LIMITED_BLUEPRINTS = ("identity", "identity_pages")  # the only routes with limits (decorated there)


class BlueprintLimiter(Limiter):
    """Checks limits on LIMITED_BLUEPRINTS' requests only. Other requests skip the limiter's whole evaluation
    (a request filter still left it an eighth of an uncached API read's time)."""

    def _check_request_limit(self, callable_name: str | None = None, in_middleware: bool = True) -> None:
        if request.blueprint in LIMITED_BLUEPRINTS:
            super()._check_request_limit(callable_name, in_middleware)


limiter = BlueprintLimiter(key_func=lambda: client_key(), default_limits=[], headers_enabled=True)


def where_limited(hook):
    """One of the limiter's after or teardown hooks (rate-limit headers, its per-request state), run on
    LIMITED_BLUEPRINTS' requests only: elsewhere no limit was checked, so it has nothing to do."""

    def run(value):
        return hook(value) if request.blueprint in LIMITED_BLUEPRINTS else value

    return run


def _limiter_hooks_where_limited(app) -> None:
    app.after_request_funcs[None] = [
        where_limited(hook) if getattr(hook, "args", None) == (limiter,) else hook  # partial(Limiter...., limiter)
        for hook in app.after_request_funcs[None]
    ]
    app.teardown_request_funcs[None] = [
        where_limited(hook) if getattr(hook, "__self__", None) is limiter else hook
        for hook in app.teardown_request_funcs[None]
    ]


def init_extensions(app) -> None:
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config.get("REDIS_URL") or "memory://")
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    app.config.setdefault("RATELIMIT_STRATEGY", "moving-window")
    app.config.setdefault("RATELIMIT_KEY_PREFIX", app.config["RATE_LIMIT_PREFIX"])
    init_throttle(app)
    csrf.init_app(app)
    htmx.init_app(app)
    limiter.init_app(app)
    _limiter_hooks_where_limited(app)
    login_manager.init_app(app)
    login_manager.login_view = "identity_pages.login"
    login_manager.session_protection = "strong"
