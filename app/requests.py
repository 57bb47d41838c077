"""Per-request plumbing: request ids, access log lines, the error envelope for API/identity paths."""
from __future__ import annotations

import logging
import re
import time
import uuid

import orjson
from flask import Flask, g, request
from peewee import OperationalError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from app.errors import DomainError, Invalid
from app.responses import error_response

log = logging.getLogger("festivals.request")
REQUEST_ID = re.compile(r"^[A-Za-z0-9._:@/+=-]{1,128}$")
JSON_PREFIXES = ("/api", "/identity", "/loversear")


def wants_json() -> bool:
    return request.path.startswith(JSON_PREFIXES)


def json_body():
    """The parsed JSON body (None when empty). 413 past MAX_CONTENT_LENGTH also for a chunked body: werkzeug
    stops reading such a body at the limit without saying so, which would cut it into invalid JSON."""
    raw = request.get_data(cache=True)
    limit = request.max_content_length
    if limit is not None and request.content_length is None and len(raw) >= limit:
        raise RequestEntityTooLarge()
    if not raw.strip():
        return None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise Invalid(f"the request body is not valid JSON ({exc.args[0]})") from None


def init_requests(app: Flask) -> None:
    @app.before_request
    def _request_id():
        g.started = time.perf_counter()
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = incoming if REQUEST_ID.match(incoming) else uuid.uuid4().hex

    @app.after_request
    def _finish(response):
        response.headers["X-Request-ID"] = g.get("request_id", "")
        if request.path.startswith("/api"):
            response.headers["API-Version"] = "1"
        duration = (time.perf_counter() - g.get("started", time.perf_counter())) * 1000
        log.info("%s %s %s %.1fms", request.method, request.path, response.status_code, duration,
                 extra={"method": request.method, "path": request.path, "status": response.status_code,
                        "duration_ms": round(duration, 1)})
        return response

    @app.errorhandler(DomainError)
    def _domain_error(exc: DomainError):
        if wants_json():
            return error_response(exc.status, exc.message, exc.fields)
        return exc.message, exc.status

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        if not wants_json():
            return exc
        messages = {404: "not found", 405: "method not allowed",
                    413: "the request body is larger than the limit of 1 MiB"}
        response = error_response(exc.code or 500, messages.get(exc.code, exc.description or exc.name))
        if exc.code == 405 and getattr(exc, "valid_methods", None):
            response.headers["Allow"] = ", ".join(exc.valid_methods)
        return response

    @app.errorhandler(OperationalError)
    def _database_down(exc: OperationalError):
        log.error("database unavailable on %s %s: %s", request.method, request.path, exc)
        if wants_json():
            response = error_response(503, "the database is unavailable; try again shortly")
            response.headers["Retry-After"] = "5"
            return response
        return "the database is unavailable; try again shortly", 503

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unexpected error on %s %s", request.method, request.path)
        if wants_json():
            return error_response(500, "internal error")
        return f"internal error (request id {g.get('request_id', '')})", 500
