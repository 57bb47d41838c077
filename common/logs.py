"""Logging: one line per event, plain text or JSON (FESTIVALS_LOG_FORMAT), each with the request id; no
secret of a URL path (the password-reset token) and, unless FESTIVALS_LOG_HEALTH says so, no access line of a
health check (the gateway asks every instance each second)."""

from __future__ import annotations

import logging
import re
import sys
from datetime import UTC, datetime

import orjson
from flask import g, has_request_context

TEXT_FORMAT = "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"
EXTRA_KEYS = ("method", "path", "status", "duration_ms", "client")  # the access log line's fields
HEALTH_PATHS = frozenset({"/health", "/ready"})
# A secret in a URL path (RE2 and Python syntax: Caddy's access log filter uses it too): the reset token
SECRET_PATH = r"(?i)(/reset/)[^/?#\s]+"
_SECRET_PATH = re.compile(SECRET_PATH)
REDACTED = "REDACTED"


def loggable_path(path: str) -> str:
    """`path` (or a request line, a URL) with its secrets replaced."""
    return _SECRET_PATH.sub(r"\1" + REDACTED, path)


class HealthFilter(logging.Filter):
    """Drops the access lines of health checks."""

    def filter(self, record: logging.LogRecord) -> bool:
        return getattr(record, "path", None) not in HEALTH_PATHS


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):  # given as `extra` by code answering outside Flask (api/fast_reads.py)
            record.request_id = g.get("request_id", "-") if has_request_context() else "-"
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "request_id": getattr(record, "request_id", "-"),
            "message": record.getMessage(),
        }
        for key in EXTRA_KEYS:
            if hasattr(record, key):
                entry[key] = getattr(record, key)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(entry).decode()


def configure_logging(logger: str, log_format: str, level: str, log_health: bool = False) -> None:
    """Everything logged under `logger` goes to stderr, one line each; nothing propagates further."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RequestIdFilter())
    if not log_health:
        handler.addFilter(HealthFilter())
    handler.setFormatter(JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger(logger)
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    root.propagate = False
