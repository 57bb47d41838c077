"""The FestivalsApp application factory."""
from __future__ import annotations

import os

from flask import Flask

VERSION = "0.1.0"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def create_app(config: dict | None = None) -> Flask:
    from app.config import instance_path, load_config
    from app.db import init_db
    from app.extensions import csrf
    from app.logs import configure_logging
    from app.requests import init_requests
    from app.services.users import configure_hasher

    config = dict(config or {})
    instance = os.path.abspath(config.pop("INSTANCE_PATH", None) or instance_path())
    app = Flask(__name__, instance_path=instance, template_folder=os.path.join(ROOT, "templates"),
                static_folder=os.path.join(ROOT, "static"))
    app.config.update(load_config(instance))
    app.config.update(config)
    app.config["VERSION"] = VERSION

    configure_logging(app.config["LOG_FORMAT"], app.config["LOG_LEVEL"])
    configure_hasher(app.config["ARGON2_TIME_COST"], app.config["ARGON2_MEMORY_COST"])
    init_requests(app)  # request ids first: every later hook, log line and error response uses them
    csrf.init_app(app)
    init_db(app)
    _init_identity(app)
    _register_blueprints(app, csrf)
    _register_cli(app)
    return app


def _init_identity(app: Flask) -> None:
    from identity import init_identity

    init_identity(app)


def _register_blueprints(app: Flask, csrf) -> None:
    import ops
    import portal
    from api import docs, resources
    from identity import views as identity_views
    from ops import vendor

    app.url_map.converters["entity"] = resources.EntityConverter
    app.url_map.converters["id"] = resources.IdConverter
    # The API and the identity JSON routes authenticate with tokens and keys, never cookies:
    # CSRF protection does not apply to them.
    csrf.exempt(resources.bp)
    csrf.exempt(identity_views.bp)
    blueprints = [
        ops.bp,  # /health /ready /version /info
        vendor.bp,  # /static/vendor/<npm package>/...
        identity_views.bp,  # /identity
        resources.bp,  # /api/v1
        docs.bp,  # /api/docs, /api/v1/openapi.json
        portal.bp,  # /
    ]
    for blueprint in blueprints:
        app.register_blueprint(blueprint)


def _register_cli(app: Flask) -> None:
    from app.cli import commands

    for command in commands:
        app.cli.add_command(command)
