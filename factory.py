"""The FestivalsApp application factory, the composition root: config → plumbing → database → faces (identity,
web, and for the full app only api/ and portal/) → CLI. The one module that imports every face; wsgi.py builds
the processes' apps with it."""

from __future__ import annotations

import logging
import os

from flask import Flask

from app import ROOT, VERSION
from app.config import load_config
from app.db import init_db
from app.services.users import configure_hasher
from common.http import FromGateway
from common.logs import configure_logging
from common.metrics import count_answer, init_metrics
from common.pki import ExpiryWatch
from common.settings import AppSettings, load
from common.tls import TlsFiles
from identity import init_identity
from identity import pages as identity_pages
from identity import views as identity_views
from identity.principal import require_admin_token
from tools.cli import commands
from web import ops, vendor
from web.converters import IdConverter
from web.extensions import csrf, init_extensions
from web.headers import init_security_headers
from web.requests import init_requests
from web.session import init_session


def create_app(config: dict | None = None, *, identity_only: bool = False) -> Flask:
    """The festivals app (API, portal, identity). With identity_only, the identity service alone,
    to run as its own process (`gunicorn wsgi:identity_app`)."""
    config = dict(config or {})
    settings = load(AppSettings)  # once, at the start: a wrong value stops it, naming the variable
    instance = os.path.abspath(config.pop("INSTANCE_PATH", None) or settings.instance_path)
    app = Flask(
        "app",  # named after the domain package as always: logger "app", root path app/
        instance_path=instance,
        template_folder=os.path.join(ROOT, "templates"),
        static_folder=os.path.join(ROOT, "static"),
    )
    app.config.update(load_config(instance, settings))
    app.config.update(config)
    app.config["VERSION"] = VERSION

    if not identity_only:
        _init_api_reads(app)  # inside ProxyFix, which must come first
    if app.config["BEHIND_PROXY"]:
        # exactly one hop, the gateway's: its X-Forwarded-For (the masked address) becomes remote_addr
        app.wsgi_app = FromGateway(app.wsgi_app)
    configure_logging("festivals", app.config["LOG_FORMAT"], app.config["LOG_LEVEL"], app.config["LOG_HEALTH"])
    configure_hasher(app.config["ARGON2_TIME_COST"], app.config["ARGON2_MEMORY_COST"])
    init_requests(app)  # request ids first: every later hook, log line and error response uses them
    init_security_headers(app)  # CSP, frame-ancestors, nosniff, Referrer-Policy, Permissions-Policy, HSTS
    init_extensions(app)
    init_db(app)
    _init_metrics(app)
    _init_tls(app)
    _init_identity(app, identity_only)
    _register_blueprints(app, csrf, identity_only)
    _register_cli(app)
    return app


def create_identity_app(config: dict | None = None) -> Flask:
    return create_app(config, identity_only=True)


def _init_metrics(app: Flask) -> None:
    """Request, database and cache metrics, and GET /metrics for loopback callers and admins (common/metrics.py)."""

    init_metrics(app, lambda: require_admin_token("read the metrics"), app.extensions["database"])
    if "fast_reads" in app.extensions:
        app.extensions["fast_reads"].observers.append(count_answer)  # answers made below Flask count too


def _init_api_reads(app: Flask) -> None:
    """The API's read cache, and its hits and 304s answered below Flask (api/fast_reads.py) unless FAST_READS
    is False (the API's read tests run both ways). Imported here: the identity process loads no api/ module."""
    from api.fast_reads import init_fast_reads
    from api.read_cache import init_read_cache

    init_read_cache(app)
    if app.config.setdefault("FAST_READS", True):
        init_fast_reads(app)


def _init_tls(app: Flask) -> None:
    """Checks the TLS settings (all three or none) and warns about certificates close to expiry."""
    files = TlsFiles(app.config["TLS_CERT"], app.config["TLS_KEY"], app.config["TLS_CA"])
    files.check()
    app.extensions["tls"] = files
    watch = ExpiryWatch([os.path.join(app.instance_path, "pki"), files.cert, files.ca], app.config["TLS_WARN_DAYS"])
    app.extensions["certificates"] = watch
    watch.warn(logging.getLogger("festivals.tls"))


def _init_identity(app: Flask, identity_only: bool) -> None:
    init_identity(app, identity_only)
    init_session(app)  # the portal session cookie (Secure over HTTPS) and remember-me settings


def _register_blueprints(app: Flask, csrf, identity_only: bool) -> None:
    """The identity service alone loads no api/ or portal/ module (it runs as its own process): they are
    imported here, for the full app only."""
    app.url_map.converters["id"] = IdConverter
    # The API and the identity JSON routes authenticate with tokens and keys, never cookies:
    # CSRF protection does not apply to them.
    csrf.exempt(identity_views.bp)
    blueprints = [
        ops.bp,  # /health /ready /version /info
        vendor.bp,  # /static/vendor/<npm package>/...
        identity_views.bp,  # /identity (JSON)
        identity_pages.bp,  # /login /logout /signup /account/password /reset/<token>
    ]
    if not identity_only:
        import portal
        from api import docs, exports, members, resources  # noqa: F401  (exports, members add routes to the API's)
        from portal import admin as portal_admin

        app.url_map.converters["entity"] = resources.EntityConverter
        csrf.exempt(resources.bp)
        blueprints += [
            resources.bp,  # /api/v1
            docs.bp,  # /api/docs, /api/v1/openapi.json
            portal.bp,  # / (organizers' portal)
            portal_admin.bp,  # /admin (admins' pages)
        ]
    for blueprint in blueprints:
        app.register_blueprint(blueprint)


def _register_cli(app: Flask) -> None:
    for command in commands:
        app.cli.add_command(command)
