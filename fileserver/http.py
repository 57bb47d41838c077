"""Per-request plumbing of the file server: request ids and one log line per request (common/http.py),
CORS for the write routes, and the error envelope `{"error": ...}` for every 4xx/5xx."""

from __future__ import annotations

import logging

from flask import Flask, Response, g, request
from werkzeug.exceptions import HTTPException

from common.http import http_error, init_request_ids, json_response
from common.logs import loggable_path

log = logging.getLogger("festivals.files")
CORS_METHODS = "GET, HEAD, POST, DELETE, OPTIONS"
CORS_HEADERS = "Authorization, Content-Type, X-Request-ID"


class FilesError(Exception):
    """An expected refusal: answered with its status and message in the envelope."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


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
    init_request_ids(files, log)

    @files.before_request
    def _start():
        request.environ["festivals.portal_origins"] = origins
        if request.method == "OPTIONS" and request.headers.get("Access-Control-Request-Method"):
            return Response(status=204)  # a CORS preflight: answered by _finish's headers

    @files.after_request
    def _finish(response: Response):
        _cors(response)
        return response

    @files.errorhandler(FilesError)
    def _refused(exc: FilesError):
        return error_response(exc.status, exc.message)

    @files.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        messages = {
            404: "not found",
            405: "method not allowed",
            413: f"the upload is larger than the limit of {files.config['MAX_UPLOAD_BYTES']} bytes",
        }
        return http_error(exc, messages, error_response)

    @files.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unexpected error on %s %s", request.method, loggable_path(request.path))
        return error_response(500, "internal error")
