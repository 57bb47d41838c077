"""Per-request plumbing of the file server: request ids, one log line per request, CORS for the write
routes, and the error envelope `{"error": ...}` for every 4xx/5xx (a small copy of the app's, by design:
the file server shares no code path with the app)."""
from __future__ import annotations

import logging
import re
import sys
import time
import uuid
from datetime import UTC, datetime

import orjson
from flask import Flask, Response, g, has_request_context, request
from werkzeug.exceptions import HTTPException

log = logging.getLogger("festivals.files")
REQUEST_ID = re.compile(r"^[A-Za-z0-9._:@/+=-]{1,128}$")
CORS_METHODS = "GET, HEAD, POST, DELETE, OPTIONS"
CORS_HEADERS = "Authorization, Content-Type, X-Request-ID"


class FilesError(Exception):
    """An expected refusal: answered with its status and message in the envelope."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def json_response(payload, status: int = 200) -> Response:
    return Response(orjson.dumps(payload), status=status, mimetype="application/json")


def data_response(objects: list, status: int = 200) -> Response:
    return json_response({"data": objects}, status)


def error_response(status: int, message: str) -> Response:
    body = {"error": message}
    if status >= 500:
        body["request_id"] = g.get("request_id", "")
    response = json_response(body, status)
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="festivals"'
    response.headers["Cache-Control"] = "no-store"
    return response


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = g.get("request_id", "-") if has_request_context() else "-"
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {"time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
                 "level": record.levelname.lower(), "logger": record.name,
                 "request_id": getattr(record, "request_id", "-"), "message": record.getMessage()}
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(entry).decode()


def configure_logging(log_format: str, level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter() if log_format == "json" else logging.Formatter(
        "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"))
    log.handlers[:] = [handler]
    log.setLevel(level.upper())
    log.propagate = False


def _cors(response: Response) -> None:
    origin = request.headers.get("Origin", "").rstrip("/")
    if not origin:
        return
    response.vary.add("Origin")
    if request.method in ("GET", "HEAD"):
        response.headers["Access-Control-Allow-Origin"] = "*"  # public files: any page may show them
    elif origin in request.environ.get("festivals.portal_origins", ()):
        response.headers["Access-Control-Allow-Origin"] = origin
    else:
        return
    response.headers["Access-Control-Expose-Headers"] = "ETag, X-Request-ID"
    if request.method == "OPTIONS":
        response.headers["Access-Control-Allow-Methods"] = CORS_METHODS
        response.headers["Access-Control-Allow-Headers"] = CORS_HEADERS
        response.headers["Access-Control-Max-Age"] = "600"


def init_http(files: Flask) -> None:
    origins = frozenset(files.config["PORTAL_ORIGINS"])

    @files.before_request
    def _start():
        g.started = time.perf_counter()
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = incoming if REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request.environ["festivals.portal_origins"] = origins
        if request.method == "OPTIONS" and request.headers.get("Access-Control-Request-Method"):
            return Response(status=204)  # a CORS preflight: answered by _finish's headers

    @files.after_request
    def _finish(response: Response):
        response.headers["X-Request-ID"] = g.get("request_id", "")
        _cors(response)
        duration = (time.perf_counter() - g.get("started", time.perf_counter())) * 1000
        log.info("%s %s %s %.1fms", request.method, request.path, response.status_code, duration)
        return response

    @files.errorhandler(FilesError)
    def _refused(exc: FilesError):
        return error_response(exc.status, exc.message)

    @files.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        messages = {404: "not found", 405: "method not allowed",
                    413: f"the upload is larger than the limit of {files.config['MAX_UPLOAD_BYTES']} bytes"}
        response = error_response(exc.code or 500, messages.get(exc.code, exc.description or exc.name))
        if exc.code == 405 and getattr(exc, "valid_methods", None):
            response.headers["Allow"] = ", ".join(exc.valid_methods)
        return response

    @files.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unexpected error on %s %s", request.method, request.path)
        return error_response(500, "internal error")
