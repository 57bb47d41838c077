"""FestivalsAPI v1: JSON only, Api-Key or Bearer token only (hence exempt from CSRF)."""
from __future__ import annotations

from flask import Blueprint, current_app, g, request

from app.errors import ReadOnly
from identity.principal import resolve_actor

READ_METHODS = ("GET", "HEAD", "OPTIONS")


def create_api_blueprint() -> Blueprint:
    from api import resources

    bp = Blueprint("api", __name__, url_prefix="/api/v1")

    @bp.before_request
    def _authenticate():
        if current_app.config["READ_ONLY"] and request.method not in READ_METHODS:
            raise ReadOnly("this server is read-only")
        g.actor = resolve_actor()

    @bp.after_request
    def _cache_headers(response):
        response.headers["Cache-Control"] = "no-cache"
        response.vary.update(("Authorization", "Api-Key"))
        if request.method == "GET" and response.status_code == 200:
            response.add_etag()
            response.make_conditional(request)
        return response

    bp.register_blueprint(resources.bp)
    return bp
