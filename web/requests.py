"""Per-request plumbing: request ids and access log lines (common/http.py), the JSON body, and the error
envelope for API/identity paths."""

from __future__ import annotations

import hashlib
import hmac
import logging

import orjson
from flask import Flask, current_app, g, request
from peewee import InterfaceError, InternalError, OperationalError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from app.errors import DomainError, Invalid
from common.http import CLIENT_HEADER, http_error, init_request_ids
from common.logs import loggable_path
from web.responses import error_response

log = logging.getLogger("festivals.request")
JSON_PREFIXES = ("/api", "/identity", "/metrics")
READ_ONLY_TRANSACTION = "25006"  # PostgreSQL: a write in a read-only transaction


def large_body(view):
    """Marks a view whose form may be as large as MAX_IMPORT_BYTES (a CSV import and the steps carrying it)."""
    view.large_body = True
    return view


def body_limit_text(limit: int) -> str:
    return f"{limit / 2**20:g} MiB" if limit >= 2**20 else f"{limit // 1024} KiB"


def client_key() -> str:
    """Who is calling, for rate limits: behind the gateway the visitor's whole address (its CLIENT_HEADER:
    X-Forwarded-For is masked to the /24, shared by neighbours), else the TCP peer. A keyed hash: neither
    the limits' store nor a log line ever holds the address."""
    address = request.headers.get(CLIENT_HEADER) if current_app.config["BEHIND_PROXY"] else None
    address = address or request.remote_addr or ""
    secret = current_app.config["SECRET_KEY"]
    secret = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(secret, address.encode(), hashlib.sha256).hexdigest()[:32]


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


def database_cause(exc: BaseException) -> str:
    """The error and what it happened while handling (a failed ROLLBACK must not hide why it was needed)."""
    causes, seen = [], set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if not causes or str(exc) not in causes[-1]:  # peewee's wrapper of a driver error says the same
            causes.append(f"{type(exc).__name__}: {exc}".strip())
        exc = exc.__cause__ or exc.__context__
    return " <- while handling ".join(causes)


def init_requests(app: Flask) -> None:
    init_request_ids(app, log)

    @app.before_request  # before CSRFProtect reads the form
    def _body_limit():
        if getattr(app.view_functions.get(request.endpoint or ""), "large_body", False):
            # the form around the file, and a browser's CRLF line breaks in a carried text
            limit = app.config["MAX_IMPORT_BYTES"]
            request.max_content_length = request.max_form_memory_size = limit + limit // 16 + 64 * 1024

    @app.after_request
    def _api_version(response):
        if request.path.startswith("/api"):
            response.headers["API-Version"] = "1"
        return response

    @app.errorhandler(DomainError)
    def _domain_error(exc: DomainError):
        headers = {"Retry-After": str(exc.retry_after)} if getattr(exc, "retry_after", None) else {}
        if wants_json():
            response = error_response(exc.status, exc.message, exc.fields)
            response.headers.update(headers)
            return response
        return exc.message, exc.status, headers

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        if not wants_json():
            return exc
        messages = {
            404: "not found",
            405: "method not allowed",
            413: "the request body is larger than the limit of 1 MiB",
        }
        return http_error(exc, messages, error_response)

    @app.errorhandler(InternalError)
    def _database_internal(exc: InternalError):
        if getattr(getattr(exc, "orig", None), "pgcode", None) == READ_ONLY_TRANSACTION:  # the driver's error
            return _database_down(exc)  # a standby, or writes turned off: like a database that is down
        return _unexpected(exc)

    @app.errorhandler(InterfaceError)  # e.g. "connection already closed": the server went away mid-request
    @app.errorhandler(OperationalError)
    def _database_down(exc: Exception):
        log.error("database unavailable on %s %s: %s", request.method, loggable_path(request.path), database_cause(exc))
        if wants_json():
            response = error_response(503, "the database is unavailable; try again shortly")
            response.headers["Retry-After"] = "5"
            return response
        return "the database is unavailable; try again shortly", 503

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unexpected error on %s %s", request.method, loggable_path(request.path))
        if wants_json():
            return error_response(500, "internal error")
        return f"internal error (request id {g.get('request_id', '')})", 500
