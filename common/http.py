"""Per-request plumbing every service shares: a request id (the caller's X-Request-ID when it looks sane,
else a new one; behind the gateway Caddy's) on `g`, in the response, in every log line and on every call to
another service made while answering (`passed_on()`), and one access log line per request."""

from __future__ import annotations

import logging
import re
import time
import uuid

import orjson
from flask import Flask, Response, g, has_request_context, request

from common import pki
from common.logs import loggable_path

REQUEST_ID_CHARS = r"[A-Za-z0-9._:@/+=-]{1,128}"  # also Caddy's test of a client's id (gateway/caddy.py)
REQUEST_ID = re.compile(f"^{REQUEST_ID_CHARS}$")
# The visitor's whole address, set by the gateway (X-Forwarded-For carries only its /24 or /48): what rate
# limits tell clients apart by (web/requests.client_key); never logged.
CLIENT_HEADER = "X-Festivals-Client"


def json_response(payload, status: int = 200, headers: dict | None = None) -> Response:
    response = Response(orjson.dumps(payload), status=status, mimetype="application/json")
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def request_id(incoming: str) -> str:
    """The caller's X-Request-ID when it looks sane, else a new one."""
    return incoming if REQUEST_ID.match(incoming) else uuid.uuid4().hex


def passed_on() -> dict:
    """The headers of a call to another service made while answering a request: its request id."""
    rid = g.get("request_id") if has_request_context() else None
    return {"X-Request-ID": rid} if rid else {}


def peer_certificate() -> bytes:
    """The client certificate (DER) that gunicorn's TLS socket verified for this request; b"" without TLS or
    without a certificate."""
    getpeercert = getattr(request.environ.get("gunicorn.socket"), "getpeercert", None)
    return (getpeercert(True) or b"") if getpeercert else b""


def peer_role() -> str | None:
    """The role (common/pki.py) of the client certificate that gunicorn's TLS socket verified for this
    request; None without TLS or without a certificate. Through the gateway the peer is Caddy (`gateway`)."""
    getpeercert = getattr(request.environ.get("gunicorn.socket"), "getpeercert", None)
    return pki.peer_role(getpeercert()) if getpeercert else None


class FromGateway:
    """werkzeug's ProxyFix for one hop (the gateway's X-Forwarded-For/-Proto/-Host: the masked address, the
    public scheme and host with its port) applied only to what the gateway sent: on an mTLS port a peer whose
    certificate is not of the role `gateway` has its X-Forwarded-*/Forwarded headers dropped, so no other
    certificate holder can pose as a visitor or make the links a service builds point elsewhere. Without TLS
    (FESTIVALS_BEHIND_PROXY on a plain port) the one hop is trusted as before."""

    def __init__(self, app):
        from werkzeug.middleware.proxy_fix import ProxyFix

        self.app, self.fixed = app, ProxyFix(app, x_for=1, x_proto=1, x_host=1)

    def __call__(self, environ, start_response):
        getpeercert = getattr(environ.get("gunicorn.socket"), "getpeercert", None)
        if getpeercert is None or pki.peer_role(getpeercert()) == "gateway":
            return self.fixed(environ, start_response)
        for key in [key for key in environ if key.startswith("HTTP_X_FORWARDED_") or key == "HTTP_FORWARDED"]:
            del environ[key]
        return self.app(environ, start_response)


def log_access(
    log: logging.Logger, method: str, path: str, status: int, duration_ms: float, client, rid: str | None = None
) -> None:
    """The one access log line of a request (`client`: behind the gateway the masked address it forwarded;
    `rid`: its request id, when answered outside a Flask request)."""
    if not log.isEnabledFor(logging.INFO):
        return
    path = loggable_path(path)
    log.info(
        "%s %s %s %.1fms from %s",
        method,
        path,
        status,
        duration_ms,
        client,
        extra={
            "method": method,
            "path": path,
            "status": status,
            "duration_ms": round(duration_ms, 1),
            "client": client,
            **({"request_id": rid} if rid is not None else {}),
        },
    )


def init_request_ids(app: Flask, log: logging.Logger) -> None:
    """Register first, so that every later hook, log line and error response has the id."""

    @app.before_request
    def _request_id():
        g.started = time.perf_counter()
        g.request_id = request_id(request.headers.get("X-Request-ID", ""))

    @app.after_request
    def _access_log(response: Response):
        response.headers["X-Request-ID"] = g.get("request_id", "")
        duration = (time.perf_counter() - g.get("started", time.perf_counter())) * 1000
        log_access(log, request.method, request.path, response.status_code, duration, request.remote_addr)
        return response


def http_error(exc, messages: dict, error_response) -> Response:
    """A werkzeug HTTPException in a service's error envelope (`error_response(status, message)`), with
    `messages` for the statuses it words itself, and the Allow header of a 405."""
    response = error_response(exc.code or 500, messages.get(exc.code, exc.description or exc.name))
    if exc.code == 405 and getattr(exc, "valid_methods", None):
        response.headers["Allow"] = ", ".join(exc.valid_methods)
    return response
