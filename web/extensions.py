"""Extension singletons, bound to an app in create_app with init_app."""

from flask import request
from flask_limiter import Limiter
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect
from htmx_flask import Htmx

from app.services.throttle import init_throttle
from web.requests import client_key

csrf = CSRFProtect()
login_manager = LoginManager()
htmx = Htmx()  # request.htmx (HX-* request headers) for web/htmx.py
# No default limits: only signups are limited here (identity/views.py, identity/pages.py); password checks by
# app/services/throttle.py. Keyed on the whole client address, behind the gateway too.
limiter = Limiter(key_func=lambda: client_key(), default_limits=[], headers_enabled=True)
LIMITED_BLUEPRINTS = ("identity", "identity_pages")  # the only routes with limits (decorated there)


@limiter.request_filter
def _no_limits_here() -> bool:
    """Other requests skip the limiter's evaluation: it cost an API read more than its own queries."""
    return request.blueprint not in LIMITED_BLUEPRINTS


def init_extensions(app) -> None:
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config.get("REDIS_URL") or "memory://")
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    app.config.setdefault("RATELIMIT_STRATEGY", "moving-window")
    app.config.setdefault("RATELIMIT_KEY_PREFIX", app.config["RATE_LIMIT_PREFIX"])
    init_throttle(app)
    csrf.init_app(app)
    htmx.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "identity_pages.login"
    login_manager.session_protection = "strong"
