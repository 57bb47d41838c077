"""Front-end packages installed from npm at set-up, served from our own static route (no CDN, nothing
copied into the repository). Only the packages listed here are reachable."""

from __future__ import annotations

import os

from flask import Blueprint, abort, current_app, send_from_directory
from werkzeug.routing import BaseConverter

bp = Blueprint("vendor", __name__, url_prefix="/static/vendor")

PACKAGES = {
    "htmx.org": "dist",
    "swagger-ui-dist": "",
    "@picocss/pico": "css",
}


class PackageConverter(BaseConverter):
    """An npm package name, scoped ones ("@picocss/pico") included."""

    regex = r"(?:@[^/]+/)?[^/]+"


@bp.record_once
def _register_converter(state) -> None:
    state.app.url_map.converters["npm_package"] = PackageConverter
    # Browsers ask for /favicon.ico on pages without an icon link (a JSON answer opened in a tab): no 404s.
    state.app.add_url_rule("/favicon.ico", "favicon", lambda: current_app.send_static_file("favicon.ico"))


@bp.get("/<npm_package:package>/<path:filename>")
def asset(package: str, filename: str):
    if package not in PACKAGES:
        abort(404)
    root = os.path.join(current_app.root_path, os.pardir, "node_modules", package, PACKAGES[package])
    # send_from_directory refuses paths that leave `root`.
    return send_from_directory(os.path.abspath(root), filename, max_age=86400)
